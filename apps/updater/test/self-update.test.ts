import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { buildImage } from '@growoff/images';
import { topics } from '@growoff/protocol';
import { getService, waitUntil } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';
import { TestImages } from './support/test-images';

const launcherScript = fileURLToPath(
  new URL('../../../tools/base/scripts/updater-launcher.sh', import.meta.url),
);
const docker = getService('docker');

/** tools/base's launcher, as growoff-updater.service runs it, on this test's module layout. */
class Launcher {
  readonly child: ChildProcess;
  readonly lines: string[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn('bash', [launcherScript], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.lines.push(...chunk.toString().split('\n')));
  }

  /** As systemd stops the unit: SIGTERM, and the launcher stops the updater. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

describe('the updater replacing itself by hand-over', () => {
  let h: UpdaterHarness;
  let updaterImages: TestImages;
  let core: string;
  const releases: string[] = [];
  let launcher: Launcher | undefined;
  let events: MqttClient;
  const seen: Array<{ type: string; app?: string }> = [];
  let statePath: string;
  let launcherEnv: Record<string, string>;

  beforeAll(async () => {
    h = await UpdaterHarness.create({ env: { GROWOFF_HEALTH_TIMEOUT_S: '60', GROWOFF_PROBATION_S: '1' } });
    updaterImages = new TestImages({ app: 'updater' });
    // The real updater image, built once; each release is the same layers under a label of its own.
    const tag = `${updaterImages.repo}:build`;
    await buildImage({
      app: 'updater',
      tag,
      baseImage: docker.nodeBaseImage,
      deps: 'prepared',
      dockerHost: docker.host,
      // The bundle this run built (its nx target's build), not rebuilt under the other tests' feet.
      buildApp: false,
    });
    for (let i = 0; i < 7; i++) releases.push(updaterImages.variant(tag, `0.${i}.0`));
    updaterImages.docker(['rmi', tag]);
    core = h.images.build({ version: '1.0.0' });

    // The module as tools/base lays it out, in the harness's folder: updater.env (the updater's
    // environment, its journal at /data), the release keys and core.env beside it.
    const env = {
      ...h.env(),
      GROWOFF_DATA_DIR: '/data',
      GROWOFF_HOST_DOCKER_SOCKET: docker.socket,
      GROWOFF_UPDATER_IMAGE_REPO: updaterImages.repo,
      GROWOFF_UPDATER_CONTAINER: `updater-test-updater-${h.id}`,
      GROWOFF_CHECK_INTERVAL_S: '5',
      // As tools/base sets it: the data folder is on the engine's filesystem (here both are in /tmp).
      GROWOFF_DOCKER_DATA_ROOT: '/data',
    };
    writeFileSync(
      join(h.dir, 'updater.env'),
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    mkdirSync(join(h.dir, 'host-data/updater'), { recursive: true });
    statePath = join(h.dir, 'host-data/updater/launcher.state');
    writeFileSync(statePath, `current=${releases[0]}\n`);
    launcherEnv = {
      DOCKER_HOST: docker.host,
      DOCKER_CONFIG: updaterImages.dockerConfig,
      GROWOFF_LAUNCHER_STATE: statePath,
      GROWOFF_UPDATER_ENV_FILE: join(h.dir, 'updater.env'),
      GROWOFF_MANAGED_BY: h.managedBy,
      GROWOFF_LAUNCHER_RESTARTS: '20',
      GROWOFF_LAUNCHER_BACKOFF_S: '1',
    };

    events = await mqtt.connectAsync(getService('mosquitto').url, { clientId: `self-update-${h.id}` });
    events.on('message', (_topic, payload) => {
      const e = JSON.parse(payload.toString()) as { type: string; data?: { app?: string } };
      seen.push({ type: e.type, app: e.data?.app });
    });
    await events.subscribeAsync(topics.events(h.moduleId), { qos: 1 });
  }, 600_000);

  afterAll(async () => {
    await launcher?.stop();
    await events?.endAsync();
    for (const c of await updaters()) await h.docker.getContainer(c.Id).remove({ force: true });
    await h?.cleanup();
    await updaterImages?.cleanup();
  });

  async function updaters() {
    return h.docker.listContainers({
      all: true,
      filters: { label: [`growoff.managed-by=${h.managedBy}`, 'growoff.app=updater'] },
    });
  }

  /** The image of the only updater container, once it is the only one and answers /health on its port. */
  async function exactlyOneUpdater(timeoutMs = 120_000): Promise<string> {
    let image = '';
    await waitUntil(
      'exactly one updater, healthy',
      async () => {
        const all = await updaters();
        if (all.length !== 1 || all[0]!.State !== 'running') return false;
        try {
          const res = await fetch(`http://127.0.0.1:${h.httpPort}/health`, {
            signal: AbortSignal.timeout(2000),
          });
          if (res.status !== 200 || ((await res.json()) as { status: string }).status !== 'ok') return false;
        } catch {
          return false;
        }
        const info = await inspectIfThere(all[0]!.Id);
        if (info === undefined) return false;
        image = info.Config.Labels['growoff.release-image'] ?? info.Config.Image;
        return readFileSync(statePath, 'utf8').startsWith(`current=${image}\n`);
      },
      timeoutMs,
    );
    return image;
  }

