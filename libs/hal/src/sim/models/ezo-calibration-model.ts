/**
 * The calibration an EZO circuit keeps in its EEPROM, as its datasheet describes it: it maps what
 * the probe measures (raw) to what the circuit reports. Steps are taken in the simulated reservoir,
 * so a test "moves the probe into a buffer" by setting the simulated water's pH or EC first.
 */
export interface EzoCalibrationModel {
  /** Applies "Cal,..." (after the command name); false when the circuit refuses it (code 2). */
  apply(args: string[], raw: number): boolean;
  /** The answer to "Cal,?": how many points are held. */
  points(): number;
  /** The reported value for a raw probe value. */
  report(raw: number): number;
}

/** Two references closer than this cannot give a slope: the probe never left the first solution. */
const MIN_PH_SPAN = 0.5;
const MIN_EC_SPAN_FRACTION = 0.1;

const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? NaN : Number(s));

/** pH: mid sets the offset and clears low and high; low and high set the slope on their side of mid. */
export function phCalibration(): EzoCalibrationModel {
  let mid: { raw: number; value: number } | undefined;
  let low: { raw: number; value: number } | undefined;
  let high: { raw: number; value: number } | undefined;
  const sideOk = (raw: number, value: number) =>
    mid !== undefined && Math.abs(raw - mid.raw) >= MIN_PH_SPAN && Math.abs(value - mid.value) >= MIN_PH_SPAN;
  return {
    apply(args, raw) {
      const [point, arg] = args;
      const value = num(arg);
      if (point === 'clear' && arg === undefined) {
        mid = low = high = undefined;
        return true;
      }
      if (!Number.isFinite(value) || value < 0 || value > 14) return false;
      if (point === 'mid') {
        mid = { raw, value };
        low = high = undefined;
        return true;
      }
      if (point === 'low' && sideOk(raw, value) && value < mid!.value) {
        low = { raw, value };
        return true;
      }
      if (point === 'high' && sideOk(raw, value) && value > mid!.value && low !== undefined) {
        high = { raw, value };
        return true;
      }
      return false;
    },
    points: () => (mid === undefined ? 0 : 1 + (low ? 1 : 0) + (high ? 1 : 0)),
    report(raw) {
      if (!mid) return raw;
      const side = raw < mid.raw ? low : high;
      const slope = side ? (side.value - mid.value) / (side.raw - mid.raw) : 1;
      return mid.value + (raw - mid.raw) * slope;
    },
  };
}

/** EC: dry sets the zero; a single point, or low then high, set the gain (the probe's cell constant). */
export function ecCalibration(): EzoCalibrationModel {
  let zero = 0;
  let single: { raw: number; value: number } | undefined;
  let low: { raw: number; value: number } | undefined;
  let high: { raw: number; value: number } | undefined;
  return {
    apply(args, raw) {
      const [first, arg] = args;
      if (first === 'clear' && arg === undefined) {
        zero = 0;
        single = low = high = undefined;
        return true;
      }
      if (first === 'dry' && arg === undefined) {
        zero = raw;
        return true;
      }
      const isPoint = first === 'low' || first === 'high';
      const value = num(isPoint ? arg : first);
      if (!Number.isFinite(value) || value <= 0 || (!isPoint && arg !== undefined)) return false;
      if (raw - zero <= 0) return false;
      if (first === 'low') {
        low = { raw, value };
        single = high = undefined;
        return true;
      }
      if (first === 'high') {
        if (!low || value <= low.value || Math.abs(raw - low.raw) < MIN_EC_SPAN_FRACTION * low.raw)
          return false;
        high = { raw, value };
        return true;
      }
      single = { raw, value };
      low = high = undefined;
      return true;
    },
    points: () => (low && high ? 2 : single || low ? 1 : 0),
    report(raw) {
      if (low && high) return low.value + ((raw - low.raw) * (high.value - low.value)) / (high.raw - low.raw);
      const point = single ?? low;
      const net = raw - zero;
      return point ? (net * point.value) / (point.raw - zero) : net;
    },
  };
}
