import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appVersion, REPO_ROOT, type AppName } from '@growoff/images';
import { startEcrStandin, type EcrStandin } from '@growoff/ecr-standin';
import { generateReleaseKeyPair, signEnvelope, topics, type ReleaseDocument } from '@growoff/protocol';
import {
  ARM_ARCHES,
  armNode,
  freePort,
  getArm,
  getService,
  jsonWhenUp,
  portAnswers,
  spawnBuiltApp,
  TopicWatch,
  waitUntil,
  type SpawnedApp,
} from '@growoff/test-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { armDeployment, type ArmDeployment } from '../src';

const arm = getArm();
const broker = getService('mosquitto');
const suffix = randomBytes(3).toString('hex');
const running: SpawnedApp[] = [];
const work = mkdtempSync(join(tmpdir(), 'growoff-arm-'));

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Rejects when the app exits, so a wait on its output or topics ends with its last lines. */
function exitOf(app: SpawnedApp): Promise<string> {
  return new Promise((resolve) =>
    app.child.once('exit', (code, signal) => resolve(`exited (${code ?? signal}):\n${app.output()}`)),
  );
}

/** The app's bundle with its arm dependencies, started on the target's Node under qemu-user. */
function startOnArm(deployment: ArmDeployment, env: Record<string, string>): SpawnedApp {
  const app = spawnBuiltApp(deployment.dir, env, { node: armNode(deployment.target) });
  running.push(app);
  return app;
}

/** Under emulation an app starts in seconds to tens of seconds; the machine is shared. */
const START_MS = 150_000;

