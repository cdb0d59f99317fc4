import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateReleaseKeyPair,
  inRollout,
  signEnvelope,
  topics,
  type ReleaseKeyPair,
} from '@growoff/protocol';
import { freePort, startMosquitto, stopProcess, type MosquittoInfo } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIM_SENSORS,
  DocumentPublisher,
  FleetObserver,
  FleetSim,
  scaledSensors,
  urlWithCredentials,
  writeFleetCredentials,
  type FleetCredentials,
} from '../src/index';

const N = 50;
const suffix = randomBytes(3).toString('hex');
const ids = Array.from({ length: N }, (_, i) => `fleet-sim-${suffix}-${String(i).padStart(3, '0')}`);
const CHANNEL = 'stable';
const image = (hex: string) => `registry.example/growoff/core@sha256:${hex.repeat(64)}`;
const sensors = scaledSensors(DEFAULT_SIM_SENSORS, 0.5);

let dir: string;
let broker: MosquittoInfo;
let creds: FleetCredentials;
let sim: FleetSim | undefined;
let observer: FleetObserver | undefined;
let keys: ReleaseKeyPair;
let publisher: DocumentPublisher;
const core = (version: string, hex: string) => ({ core: { version, image: image(hex) } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-sim-'));
  chmodSync(dir, 0o711);
  creds = await writeFleetCredentials(dir, ids, process.getuid?.() === 0 ? 'mosquitto' : undefined);
  broker = await startMosquitto({ dir, port: await freePort(), extraConfig: creds.broker.config });
  keys = generateReleaseKeyPair();
  publisher = await DocumentPublisher.connect(urlWithCredentials(broker.url, creds.release), keys);
  observer = await FleetObserver.connect({
    url: broker.url,
    username: creds.operator.username,
    password: creds.operator.password,
    moduleIds: ids,
    readingIntervals: Object.fromEntries(sensors.map((s) => [s.id, s.intervalMs])),
  });
  sim = await FleetSim.start({
    url: broker.url,
    modules: creds.modules,
    channel: CHANNEL,
    trustedKeysPem: [keys.publicKeyPem],
    workers: 2,
    sensors,
    downloadMs: [50, 300],
    installMs: 100,
  });
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await observer?.close();
  await publisher?.close();
  if (broker) await stopProcess(broker.pid);
  rmSync(dir, { recursive: true, force: true });
});

describe('signed fleet documents driving a simulated fleet through a private Mosquitto with the fleet ACL', () => {
  it('brings every module online with its retained updater status, in two worker processes', async () => {
    await observer!.waitFor('all updaters online at 1.0.0', (o) => o.installed('1.0.0').length === N, 30_000);
    expect(sim!.pids).toHaveLength(2);
    const stats = sim!.stats();
    expect(stats.connected).toBe(N);
  });

  it('delivers a 20 % rollout to exactly the modules inRollout selects', async () => {
    await publisher.channel(CHANNEL, 'v1.1.0', core('1.1.0', 'a'), 20);
    const selected = ids.filter((id) => inRollout(id, 20));
    expect(selected.length).toBeGreaterThan(0);
    await observer!.waitFor(
      'the 20 % installed 1.1.0',
      (o) => o.installed('1.1.0').length >= selected.length,
      30_000,
    );
    expect(observer!.installed('1.1.0').sort()).toEqual(selected);
    const others = ids.filter((id) => !selected.includes(id));
    for (const id of others) {
      const status = observer!.updaters.get(id)!;
      expect(status.current?.version).toBe('1.0.0');
      expect(status.target).toBeUndefined();
    }
  });

  it('widens the rollout to 100 % and the whole fleet converges', async () => {
    await publisher.channel(CHANNEL, 'v1.1.0', core('1.1.0', 'a'), 100);
    await observer!.waitFor('all installed 1.1.0', (o) => o.installed('1.1.0').length === N, 30_000);
    expect([...observer!.updaters.values()].every((s) => s.lastResult?.result === 'installed')).toBe(true);
  });

  it('has every module refuse an old channel release replayed on the channel, through the shared decision', async () => {
    const before = sim!.stats().rejected;
    const old = { kind: 'release', sequence: 1, issuedAt: new Date().toISOString(), name: 'v1.0.5' } as const;
    const envelope = signEnvelope(
      { ...old, apps: core('1.0.5', 'c'), target: { channel: CHANNEL, rollout: { percent: 100 } } },
      keys,
    );
    await publisher.publishRaw(topics.fleetRelease(CHANNEL), JSON.stringify(envelope));
    const deadline = Date.now() + 30_000;
    while (sim!.stats().rejected < before + N && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(sim!.stats().rejected - before).toBe(N);
    expect(observer!.installed('1.1.0')).toHaveLength(N);
    expect(observer!.installed('1.0.5')).toEqual([]);
  });

  it('pins three modules to a release candidate and unpins one back to its channel', async () => {
    const pinned = ids.slice(0, 3);
    for (const id of pinned) await publisher.pin(id, 'v1.2.0-rc1', core('1.2.0-rc.1', 'b'));
    await observer!.waitFor('three on the candidate', (o) => o.installed('1.2.0-rc.1').length === 3, 30_000);
    expect(observer!.installed('1.2.0-rc.1').sort()).toEqual(pinned);
    expect(observer!.installed('1.1.0')).toHaveLength(N - 3);

    await publisher.unpin(pinned[0]!);
    await observer!.waitFor(
      'the unpinned module back on 1.1.0',
      (o) => o.installed('1.1.0').includes(pinned[0]!),
      30_000,
    );
    expect(observer!.installed('1.2.0-rc.1').sort()).toEqual(pinned.slice(1));
  });

  it('rolls the modules running a revoked candidate back to the release they ran before', async () => {
    const stillPinned = ids.slice(1, 3);
    expect(observer!.installed('1.2.0-rc.1').sort()).toEqual(stillPinned);
    await publisher.revoke([{ image: image('b'), name: 'v1.2.0-rc1', reason: 'test: bad candidate' }]);
    await observer!.waitFor('all back on 1.1.0', (o) => o.installed('1.1.0').length === N, 30_000);
    expect(observer!.installed('1.2.0-rc.1')).toEqual([]);
  });

  it('kept publishing readings at the profile rates throughout', async () => {
    // Every module publishes ~1.9 readings/s at 0.5× intervals: five each arrive within seconds.
    await observer!.waitFor('five readings per module', (o) => o.readings().received > N * 5, 30_000);
    const readings = observer!.readings();
    expect(readings.late / readings.received).toBeLessThan(0.05);
  });

  it("publishes each module's offline will when its worker process dies", async () => {
    const [victim] = sim!.pids;
    process.kill(victim!, 'SIGKILL');
    const offline = () => [...observer!.updaters.values()].filter((s) => s.state === 'offline').length;
    await observer!.waitFor('the dead worker’s modules offline', () => offline() >= N / 2, 30_000);
    expect(offline()).toBe(N / 2);
    expect([...observer!.updaters.values()].filter((s) => s.state === 'online')).toHaveLength(N / 2);
  });
});
