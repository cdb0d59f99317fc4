// Readings per second of the whole default profile through the HAL (supervised bus, device
// guards, qualities, temperature compensation) against the same drivers on the bare simulated
// bus, i.e. the same bus transactions with nothing around them. Prints the overhead ratio.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bh1750,
  DEFAULT_PROFILE,
  Ds18b20,
  Ezo,
  Mcp23017,
  Scd4x,
  Sht3x,
  buildSimulation,
  createHal,
  scaledClock,
  withBusErrors,
  type SensorDriver,
} from '@growoff/hal';
import { benchResult } from '../result';

const TIME_SCALE = 100_000; // conversion waits shrink to microseconds; the same for both paths
// Both paths are built once and measured in alternating blocks of a few rounds, as bench/core does,
// so that a spell of load on the machine falls on both alike: measured one after the other for 4 s
// each, the bare bus's own rate moved between 17k and 39k I2C readings/s from run to run.
const WARMUP_MS = 1000;
const MEASURE_MS = 8000;
const ROUNDS_PER_BLOCK = 20;
const SENSORS = DEFAULT_PROFILE.sensors;
// At this time scale a run is weeks of cabinet time: each round starts from the same water.
const STEADY = { ph: 6, ec: 1400, waterLevel: 0.8 };

/** One way of reading the profile's sensors. */
interface Path {
  label: string;
  /** Reads one sensor; false for a failed read. */
  readOne: (id: string) => Promise<boolean>;
  /** I2C transfers so far. */
  transfers: () => number;
  resetCabinet: () => void;
  close: () => Promise<void>;
}

/** What one path's counted blocks add up to. */
interface Tally {
  readings: number;
  ms: number;
  /** Real ms spent reading each sensor. */
  spent: Record<string, number>;
  transfers: number;
  failed: number;
}

const tally = (): Tally => ({ readings: 0, ms: 0, spent: {}, transfers: 0, failed: 0 });

/** Reads the whole profile `rounds` times through `path`, adding to `into`. */
async function block(path: Path, rounds: number, into: Tally): Promise<void> {
  const transfers = path.transfers();
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    path.resetCabinet();
    for (const s of SENSORS) {
      const t = performance.now();
      if (!(await path.readOne(s.id))) into.failed++;
      into.spent[s.id] = (into.spent[s.id] ?? 0) + (performance.now() - t);
    }
  }
  into.ms += performance.now() - started;
  into.readings += rounds * SENSORS.length;
  into.transfers += path.transfers() - transfers;
}

const halFailures: Record<string, number> = {};

async function halPath(): Promise<Path> {
  const hal = await createHal({ mode: 'sim', timeScale: TIME_SCALE, seed: 42 });
  return {
    label: 'whole HAL stack',
    readOne: async (id) => {
      const r = await hal.read(id);
      if (r.quality !== 'ok')
        halFailures[`${id}:${r.quality}`] = (halFailures[`${id}:${r.quality}`] ?? 0) + 1;
      return r.quality === 'ok';
    },
    // The supervised bus counts I2C transactions (1-Wire reads are files, not bus transfers).
    transfers: () => hal.health().buses['i2c-1']!.transactions,
    resetCabinet: () => hal.simulation!.setEnvironment(STEADY),
    close: () => hal.close(),
  };
}

async function rawPath(): Promise<Path> {
  const root = await mkdtemp(join(tmpdir(), 'bench-hal-w1-'));
  const clock = scaledClock(TIME_SCALE);
  const sim = await buildSimulation(DEFAULT_PROFILE, clock, root, 42);
  const bus = withBusErrors(sim.bus, 1);
  const w1 = sim.w1.bus();
  const drivers: Record<string, SensorDriver> = {
    sht3x: new Sht3x('sht3x', bus, 0x44, clock),
    scd4x: new Scd4x('scd4x', bus, 0x62, clock),
    'ezo-ph': new Ezo('ezo-ph', 'ph', bus, 0x63, clock),
    'ezo-ec': new Ezo('ezo-ec', 'ec', bus, 0x64, clock),
    bh1750: new Bh1750('bh1750', bus, 0x23, clock),
    ds18b20: new Ds18b20('ds18b20', w1, '28-00000a1b2c3d'),
    mcp23017: new Mcp23017('mcp23017', bus, 0x20, ['gpa0']),
  };
  for (const d of Object.values(drivers)) await d.init();
  const spec = new Map(SENSORS.map((s) => [s.id, s]));
  return {
    label: 'drivers on the bare simulated bus',
    readOne: async (id) => {
      const s = spec.get(id)!;
      try {
        await drivers[s.device]!.read(s.channel);
        return true;
      } catch {
        return false;
      }
    },
    transfers: () => sim.bus.transfers,
    resetCabinet: () => sim.control.setEnvironment(STEADY),
    close: () => rm(root, { recursive: true, force: true }),
  };
}

