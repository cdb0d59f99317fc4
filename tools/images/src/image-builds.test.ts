import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageBuildsOfProjects, imageBuildsOfRelease } from './image-builds';
import { ImageError } from './image-error';
import { REPO_ROOT } from './workspace';

const versionOf = (dir: string) =>
  (JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('image builds for the workflows', () => {
  it('builds the Node apps from docker/app/Dockerfile and Telegraf from docker/telegraf, each at its package version', () => {
    const builds = imageBuildsOfProjects(['core', 'hal', 'telegraf', 'tunnel']);
    expect(builds.map((b) => b.image)).toEqual(['core', 'tunnel', 'telegraf']);
    expect(builds[0]).toEqual({
      image: 'core',
      package: '@growoff/core',
      version: versionOf('apps/core'),
      dockerfile: 'docker/app/Dockerfile',
      context: '.',
      buildArgs: 'APP=core\nAPP_DEPS=source',
    });
    expect(builds[2]).toEqual({
      image: 'telegraf',
      package: '@growoff/telegraf',
      version: versionOf('docker/telegraf'),
      dockerfile: 'docker/telegraf/Dockerfile',
      context: 'docker/telegraf',
      buildArgs: '',
    });
  });

  it('builds the images of a release at the versions it published, and nothing for a library', () => {
    const builds = imageBuildsOfRelease([
      { name: '@growoff/hal', version: '2.0.0' },
      { name: '@growoff/telegraf', version: '0.2.0' },
      { name: '@growoff/updater', version: '1.4.0-rc.1' },
    ]);
    expect(builds.map((b) => `${b.image}:${b.version}`)).toEqual(['updater:1.4.0-rc.1', 'telegraf:0.2.0']);
    expect(imageBuildsOfRelease([{ name: '@growoff/hal', version: '2.0.0' }])).toEqual([]);
  });

  it('refuses published packages that are not a list of names and versions, with a coded error', () => {
    for (const bad of [{}, [{ name: '@growoff/core' }], [null], 'core']) {
      expect(() => imageBuildsOfRelease(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_MESSAGE', constructor: ImageError }),
      );
    }
  });
});
