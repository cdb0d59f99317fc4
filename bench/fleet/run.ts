/**
 * Fleet bench: simulated modules against a private Mosquitto with the fleet ACL on this machine.
 *   pnpm exec tsx bench/fleet/run.ts        (about 3-5 minutes; FLEET_BENCH_MAX_N caps the search)
 * Measures, at N = 1000: connect time; time for all to see a 100 % release and report it installed;
 * time for a 10 % rollout to reach exactly the modules inRollout selects; reading rate and broker CPU.
 * Then the largest N (1000, 2000, 4000, 8000) at which readings still arrive within their interval.
 * Every simulated module decides with the updater's own ReleaseDecision (libs/protocol); releases
 * are signed fleet documents published as the release identity. Ends with its BENCH_RESULT line
 * (bench/result.ts), which `npm run bench` collects.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateReleaseKeyPair, inRollout } from '@growoff/protocol';
import { freePort, startMosquitto, stopProcess } from '@growoff/test-services';
import { benchResult } from '../result';
import {
  DEFAULT_SIM_SENSORS,
  DocumentPublisher,
  FleetObserver,
  FleetSim,
  readingsPerSecond,
  urlWithCredentials,
  writeFleetCredentials,
} from '../../tools/fleet-sim/src/index';

const FIRST_N = 1000;
const MAX_N = Number(process.env.FLEET_BENCH_MAX_N ?? 8000);
const TIME_CAP_MS = 4.5 * 60_000;
const WINDOW_MS = 15_000;
const DOWNLOAD_MS: [number, number] = [200, 800];
const INSTALL_MS = 200;
const image = (hex: string) => `registry.example/growoff/core@sha256:${hex.repeat(64)}`;

const benchStart = Date.now();
const elapsed = () => Date.now() - benchStart;
const log = (line: string) => process.stdout.write(`${line}\n`);

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const suffix = randomBytes(2).toString('hex');
const ids = Array.from({ length: MAX_N }, (_, i) => `bench-${suffix}-${String(i).padStart(5, '0')}`);
const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
chmodSync(dir, 0o711);

log(
  `fleet bench: ${ids.length} credentials, load average before start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const creds = await writeFleetCredentials(dir, ids, process.getuid?.() === 0 ? 'mosquitto' : undefined);
const broker = await startMosquitto({ dir, port: await freePort(), extraConfig: creds.broker.config });
const keys = generateReleaseKeyPair();
const publisher = await DocumentPublisher.connect(urlWithCredentials(broker.url, creds.release), keys);
const intervals = Object.fromEntries(DEFAULT_SIM_SENSORS.map((s) => [s.id, s.intervalMs]));
const observer = await FleetObserver.connect({
  url: broker.url,
  username: creds.operator.username,
  password: creds.operator.password,
  moduleIds: ids,
  readingIntervals: intervals,
});
const sims: FleetSim[] = [];

async function grow(to: number): Promise<number> {
  const from = sims.reduce((n, s) => n + s.stats().modules, 0);
  const t0 = Date.now();
  sims.push(
    await FleetSim.start({
      url: broker.url,
      modules: creds.modules.slice(from, to),
      trustedKeysPem: [keys.publicKeyPem],
      workers: 2,
      downloadMs: DOWNLOAD_MS,
      installMs: INSTALL_MS,
      connectConcurrency: 200,
      startTimeoutMs: 180_000,
    }),
  );
  return Date.now() - t0;
}

/** Readings and CPU over one window with `n` modules. */
async function measureWindow(n: number) {
  observer.resetReadings();
  const sent0 = sims.reduce((s, f) => s + f.stats().readings, 0);
  const seen0 = observer.messages;
  const cpu0 = cpuSeconds(broker.pid);
  const workerPids = sims.flatMap((s) => s.pids);
  const wcpu0 = workerPids.reduce((s, p) => s + cpuSeconds(p), 0);
  const t0 = Date.now();
  await sleep(WINDOW_MS);
  const seconds = (Date.now() - t0) / 1000;
  const sent = sims.reduce((s, f) => s + f.stats().readings, 0) - sent0;
  const r = observer.readings();
  return {
    n,
    expectedPerS: Math.round(n * readingsPerSecond(DEFAULT_SIM_SENSORS)),
    publishedPerS: Math.round(sent / seconds),
    deliveredPerS: Math.round((observer.messages - seen0) / seconds),
    brokerCpu: (cpuSeconds(broker.pid) - cpu0) / seconds,
    workersCpu: (workerPids.reduce((s, p) => s + cpuSeconds(p), 0) - wcpu0) / seconds,
    late: r.late,
    received: r.received,
    onTime: r.received === 0 ? 0 : 1 - r.late / r.received,
    maxLatencyMs: r.maxLatencyMs,
    maxGapRatio: r.maxGapRatio,
    load: loadavg()[0]!,
  };
}

