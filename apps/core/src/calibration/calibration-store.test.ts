import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CALIBRATION_FILE, CalibrationStore } from './calibration-store';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dir() {
  const d = await mkdtemp(join(tmpdir(), 'growoff-cal-'));
  dirs.push(d);
  return d;
}

describe('calibration store', () => {
  it('starts empty without a file and loads back what it saved', async () => {
    const d = await dir();
    const store = new CalibrationStore(d);
    expect(await store.load()).toEqual({ records: {} });
    const records = {
      ph: { points: [{ action: 'mid', value: 7, at: 5 }], calibratedAt: 5, offset: 0, scale: 1 },
    };
    await store.save(records);
    expect(await new CalibrationStore(d).load()).toEqual({ records });
    expect(await readdir(d)).toEqual([CALIBRATION_FILE]); // no temp file left behind
  });

  it('sets an unreadable or invalid file aside as .corrupt and starts uncalibrated', async () => {
    for (const text of [
      '{"ph": {"points": [',
      '{"ph": {"points": [], "calibratedAt": null, "offset": 0, "scale": -1}}',
    ]) {
      const d = await dir();
      await writeFile(join(d, CALIBRATION_FILE), text);
      const result = await new CalibrationStore(d).load();
      expect(result).toEqual({ records: {}, corrupt: join(d, `${CALIBRATION_FILE}.corrupt`) });
      expect(await readFile(join(d, `${CALIBRATION_FILE}.corrupt`), 'utf8')).toBe(text);
    }
  });

  it('writes concurrent saves in order: the last asked for is the one on disk', async () => {
    const d = await dir();
    const store = new CalibrationStore(d);
    const rec = (offset: number) => ({ co2: { points: [], calibratedAt: 1, offset, scale: 1 } });
    await Promise.all([1, 2, 3, 4].map((n) => store.save(rec(n))));
    expect(await store.load()).toEqual({ records: rec(4) });
  });
});
