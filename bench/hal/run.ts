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

const TIME_SCALE = 100_000; // conversion waits shrink to microseconds; the same for both paths
const ROUND_MS = 4000;
const SENSORS = DEFAULT_PROFILE.sensors;

async function timed(label: string, round: () => Promise<number>, transfers: () => number) {
  await round(); // warm-up: device init, first SCD4x period
  const t0 = transfers();
  const started = performance.now();
  let readings = 0;
  let failures = 0;
  while (performance.now() - started < ROUND_MS) {
    failures += await round();
    readings += SENSORS.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const perSecond = readings / seconds;
  const txPerReading = (transfers() - t0) / readings;
  console.log(
    `${label.padEnd(34)} ${perSecond.toFixed(0).padStart(7)} readings/s  ${txPerReading.toFixed(2)} bus transfers/reading  ${failures} failed`,
  );
  return perSecond;
}

async function halPath(): Promise<{ perSecond: number }> {
  const hal = await createHal({ mode: 'sim', timeScale: TIME_SCALE, seed: 42 });
  let counted = 0;
  const round = async () => {
    let failed = 0;
    for (const s of SENSORS) if ((await hal.read(s.id)).quality !== 'ok') failed++;
    counted = hal.health().buses['i2c-1']!.transactions;
    return failed;
  };
  // The HAL counts transactions on its supervised bus (1-Wire reads are not bus transfers).
  const perSecond = await timed('whole HAL stack', round, () => counted);
  await hal.close();
  return { perSecond };
}

async function rawPath(): Promise<{ perSecond: number }> {
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
  const round = async () => {
    let failed = 0;
    for (const s of SENSORS) {
      try {
        await drivers[s.device]!.read(s.channel);
      } catch {
        failed++;
      }
    }
    return failed;
  };
  const perSecond = await timed('drivers on the bare simulated bus', round, () => sim.bus.transfers);
  await rm(root, { recursive: true, force: true });
  return { perSecond };
}

console.log(
  `bench/hal: default profile, ${SENSORS.length} sensors per round, timeScale ${TIME_SCALE}, ${ROUND_MS} ms per run`,
);
const raw1 = await rawPath();
const hal1 = await halPath();
const raw2 = await rawPath();
const hal2 = await halPath();
const raw = (raw1.perSecond + raw2.perSecond) / 2;
const hal = (hal1.perSecond + hal2.perSecond) / 2;
console.log(`mean: raw ${raw.toFixed(0)} readings/s, HAL ${hal.toFixed(0)} readings/s`);
console.log(
  `overhead ratio (raw / HAL): ${(raw / hal).toFixed(2)}x  — HAL costs ${((1 / hal - 1 / raw) * 1e6).toFixed(0)} µs per reading`,
);
