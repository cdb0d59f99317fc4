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
const ROUND_MS = 4000;
const SENSORS = DEFAULT_PROFILE.sensors;
// At this time scale a 4 s run is days of cabinet time: each round starts from the same water.
const STEADY = { ph: 6, ec: 1400, waterLevel: 0.8 };

interface RunResult {
  perSecond: number;
  /** Mean real µs per reading, by sensor id. */
  perSensorUs: Record<string, number>;
  txPerReading: number;
  failed: number;
}

/** Reads the whole profile in rounds for ROUND_MS; `readOne` returns false for a failed read. */
async function timed(
  label: string,
  readOne: (id: string) => Promise<boolean>,
  transfers: () => number,
  resetCabinet: () => void,
): Promise<RunResult> {
  for (const s of SENSORS) await readOne(s.id); // warm-up: device init, first SCD4x period
  const t0 = transfers();
  const spent: Record<string, number> = {};
  const started = performance.now();
  let readings = 0;
  let failed = 0;
  while (performance.now() - started < ROUND_MS) {
    resetCabinet();
    for (const s of SENSORS) {
      const t = performance.now();
      if (!(await readOne(s.id))) failed++;
      spent[s.id] = (spent[s.id] ?? 0) + (performance.now() - t);
    }
    readings += SENSORS.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const rounds = readings / SENSORS.length;
  const result: RunResult = {
    perSecond: readings / seconds,
    perSensorUs: Object.fromEntries(Object.entries(spent).map(([id, ms]) => [id, (ms * 1000) / rounds])),
    txPerReading: (transfers() - t0) / readings,
    failed,
  };
  console.log(
    `${label.padEnd(34)} ${result.perSecond.toFixed(0).padStart(7)} readings/s  ${result.txPerReading.toFixed(2)} I2C transfers/reading  ${failed} failed`,
  );
  return result;
}

async function halPath(): Promise<RunResult> {
  const hal = await createHal({ mode: 'sim', timeScale: TIME_SCALE, seed: 42 });
  // The supervised bus counts I2C transactions (1-Wire reads are files, not bus transfers).
  const failures: Record<string, number> = {};
  const result = await timed(
    'whole HAL stack',
    async (id) => {
      const r = await hal.read(id);
      if (r.quality !== 'ok') failures[`${id}:${r.quality}`] = (failures[`${id}:${r.quality}`] ?? 0) + 1;
      return r.quality === 'ok';
    },
    () => hal.health().buses['i2c-1']!.transactions,
    () => hal.simulation!.setEnvironment(STEADY),
  );
  if (result.failed > 0) console.log('  failed reads by sensor and quality:', JSON.stringify(failures));
  await hal.close();
  return result;
}

async function rawPath(): Promise<RunResult> {
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
  const result = await timed(
    'drivers on the bare simulated bus',
    async (id) => {
      const s = spec.get(id)!;
      try {
        await drivers[s.device]!.read(s.channel);
        return true;
      } catch {
        return false;
      }
    },
    () => sim.bus.transfers,
    () => sim.control.setEnvironment(STEADY),
  );
  await rm(root, { recursive: true, force: true });
  return result;
}

console.log(
  `bench/hal: default profile, ${SENSORS.length} sensors per round, timeScale ${TIME_SCALE}, ${ROUND_MS} ms per run`,
);
const runs = { raw: [] as RunResult[], hal: [] as RunResult[] };
for (let i = 0; i < 2; i++) {
  runs.raw.push(await rawPath());
  runs.hal.push(await halPath());
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log('\nmean µs per reading     raw      HAL    ratio');
for (const s of SENSORS) {
  const raw = mean(runs.raw.map((r) => r.perSensorUs[s.id]!));
  const hal = mean(runs.hal.map((r) => r.perSensorUs[s.id]!));
  console.log(
    `${s.id.padEnd(20)} ${raw.toFixed(0).padStart(7)}  ${hal.toFixed(0).padStart(7)}  ${(hal / raw).toFixed(2).padStart(6)}x`,
  );
}
const i2cOnly = SENSORS.filter((s) => s.device !== 'ds18b20');
const i2cUs = (rs: RunResult[]) =>
  mean(rs.map((r) => i2cOnly.reduce((sum, s) => sum + r.perSensorUs[s.id]!, 0)));
const raw = mean(runs.raw.map((r) => r.perSecond));
const hal = mean(runs.hal.map((r) => r.perSecond));
console.log(`\nfull default profile: raw ${raw.toFixed(0)} readings/s, HAL ${hal.toFixed(0)} readings/s`);
console.log(
  `I2C sensors only (no 1-Wire file I/O): raw ${((i2cOnly.length / i2cUs(runs.raw)) * 1e6).toFixed(0)} readings/s, HAL ${((i2cOnly.length / i2cUs(runs.hal)) * 1e6).toFixed(0)} readings/s, overhead ratio ${(i2cUs(runs.hal) / i2cUs(runs.raw)).toFixed(2)}x`,
);
console.log(
  `overhead ratio (raw / HAL readings per second): ${(raw / hal).toFixed(2)}x, i.e. ${((1 / hal - 1 / raw) * 1e6).toFixed(0)} µs per reading`,
);
benchResult('hal', [
  {
    id: 'hal.i2cOverhead',
    value: i2cUs(runs.hal) / i2cOnly.length,
    baseline: i2cUs(runs.raw) / i2cOnly.length,
    unit: 'µs/reading',
  },
]);
