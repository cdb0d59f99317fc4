/**
 * `npm run bench`: runs every bench under bench/ one after the other (each prints its own figures as
 * it always has), collects the result line each prints last (bench/result.ts) and prints one table:
 * measure, value, baseline, ratio, goal and `ok` or `short` (with by how much).
 * `BENCH_ONLY=apps,core` runs a subset; a bench that fails is reported as such and the rest still run.
 * The goals are issue #17's; figures taken while other work loads the cores are not the goals' figures.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { BENCH_RESULT_PREFIX, type BenchMeasure } from './result';

const BENCHES = ['apps', 'core', 'hal', 'telemetry', 'tunnel', 'updater', 'fleet'];

interface Goal {
  label: string;
  /** What is compared with the goal: the value itself or value / baseline. */
  on: 'value' | 'ratio';
  max?: number;
  min?: number;
}

/** An app's idle RSS (the goal), peak RSS and private (anonymous) memory, all in MiB. */
function appMemoryGoals(app: string, idleMax: number, peakMax?: number): Record<string, Goal> {
  return {
    [`${app}.idleRss`]: {
      label: `${app} idle RSS, built entry, after 30 s (MiB)`,
      on: 'value',
      max: idleMax,
    },
    [`${app}.peakRss`]: { label: `${app} peak RSS (MiB)`, on: 'value', max: peakMax },
    [`${app}.privateMemory`]: { label: `${app} private memory (anonymous RSS, MiB)`, on: 'value' },
  };
}

/** Every measure the table shows, in its order; a measure without max or min is shown for information. */
const GOALS: Record<string, Goal> = {
  ...appMemoryGoals('core', 60, 75),
  ...appMemoryGoals('updater', 50),
  ...appMemoryGoals('tunnel', 50),
  'module.rssSum': { label: 'module: idle RSS of the apps added up (MiB)', on: 'value', max: 256 },
  'module.memory': { label: 'module: private + shared pages once (MiB)', on: 'value', max: 256 },
  'core.startToHealthy': { label: 'core start to healthy, built entry (ms)', on: 'value', max: 1000 },
  'core.commandP99': { label: 'MQTT command → state, p99 vs mqtt.js echo (ms)', on: 'ratio', max: 1.3 },
  'core.commandP50': { label: 'MQTT command → state, p50 vs mqtt.js echo (ms)', on: 'ratio' },
  'core.commandFloorP99': {
    label: 'the least a core does for a command, p99 vs mqtt.js echo (ms)',
    on: 'ratio',
  },
  'core.commandFloorP50': {
    label: 'the least a core does for a command, p50 vs mqtt.js echo (ms)',
    on: 'ratio',
  },
  'core.sensorsRps': { label: 'GET /api/v1/sensors vs bare fastify (req/s)', on: 'ratio', min: 0.9 },
  'hal.i2cOverhead': { label: 'HAL, I2C sensors only: µs per reading vs raw bus', on: 'ratio', max: 1.2 },
  'telemetry.throughput': {
    label: 'telemetry, durable queue vs WriteApi (points/s)',
    on: 'ratio',
    min: 0.95,
  },
  'tunnel.throughput': { label: 'tunnel throughput vs ssh -R (MiB/s)', on: 'ratio', min: 0.8 },
  'tunnel.ssh2Floor': { label: 'the least an ssh2 tunnel does, vs ssh -R (MiB/s)', on: 'ratio' },
  'updater.downtime': { label: 'updater: core downtime vs docker CLI (ms)', on: 'ratio' },
  'updater.toNewCore': {
    label: 'updater: old core stopped → new core healthy vs docker CLI (ms)',
    on: 'ratio',
  },
  'fleet.installed100': { label: 'fleet: 1,000 modules, publish → all installed (ms)', on: 'value' },
  'fleet.largestN': { label: 'fleet: largest N with readings on time (modules)', on: 'value' },
};

interface Row extends BenchMeasure {
  bench: string;
}

