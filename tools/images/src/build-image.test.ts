import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtBundle } from './build-image';
import { ImageError } from './image-error';

describe("an image's app bundle", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const packageDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'images-bundle-'));
    dirs.push(dir);
    return dir;
  };

  it('is the built dist/ of the app, taken as it is', () => {
    const dir = packageDir();
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist/main.js'), '');
    expect(builtBundle('tunnel', dir)).toBe(join(dir, 'dist'));
  });

  it('refuses a missing bundle with a coded error that says how to build it', () => {
    const dir = packageDir();
    mkdirSync(join(dir, 'dist')); // a cleaned dist/, its main.js not written yet
    let error: unknown;
    try {
      builtBundle('updater', dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).code).toBe('IMAGE_APP_NOT_BUILT');
    expect((error as ImageError).message).toContain(`${join(dir, 'dist')}/main.js is missing`);
    expect((error as ImageError).message).toContain('pnpm exec nx run updater:build');
  });
});
