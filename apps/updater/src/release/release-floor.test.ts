import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readReleaseFloor } from './release-floor';

describe('readReleaseFloor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'release-floor-'));

  it('reads the number the installer wrote, and 1 without a file', () => {
    writeFileSync(join(dir, 'floor'), '1234\n');
    expect(readReleaseFloor(join(dir, 'floor'))).toBe(1234);
    expect(readReleaseFloor(join(dir, 'missing'))).toBe(1);
  });

  it('refuses a file that is not one whole number with CONFIG_INVALID naming the variable', () => {
    for (const text of ['', 'abc', '0', '-3', '12 13', '1.5']) {
      writeFileSync(join(dir, 'bad'), text);
      expect(() => readReleaseFloor(join(dir, 'bad')), text).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining('GROWOFF_RELEASE_FLOOR_FILE'),
        }),
      );
    }
  });
});