function windowLine(w: Awaited<ReturnType<typeof measureWindow>>): string {
  return (
    `N=${w.n}: readings published ${w.publishedPerS}/s (profile ${w.expectedPerS}/s), delivered to the observer ${w.deliveredPerS}/s; ` +
    `on time ${(w.onTime * 100).toFixed(2)} % of ${w.received} (max latency ${w.maxLatencyMs} ms, max gap ${w.maxGapRatio.toFixed(2)}× interval); ` +
    `broker CPU ${(w.brokerCpu * 100).toFixed(1)} % of a core, simulator ${(w.workersCpu * 100).toFixed(0)} %; load ${w.load.toFixed(1)}`
  );
}

try {
  const connectMs = await grow(FIRST_N);
  await observer.waitFor('all online', (o) => o.installed('1.0.0').length === FIRST_N, 60_000);
  log(`connected ${FIRST_N} modules (2 MQTT connections each) in ${(connectMs / 1000).toFixed(1)} s`);

  // 100 %: publish → every module has seen it (target or installed), then every module installed.
  const first = ids.slice(0, FIRST_N);
  const t100 = Date.now();
  await publisher.channel('stable', 'v1.1.0', { core: { version: '1.1.0', image: image('a') } }, 100);
  await observer.waitFor(
    'all saw 1.1.0',
    (o) =>
      first.every((id) => {
        const s = o.updaters.get(id);
        return s?.target?.version === '1.1.0' || s?.current?.version === '1.1.0';
      }),
    120_000,
  );
  const seen100 = Date.now() - t100;
  await observer.waitFor('all installed 1.1.0', (o) => o.installed('1.1.0').length === FIRST_N, 120_000);
  const installed100 = Date.now() - t100;
  const floor = DOWNLOAD_MS[1] + INSTALL_MS;
  log(
    `100 % rollout to ${FIRST_N}: all saw the release in ${seen100} ms, all reported it installed in ${installed100} ms ` +
      `(simulated download+install at most ${floor} ms per module: ${(installed100 / floor).toFixed(2)}× that floor)`,
  );

  // 10 %: only the selected modules take 1.2.0.
  const selected = first.filter((id) => inRollout(id, 10));
  const t10 = Date.now();
  await publisher.channel('stable', 'v1.2.0', { core: { version: '1.2.0', image: image('b') } }, 10);
  await observer.waitFor(
    'the 10 % installed 1.2.0',
    (o) => o.installed('1.2.0').length >= selected.length,
    120_000,
  );
  const installed10 = Date.now() - t10;
  const got = observer.installed('1.2.0').sort();
  const exact =
    got.length === selected.length &&
    got.every((id, i) => id === selected[i]) &&
    first
      .filter((id) => !selected.includes(id))
      .every((id) => {
        const s = observer.updaters.get(id);
        return s?.current?.version === '1.1.0' && s.target === undefined;
      });
  log(
    `10 % rollout: ${selected.length} of ${FIRST_N} selected by inRollout; installed in ${installed10} ms; ` +
      `exactly the selected set: ${exact ? 'yes' : 'NO'} (${got.length} installed 1.2.0, ${FIRST_N - got.length} stayed on 1.1.0)`,
  );

  // Readings: 1000, then double until a window misses its intervals, N hits the cap, or time runs out.
  let largestOk = 0;
  let stoppedBy = `the cap of this search (${MAX_N})`;
  for (let n = FIRST_N; n <= MAX_N; n *= 2) {
    if (n > FIRST_N) {
      if (elapsed() > TIME_CAP_MS - 60_000) {
        stoppedBy = `the bench's time cap before N=${n} could be tried, not a failure`;
        break;
      }
      const ms = await grow(n);
      log(`grew to ${n} modules in ${(ms / 1000).toFixed(1)} s`);
    }
    await sleep(5_000); // let the connect burst and the first readings settle
    const w = await measureWindow(n);
    log(windowLine(w));
    if (w.onTime < 0.99) {
      stoppedBy = `the first failure: N=${n} is under 99 % on time`;
      break;
    }
    largestOk = n;
  }
  log(
    `largest N with readings within their interval (>= 99 % on time): ${largestOk}; the search ended at ${stoppedBy}`,
  );
  log(
    `bench took ${(elapsed() / 1000).toFixed(0)} s; load average now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared machine, 2 cores)`,
  );
  benchResult('fleet', [
    { id: 'fleet.largestN', value: largestOk, unit: 'modules' },
    { id: 'fleet.installed100', value: installed100, unit: 'ms', note: `${FIRST_N} modules` },
  ]);
} finally {
  await publisher.close();
  for (const s of sims) await s.stop();
  await observer.close();
  await stopProcess(broker.pid);
  rmSync(dir, { recursive: true, force: true });
}
