/** One simulated sensor: the default profile's ids and units, and how often the core reads it. */
export interface SimSensor {
  id: string;
  unit: string;
  intervalMs: number;
  /** Readings wander around `base` by up to `spread`. */
  base: number;
  spread: number;
}

/** The default module profile's sensors at the core's read intervals. */
export const DEFAULT_SIM_SENSORS: readonly SimSensor[] = [
  { id: 'air_temperature', unit: '°C', intervalMs: 5_000, base: 24, spread: 2 },
  { id: 'air_humidity', unit: '%RH', intervalMs: 5_000, base: 60, spread: 8 },
  { id: 'light_intensity', unit: 'lx', intervalMs: 5_000, base: 12_000, spread: 3_000 },
  { id: 'co2', unit: 'ppm', intervalMs: 10_000, base: 800, spread: 150 },
  { id: 'water_temperature', unit: '°C', intervalMs: 10_000, base: 20, spread: 1 },
  { id: 'water_level', unit: 'bool', intervalMs: 10_000, base: 1, spread: 0 },
  { id: 'ph', unit: 'pH', intervalMs: 30_000, base: 6, spread: 0.4 },
  { id: 'ec', unit: 'mS/cm', intervalMs: 30_000, base: 1.8, spread: 0.3 },
];

/** Readings per second one module publishes with these sensors. */
export function readingsPerSecond(sensors: readonly SimSensor[]): number {
  return sensors.reduce((sum, s) => sum + 1000 / s.intervalMs, 0);
}

/** The sensors with every interval multiplied by `scale` (tests run a fleet's day in seconds). */
export function scaledSensors(sensors: readonly SimSensor[], scale: number): SimSensor[] {
  return sensors.map((s) => ({ ...s, intervalMs: Math.max(50, Math.round(s.intervalMs * scale)) }));
}