async function runBench(name: string): Promise<{ measures: Row[]; failed?: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, name, 'run.ts')], {
    cwd: resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const measures: Row[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith(BENCH_RESULT_PREFIX)) {
        const r = JSON.parse(line.slice(BENCH_RESULT_PREFIX.length)) as {
          bench: string;
          measures: BenchMeasure[];
        };
        measures.push(...r.measures.map((m) => ({ ...m, bench: r.bench })));
      } else process.stdout.write(`  ${line}\n`);
    }
  });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  return code === 0 ? { measures } : { measures, failed: `exit code ${code}` };
}

/**
 * The share of the CPUs' time other work took over `ms`, from the kernel's counters (the load average
 * would still count the build `npm run bench` runs first). Sampled before and after the benches.
 */
async function busyShare(ms = 2000): Promise<number> {
  const total = () =>
    cpus().reduce(
      (sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle,
      0,
    );
  const idle = () => cpus().reduce((sum, c) => sum + c.times.idle, 0);
  const [t0, i0] = [total(), idle()];
  await new Promise((resolve) => setTimeout(resolve, ms));
  const spent = total() - t0;
  return spent > 0 ? 1 - (idle() - i0) / spent : 0;
}
/** Above this share of the CPUs taken by other work, before or after, the machine was not quiet. */
const BUSY_SHARE = 0.1;
const busyBefore = await busyShare();
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const rows: Row[] = [];
const failures: string[] = [];
for (const name of BENCHES.filter((b) => !only || only.includes(b))) {
  console.log(`\n== bench/${name}`);
  const { measures, failed } = await runBench(name);
  rows.push(...measures);
  if (failed) failures.push(`bench/${name}: ${failed}`);
}

const num = (n: number | undefined) =>
  n === undefined ? '—' : Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(Math.abs(n) >= 10 ? 1 : 2);
/** A shortfall as the table rounds it, never "0.00": 0.8998× against ≥ 0.9× is short by < 0.01. */
const shortfall = (n: number) => (num(n) === num(0) ? '< 0.01' : num(n));
const table: string[][] = [['measure', 'value', 'baseline', 'ratio', 'goal', 'mark']];
for (const [id, goal] of Object.entries(GOALS)) {
  const m = rows.find((r) => r.id === id);
  const goalText =
    goal.max !== undefined
      ? `≤ ${goal.max}${goal.on === 'ratio' ? '×' : ''}`
      : goal.min !== undefined
        ? `≥ ${goal.min}${goal.on === 'ratio' ? '×' : ''}`
        : '—';
  if (!m) {
    table.push([goal.label, 'not run', '', '', goalText, '']);
    continue;
  }
  const ratio = m.baseline === undefined ? undefined : m.value / m.baseline;
  const compared = goal.on === 'ratio' ? ratio : m.value;
  let mark = '';
  if (compared !== undefined && goal.max !== undefined)
    mark = compared <= goal.max ? 'ok' : `short by ${shortfall(compared - goal.max)}`;
  if (compared !== undefined && goal.min !== undefined)
    mark = compared >= goal.min ? 'ok' : `short by ${shortfall(goal.min - compared)}`;
  table.push([
    goal.label,
    num(m.value),
    num(m.baseline),
    ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
    goalText,
    `${mark}${m.note ? ` (${m.note})` : ''}`,
  ]);
}
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
const busyAfter = await busyShare();
const pct = (share: number) => `${(100 * share).toFixed(0)} %`;
console.log(
  `\nbench summary (other work took ${pct(busyBefore)} of the ${cpus().length} CPUs before the benches and ${pct(busyAfter)} after, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}${
    Math.max(busyBefore, busyAfter) > BUSY_SHARE
      ? ": the machine was not quiet, and figures from a loaded machine are not the goals' figures"
      : ''
  })`,
);
for (const [i, r] of table.entries()) {
  console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
for (const f of failures) console.log(`FAILED ${f}`);
process.exit(failures.length === 0 ? 0 : 1);
