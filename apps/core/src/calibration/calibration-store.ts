import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { CalibrationPoint, validate } from '@growoff/protocol';
import { writeFileAtomic } from '../state/atomic-file';

export const CALIBRATION_FILE = 'calibration.json';

const SensorCalibration = Type.Object({
  points: Type.Array(CalibrationPoint),
  calibratedAt: Type.Union([Type.Integer(), Type.Null()]),
  offset: Type.Number(),
  scale: Type.Number({ exclusiveMinimum: 0 }),
});
export type SensorCalibration = Static<typeof SensorCalibration>;
const CalibrationFile = Type.Record(Type.String(), SensorCalibration);

export const UNCALIBRATED: SensorCalibration = { points: [], calibratedAt: null, offset: 0, scale: 1 };

/**
 * Calibration records by sensor in the data dir, replaced whole (temp file, fsync, rename) so a
 * power cut leaves the old or the new file. An unreadable file is set aside as `.corrupt` and the
 * core starts uncalibrated in software (the probes keep their own calibration) rather than not at all.
 */
export class CalibrationStore {
  private readonly file: string;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = join(dataDir, CALIBRATION_FILE);
  }

  async load(): Promise<{ records: Record<string, SensorCalibration>; corrupt?: string }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: {} };
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const checked = validate(CalibrationFile, parsed);
    if (checked.ok) return { records: checked.value };
    const aside = `${this.file}.corrupt`;
    await rename(this.file, aside);
    return { records: {}, corrupt: aside };
  }

  /** Saves are serialised: the last one written is the last one asked for. */
  save(records: Record<string, SensorCalibration>): Promise<void> {
    const text = `${JSON.stringify(records, null, 2)}\n`;
    const run = this.chain.then(() => writeFileAtomic(this.file, text));
    this.chain = run.catch(() => undefined);
    return run;
  }
}
