import { HalError } from '../errors';

/** What a probe or gas sensor can be told about a reference it sits in. */
export type CalibrationAction = 'mid' | 'low' | 'high' | 'dry' | 'single' | 'clear' | 'forced';

export interface CalibrationCommand {
  action: CalibrationAction;
  /** The reference: pH of the buffer, EC (µS/cm) of the solution, CO2 (ppm) of the air. */
  value?: number;
}

/** The device's own account of its calibration (EZO `?CAL,n`; SCD4x: the last FRC correction). */
export interface DeviceCalibration {
  /** Calibration points the device holds, or null when it does not count them. */
  points: number | null;
  /** SCD4x forced recalibration: the correction it applied, in ppm. */
  correction?: number;
}

// EZO pH datasheet "Calibration": mid first (it clears low and high), then low, then high.
export const EZO_PH_ACTIONS: readonly CalibrationAction[] = ['mid', 'low', 'high', 'clear'];
// EZO EC datasheet "Calibration": dry first, then a single point or low then high.
export const EZO_EC_ACTIONS: readonly CalibrationAction[] = ['dry', 'single', 'low', 'high', 'clear'];
// SCD4x datasheet §3.7.1 perform_forced_recalibration.
export const SCD4X_ACTIONS: readonly CalibrationAction[] = ['forced'];
/** §3.7.1: the target concentration is a 16-bit ppm word; outdoor air is ~400 ppm. */
export const SCD4X_FRC_RANGE = { min: 300, max: 5000 } as const;

function needValue(c: CalibrationCommand, min: number, max: number, what: string): number {
  const v = c.value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new HalError('HAL_BAD_COMMAND', `calibration "${c.action}" needs ${what} within ${min}..${max}`);
  }
  return v;
}

/** The EZO ASCII command of a calibration step, as the datasheet spells it. */
export function ezoCalibrationText(kind: 'ph' | 'ec', c: CalibrationCommand): string {
  if (c.action === 'clear') return 'Cal,clear';
  if (kind === 'ph') {
    if (c.action === 'mid' || c.action === 'low' || c.action === 'high')
      return `Cal,${c.action},${needValue(c, 0, 14, 'the buffer pH').toFixed(2)}`;
  } else {
    if (c.action === 'dry') return 'Cal,dry';
    const ec = () => Math.round(needValue(c, 1, 500_000, 'the solution EC in µS/cm'));
    if (c.action === 'single') return `Cal,${ec()}`;
    if (c.action === 'low' || c.action === 'high') return `Cal,${c.action},${ec()}`;
  }
  throw new HalError('HAL_BAD_COMMAND', `an EZO ${kind} circuit has no "${c.action}" calibration`);
}

/** `?CAL,n` → n. */
export function parseEzoCalibration(text: string, device: string): number {
  const m = /^\?CAL,(\d)$/i.exec(text);
  if (!m) throw new HalError('HAL_DEVICE_ERROR', `${device}: unreadable calibration state "${text}"`);
  return Number(m[1]);
}