describe.each(ARM_ARCHES)('the apps on %s under qemu-user', (arch) => {
  const target = arm.targets[arch];
  const deployments = new Map<AppName, ArmDeployment>();

  beforeAll(async () => {
    for (const app of ['core', 'tunnel', 'updater'] as const) {
      deployments.set(app, await armDeployment(app, target));
    }
  });

  it(`the deployments hold i2c-bus and ssh2's crypto binding (and its cpu-features where it built) compiled for ${arch}`, () => {
    const machine = arch === 'arm64' ? 'ARM aarch64' : 'ARM, EABI5';
    const i2c = join(deployments.get('core')!.dir, 'node_modules/i2c-bus/build/Release/i2c.node');
    expect(execFileSync('file', ['-L', i2c], { encoding: 'utf8' })).toContain(machine);
    const tunnel = deployments.get('tunnel')!;
    expect([...tunnel.addons.built, ...tunnel.addons.dropped].sort()).toEqual([
      'cpu-features',
      'ssh2/lib/protocol/crypto',
    ]);
    // ssh2's own crypto binding is what runs the tunnel's cipher at speed; without it ssh2 falls back to Node's.
    expect(tunnel.addons.built).toContain('ssh2/lib/protocol/crypto');
    for (const name of tunnel.addons.built) {
      const dir = join(tunnel.dir, 'node_modules', name, 'build/Release');
      expect(existsSync(dir), name).toBe(true);
      const node = execFileSync('sh', ['-c', `file -L ${dir}/*.node`], { encoding: 'utf8' });
      expect(node, name).toContain(machine);
    }
  });

  it('core: healthy with its version, readings flow and an MQTT command is applied', async () => {
    const moduleId = `arm-${arch}-core-${suffix}`;
    const port = await freePort();
    const watch = await TopicWatch.connect(broker.url);
    try {
      await watch.watch(`growoff/v1/modules/${moduleId}/#`);
      const core = startOnArm(deployments.get('core')!, {
        GROWOFF_MODULE_ID: moduleId,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_HAL: 'sim',
        GROWOFF_HTTP_PORT: String(port),
        GROWOFF_DATA_DIR: join(work, `${arch}-core`),
      });
      const exited = exitOf(core);
      const health = await jsonWhenUp<{
        status: string;
        version: string;
        hal: { mode: string };
        mqtt: { connected: boolean };
      }>(`http://127.0.0.1:${port}/health`, {
        timeoutMs: START_MS,
        whileWaiting: () => {
          if (core.child.exitCode !== null) throw new Error(`core exited:\n${core.output()}`);
        },
      });
      // Degraded is allowed, as in the image tests: under emulation a loop may miss its first deadline.
      expect(health.status).toMatch(/^(ok|degraded)$/);
      expect(health).toMatchObject({
        version: appVersion('core'),
        hal: { mode: 'sim' },
        mqtt: { connected: true },
      });

      await watch.waitFor(topics.status(moduleId, 'core'), (s) => s.state === 'online', exited);
      await watch.waitFor(
        topics.sensor(moduleId, 'air_temperature'),
        (r) => typeof r.value === 'number' && r.quality === 'ok',
        exited,
      );
      const first = watch.last(topics.sensor(moduleId, 'air_temperature'))!.ts;
      await watch.waitFor(topics.sensor(moduleId, 'air_temperature'), (r) => r.ts !== first, exited);

      await watch.client.publishAsync(topics.actuatorSet(moduleId, 'fan'), JSON.stringify({ level: 37 }), {
        qos: 1,
      });
      await watch.waitFor(topics.actuator(moduleId, 'fan'), (a) => a.level === 37, exited);
      // The REST API serves the state the command set (GET /api/v1/actuators: there is no per-id GET).
      const actuators = (await (await fetch(`http://127.0.0.1:${port}/api/v1/actuators`)).json()) as {
        id: string;
        level?: number;
      }[];
      expect(actuators.find((a) => a.id === 'fan')?.level).toBe(37);
    } finally {
      await watch.client.publishAsync(topics.status(moduleId, 'core'), '', { retain: true });
      await watch.close();
    }
  });

  it('core: GROWOFF_HAL=i2c without /dev/i2c-1 reports the missing bus through the real addon, as on x86', async () => {
    const bus = existsSync('/dev/i2c-1') ? '97' : '1';
    const missingOn = async (node: string[] | undefined, dir: string, name: string) => {
      const port = await freePort();
      const env = {
        GROWOFF_MODULE_ID: `arm-${arch}-i2c-${name}-${suffix}`,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_HAL: 'i2c',
        GROWOFF_I2C_BUS: bus,
        GROWOFF_HTTP_PORT: String(port),
        GROWOFF_DATA_DIR: join(work, `${arch}-i2c-${name}`),
      };
      const app = node ? startOnArm(deployments.get('core')!, env) : spawnBuiltApp(dir, env);
      if (!node) running.push(app);
      const health = await jsonWhenUp<{ status: string; missing: { device: string; error: string }[] }>(
        `http://127.0.0.1:${port}/health`,
        {
          timeoutMs: START_MS,
          whileWaiting: () => {
            if (app.child.exitCode !== null) throw new Error(`core exited:\n${app.output()}`);
          },
        },
      );
      await app.stop();
      return health;
    };
    const onArm = await missingOn(armNode(target), deployments.get('core')!.dir, arch);
    const onX86 = await missingOn(undefined, join(REPO_ROOT, 'apps/core'), 'x64');
    expect(onArm.status).toBe('degraded');
    expect(onArm.missing.find((m) => m.device === 'pca9685')!.error).toContain(`/dev/i2c-${bus}`);
    expect(onArm.missing).toEqual(onX86.missing);
  });

  it('tunnel: opens to the test sshd on request', async () => {
    const sshd = getService('sshd');
    const moduleId = `arm-${arch}-tunnel-${suffix}`;
    const remotePort = await freePort();
    const watch = await TopicWatch.connect(broker.url);
    try {
      await watch.watch(`growoff/v1/modules/${moduleId}/#`);
      const tunnel = startOnArm(deployments.get('tunnel')!, {
        GROWOFF_MODULE_ID: moduleId,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_BASTION: `127.0.0.1:${sshd.port}`,
        GROWOFF_BASTION_USER: sshd.user,
        GROWOFF_BASTION_HOSTKEY: sshd.hostKeyFingerprint,
        GROWOFF_TUNNEL_KEY: sshd.clientKey,
        GROWOFF_TUNNEL_REMOTE_PORT: String(remotePort),
        GROWOFF_DATA_DIR: join(work, `${arch}-tunnel`),
      });
      const exited = exitOf(tunnel);
      await watch.waitFor(
        topics.status(moduleId, 'tunnel'),
        (s) => s.state === 'online' && s.version === appVersion('tunnel'),
        exited,
      );
      await watch.client.publishAsync(
        topics.request(moduleId, 'tunnel', 'open'),
        JSON.stringify({ id: 'arm-open', ttlSeconds: 300, reason: `arm ${arch} smoke test` }),
        { qos: 1 },
      );
      await watch.waitFor(topics.status(moduleId, 'tunnel'), (s) => s.tunnel === 'open', exited);
      expect(watch.last(topics.status(moduleId, 'tunnel'))).toMatchObject({ remotePort });
      // sshd listens on the bastion's side of the reverse tunnel.
      expect(await portAnswers(remotePort)).toBe(true);
      // The cipher runs in ssh2's binding cross-built for this CPU, not in the fallback.
      expect(tunnel.output()).toMatch(/connected to the bastion .*: cipher \S+, ssh2's native crypto/);
    } finally {
      await watch.client.publishAsync(topics.status(moduleId, 'tunnel'), '', { retain: true });
      await watch.close();
    }
  });

  it('updater: reaches the test engine and, through the ECR stand-in, the registry, and pulls a release', async () => {
    const docker = getService('docker');
    const registry = getService('registry');
    const id = `arm-${arch}-updater-${suffix}`;
    const dir = join(work, id);
    mkdirSync(join(dir, 'keys'), { recursive: true });
    const dockerEnv = { ...process.env, DOCKER_HOST: docker.host, DOCKER_CONFIG: join(dir, 'docker-config') };
    const dockerCli = (args: string[], input?: string) =>
      execFileSync('docker', args, { env: dockerEnv, encoding: 'utf8', input }).trim();
    // A small release image only the registry has: the engine must pull it.
    dockerCli(['login', '-u', registry.username, '--password-stdin', registry.host], registry.password);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${docker.nodeBaseImage}\nCOPY unique.bin /opt/unique.bin\n`);
    writeFileSync(join(dir, 'unique.bin'), randomBytes(4096));
    const repo = `${registry.host}/${id}/core`;
    dockerCli(['build', '-q', '-t', `${repo}:1.0.0`, dir]);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(dockerCli(['push', `${repo}:1.0.0`]))![1]!;
    dockerCli(['rmi', `${repo}:1.0.0`]);
    const image = `${repo}@${digest}`;

    const keys = generateReleaseKeyPair();
    writeFileSync(join(dir, 'keys/release.pem'), keys.publicKeyPem);
    const ecr: EcrStandin = await startEcrStandin({ registry });
    const watch = await TopicWatch.connect(broker.url);
    const channel = `arm-${arch}-${suffix}`;
    try {
      await watch.watch(`growoff/v1/modules/${id}/#`);
      const port = await freePort();
      const updater = startOnArm(deployments.get('updater')!, {
        GROWOFF_MODULE_ID: id,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_DOCKER_HOST: docker.host,
        GROWOFF_ECR_ENDPOINT: ecr.url,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'arm-smoke',
        AWS_SECRET_ACCESS_KEY: 'arm-smoke',
        GROWOFF_RELEASE_KEYS: join(dir, 'keys'),
        GROWOFF_CHANNEL: channel,
        GROWOFF_CORE_IMAGE_REPO: repo,
        GROWOFF_UPDATER_HTTP_PORT: String(port),
        GROWOFF_DATA_DIR: join(dir, 'data'),
        GROWOFF_CORE_CONTAINER: `${id}-core`,
        GROWOFF_TELEGRAF_CONTAINER: `${id}-telegraf`,
        GROWOFF_MANAGED_BY: id,
        GROWOFF_HEALTH_TIMEOUT_S: '5',
      });
      const exited = exitOf(updater);
      const health = await jsonWhenUp<{ version: string }>(`http://127.0.0.1:${port}/health`, {
        timeoutMs: START_MS,
        whileWaiting: () => {
          if (updater.child.exitCode !== null) throw new Error(`updater exited:\n${updater.output()}`);
        },
      });
      expect(health.version).toBe(appVersion('updater'));
      await watch.waitFor(topics.status(id, 'updater'), (s) => s.state === 'online', exited);

      const payload: ReleaseDocument = {
        kind: 'release',
        name: 'v1.0.0',
        apps: { core: { version: '1.0.0', image } },
        target: { channel, rollout: { percent: 100 } },
        sequence: 1,
        issuedAt: new Date().toISOString(),
      };
      await watch.client.publishAsync(
        topics.fleetRelease(channel),
        JSON.stringify(signEnvelope(payload, { privateKeyPem: keys.privateKeyPem })),
        { retain: true, qos: 1 },
      );
      await watch.waitFor(topics.events(id), (e) => e.type === 'download.completed', exited);
      expect(ecr.stats().tokensIssued).toBeGreaterThan(0);
      await waitUntil('the engine holding the pulled image', () => {
        try {
          return dockerCli(['image', 'inspect', '--format', '{{.Id}}', image]).startsWith('sha256:');
        } catch {
          return false;
        }
      });
    } finally {
      await Promise.all(running.splice(0).map((app) => app.stop()));
      await watch.client.publishAsync(topics.fleetRelease(channel), '', { retain: true });
      await watch.client.publishAsync(topics.status(id, 'updater'), '', { retain: true });
      await watch.close();
      await ecr.close();
      const managed = dockerCli(['ps', '-aq', '--filter', `label=growoff.managed-by=${id}`]);
      if (managed) dockerCli(['rm', '--force', ...managed.split('\n')]);
      dockerCli(['rmi', '--force', image]);
    }
  });
});