console.log(
  `bench/hal: default profile, ${SENSORS.length} sensors per round, timeScale ${TIME_SCALE}, ${MEASURE_MS} ms in alternating blocks of ${ROUNDS_PER_BLOCK} rounds after ${WARMUP_MS} ms of warm-up`,
);
const paths = { raw: await rawPath(), hal: await halPath() };
const tallies = { raw: tally(), hal: tally() };
// Warm-up, not counted: device init, the first SCD4x period, V8's optimising compiler.
for (const started = performance.now(); performance.now() - started < WARMUP_MS;) {
  await block(paths.raw, ROUNDS_PER_BLOCK, tally());
  await block(paths.hal, ROUNDS_PER_BLOCK, tally());
}
for (const key of Object.keys(halFailures)) delete halFailures[key];
for (const started = performance.now(); performance.now() - started < MEASURE_MS;) {
  await block(paths.raw, ROUNDS_PER_BLOCK, tallies.raw);
  await block(paths.hal, ROUNDS_PER_BLOCK, tallies.hal);
}
await paths.raw.close();
await paths.hal.close();

const perSecond = (t: Tally) => t.readings / (t.ms / 1000);
/** Mean real µs per reading of one sensor. */
const sensorUs = (t: Tally, id: string) => (t.spent[id]! * 1000) / (t.readings / SENSORS.length);
for (const [path, t] of [
  [paths.raw, tallies.raw],
  [paths.hal, tallies.hal],
] as const)
  console.log(
    `${path.label.padEnd(34)} ${perSecond(t).toFixed(0).padStart(7)} readings/s  ${(t.transfers / t.readings).toFixed(2)} I2C transfers/reading  ${t.failed} failed`,
  );
if (tallies.hal.failed > 0) console.log('  failed reads by sensor and quality:', JSON.stringify(halFailures));
console.log('\nmean µs per reading     raw      HAL    ratio');
for (const s of SENSORS) {
  const raw = sensorUs(tallies.raw, s.id);
  const hal = sensorUs(tallies.hal, s.id);
  console.log(
    `${s.id.padEnd(20)} ${raw.toFixed(0).padStart(7)}  ${hal.toFixed(0).padStart(7)}  ${(hal / raw).toFixed(2).padStart(6)}x`,
  );
}
const i2cOnly = SENSORS.filter((s) => s.device !== 'ds18b20');
/** Mean µs per I2C reading (no 1-Wire file I/O). */
const i2cUs = (t: Tally) => i2cOnly.reduce((sum, s) => sum + sensorUs(t, s.id), 0) / i2cOnly.length;
const raw = perSecond(tallies.raw);
const hal = perSecond(tallies.hal);
console.log(`\nfull default profile: raw ${raw.toFixed(0)} readings/s, HAL ${hal.toFixed(0)} readings/s`);
console.log(
  `I2C sensors only (no 1-Wire file I/O): raw ${(1e6 / i2cUs(tallies.raw)).toFixed(0)} readings/s, HAL ${(1e6 / i2cUs(tallies.hal)).toFixed(0)} readings/s, overhead ratio ${(i2cUs(tallies.hal) / i2cUs(tallies.raw)).toFixed(2)}x`,
);
console.log(
  `overhead ratio (raw / HAL readings per second): ${(raw / hal).toFixed(2)}x, i.e. ${((1 / hal - 1 / raw) * 1e6).toFixed(0)} µs per reading`,
);
benchResult('hal', [
  { id: 'hal.i2cOverhead', value: i2cUs(tallies.hal), baseline: i2cUs(tallies.raw), unit: 'µs/reading' },
]);