  function nextEvent(type: string, app: string): Promise<void> {
    const from = seen.length;
    return waitUntil(
      `${app} ${type}`,
      () => seen.slice(from).some((e) => e.type === type && e.app === app),
      180_000,
    );
  }

  async function publish(updater: string, version: string): Promise<void> {
    await h.publish(core, '1.0.0', { updater: { version, image: updater } });
  }

  /** SIGKILL (docker kill) of the updater containers running `images`. */
  async function kill(images: string[]): Promise<void> {
    for (const c of await updaters()) {
      const info = await inspectIfThere(c.Id);
      if (info === undefined) continue;
      const image = info.Config.Labels['growoff.release-image'] ?? info.Config.Image;
      if (info.State.Running && images.includes(image))
        await h.docker
          .getContainer(c.Id)
          .kill({ signal: 'SIGKILL' })
          .catch((e: unknown) => {
            if (!isGone(e)) throw e;
          });
    }
  }

  // The updaters create and remove containers while the test looks: one listed a moment ago may be gone
  // (or stopped: a kill then answers 409) by the time it is inspected or killed.
  const isGone = (e: unknown) => [404, 409].includes((e as { statusCode?: number }).statusCode ?? 0);
  async function inspectIfThere(id: string) {
    return h.docker
      .getContainer(id)
      .inspect()
      .catch((e: unknown) => {
        if ((e as { statusCode?: number }).statusCode === 404) return undefined;
        throw e;
      });
  }

  it('runs the committed updater from the launcher, which brings up the core from its spec', async () => {
    launcher = new Launcher(launcherEnv);
    expect(await exactlyOneUpdater()).toBe(releases[0]);
    const coreCommitted = nextEvent('install.committed', 'core');
    await publish(releases[0]!, '0.0.0');
    await coreCommitted;
    expect(await h.coreHealth()).toBe('1.0.0');
  }, 240_000);

  // Each row: the event of the hand-over to wait for, then whom a SIGKILL (or power cut) hits.
  const whomText = { old: 'the old updater', new: 'the new updater', both: 'both (a power cut)' };
  const steps: Array<[string, 'old' | 'new' | 'both']> = [
    ['download.started', 'old'],
    ['install.starting_new', 'old'],
    ['install.health_gate', 'old'],
    ['install.handing_over', 'old'],
    ['install.handing_over', 'both'],
    ['install.committed', 'new'],
  ];
  it.each(steps.map(([event, whom], i) => [event, whomText[whom], whom, i] as const))(
    'ends with exactly one updater, old or new, after a SIGKILL at %s of %s',
    async (event, _text, whom, i) => {
      const old = releases[i]!;
      const target = releases[i + 1]!;
      const reached = nextEvent(event, 'updater');
      await publish(target, `0.${i + 1}.0`);
      await reached;
      await kill(whom === 'old' ? [old] : whom === 'new' ? [target] : [old, target]);
      expect([old, target]).toContain(await exactlyOneUpdater());
      // Whichever survived, the module converges on the release's updater.
      await waitUntil(
        'the new updater committed',
        async () => (await exactlyOneUpdater()) === target,
        180_000,
      );
      expect(await h.coreHealth()).toBe('1.0.0');
    },
    420_000,
  );

  it('falls back to the previous updater when the committed one crash-loops', async () => {
    await launcher!.stop();
    expect((await updaters()).filter((c) => c.State === 'running')).toEqual([]);
    const good = releases[steps.length]!;
    // An image that is no updater: its container cannot even render the spec.
    const bad = updaterImages.build({ version: '9.9.9' });
    writeFileSync(statePath, `current=${bad}\nprevious=${good}\n`);
    launcher = new Launcher({ ...launcherEnv, GROWOFF_LAUNCHER_RESTARTS: '3' });
    expect(await exactlyOneUpdater()).toBe(good);
    expect(launcher.lines.join('\n')).toContain(`updater ${bad} crash-loops; falling back to ${good}`);
    // The updater took the failure into its journal; the launcher never falls back to it again.
    expect(readFileSync(statePath, 'utf8')).toBe(`current=${good}\n`);
    const status = (await (await fetch(`http://127.0.0.1:${h.httpPort}/status`)).json()) as {
      version: string;
    };
    expect(status.version).toBeTruthy();
  }, 240_000);
});
