import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getService, jsonWhenUp, waitContainerHealthy } from '@growoff/test-services';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAMES, buildImage, formatSizes, imageSizes, type AppName, type BuiltImage } from '../src';
import { appVersion, REPO_ROOT } from '../src/workspace';

const docker = getService('docker');
const broker = getService('mosquitto');
const sshd = getService('sshd');
const suffix = randomBytes(4).toString('hex');
const repository = `growoff-images-${suffix}/`;
const moduleId = `images-${suffix}`;
const env = { ...process.env, DOCKER_HOST: docker.host };
const built = new Map<AppName, BuiltImage>();
const containers: string[] = [];
let work: string;

function dockerCli(...args: string[]): string {
  return execFileSync('docker', args, { env, encoding: 'utf8' }).trim();
}

/** Runs `script` in a throwaway container of `app`'s image, with no network; its output. */
function shInImage(app: AppName, script: string): string {
  return dockerCli(
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'sh',
    built.get(app)!.tag,
    '-c',
    script,
  );
}

/** Starts an image on the host network with a 1 s health interval, so its HEALTHCHECK runs soon. */
function runContainer(app: AppName, options: { env: Record<string, string>; volumes?: string[] }): string {
  const name = `growoff-images-${app}-${suffix}`;
  const args = ['run', '--detach', '--name', name, '--network', 'host', '--health-interval', '1s'];
  for (const [k, v] of Object.entries(options.env)) args.push('--env', `${k}=${v}`);
  for (const v of options.volumes ?? []) args.push('--volume', v);
  dockerCli(...args, built.get(app)!.tag);
  containers.push(name);
  return name;
}

/** Throws with the container's last log lines (its stdout and stderr) when it has stopped. */
function assertRunning(name: string): void {
  if (dockerCli('inspect', '--format', '{{.State.Running}}', name) !== 'true') {
    const logs = spawnSync('docker', ['logs', '--tail', '30', name], { env, encoding: 'utf8' });
    throw new Error(`${name} stopped:\n${logs.stdout}${logs.stderr}`);
  }
}

/** A container's start and first health checks take tens of seconds on a loaded machine. */
const waitHealthy = (name: string) => waitContainerHealthy(name, docker.host, 45_000);

/** The next retained message on a topic of the shared broker. */
async function retained(topic: string): Promise<Record<string, unknown>> {
  const client = await mqtt.connectAsync(broker.url);
  try {
    return await new Promise((resolve) => {
      client.on('message', (_t, payload) =>
        resolve(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
      void client.subscribeAsync(topic);
    });
  } finally {
    await client.endAsync();
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'growoff-images-'));
  const started = Date.now();
  // The three builds overlap: each `pnpm deploy` waits for the workspace's pnpm lock in turn while
  // the previous image's docker build runs; the images share the base image's layer.
  const results = await Promise.allSettled(
    APP_NAMES.map((app) =>
      buildImage({
        app,
        tag: `${repository}${app}:${appVersion(app)}`,
        baseImage: docker.nodeBaseImage,
        deps: 'prepared',
        dockerHost: docker.host,
        // The bundle this run built (its nx target's build), not rebuilt under the other tests' feet.
        buildApp: false,
      }),
    ),
  );
  for (const r of results) if (r.status === 'fulfilled') built.set(r.value.app, r.value);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  console.log(
    `images built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${[...built.values()].map((b) => `${b.app} ${b.seconds.toFixed(1)} s`).join(', ')}`,
  );
});

afterAll(() => {
  for (const name of containers) execFileSync('docker', ['rm', '--force', name], { env, stdio: 'ignore' });
  for (const image of built.values())
    execFileSync('docker', ['rmi', '--force', image.tag], { env, stdio: 'ignore' });
  if (work) rmSync(work, { recursive: true, force: true });
});

// A container's start and first health checks take tens of seconds on a loaded machine.
describe('the app images, built with the local base image', { timeout: 120_000 }, () => {
  it('carry their package version, revision and title as OCI labels', () => {
    for (const app of APP_NAMES) {
      const labels = JSON.parse(
        dockerCli('image', 'inspect', '--format', '{{json .Config.Labels}}', built.get(app)!.tag),
      );
      expect(labels, app).toMatchObject({
        'org.opencontainers.image.title': `growoff-${app}`,
        'org.opencontainers.image.version': appVersion(app),
        'org.opencontainers.image.revision': built.get(app)!.revision,
        'com.growoff.app': app,
      });
    }
  });

  it('run the bundle as node, except the updater which drives the Docker socket as root, with a health check', () => {
    for (const app of APP_NAMES) {
      const config = JSON.parse(
        dockerCli('image', 'inspect', '--format', '{{json .Config}}', built.get(app)!.tag),
      ) as {
        User?: string;
        Cmd: string[];
        Healthcheck?: { Test: string[] };
      };
      // An image without USER runs as root; inspect then leaves User out or empty.
      expect(config.User ?? '', app).toBe(app === 'updater' ? '' : 'node');
      expect(config.Cmd, app).toEqual([
        'node',
        '--max-semi-space-size=1',
        '--v8-pool-size=2',
        'dist/main.js',
      ]);
      expect(config.Healthcheck?.Test.slice(0, 3), app).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
    }
  });

  it("give the core and the updater glibc malloc thresholds their glibc applies, and the tunnel glibc's defaults", () => {
    // A misspelt tunable is ignored without a word: the image's own dynamic loader lists what it applied.
    const listTunables =
      'for l in /lib64/ld-linux-*.so.* /lib/ld-linux*.so.*; do [ -e "$l" ] && exec "$l" --list-tunables; done; exit 1';
    for (const app of APP_NAMES) {
      const env = JSON.parse(
        dockerCli('image', 'inspect', '--format', '{{json .Config.Env}}', built.get(app)!.tag),
      ) as string[];
      const tunables = shInImage(app, listTunables);
      const value = (name: string) =>
        new RegExp(`^glibc\\.malloc\\.${name}: (\\S+)`, 'm').exec(tunables)?.[1];
      if (app === 'core' || app === 'updater') {
        expect(env, app).toContain(
          'GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=65536',
        );
        expect([value('mmap_threshold'), value('trim_threshold')], app).toEqual(['0x20000', '0x10000']);
      } else {
        expect(
          env.some((e) => e.startsWith('GLIBC_TUNABLES=')),
          app,
        ).toBe(false);
        expect([value('mmap_threshold'), value('trim_threshold')], app).toEqual(['0x0', '0x0']);
      }
    }
  });

  it("hold production dependencies only, with i2c-bus and ssh2's crypto binding built for the image", () => {
    const listing = shInImage(
      'core',
      'ls /app; ls /app/node_modules | tr "\\n" " "; node -e "require(\'/app/node_modules/i2c-bus\'); console.log(\'i2c-bus loads\')"',
    );
    expect(listing).toMatch(/^dist\nhealthcheck\.mjs\nnode_modules\npackage\.json\n/);
    expect(listing).toContain('i2c-bus loads');
    for (const devOnly of ['vitest', 'typescript', 'tsup', 'eslint', '@growoff'])
      expect(listing).not.toMatch(new RegExp(`(^| )${devOnly}( |$)`, 'm'));
    // Without its native binding ssh2 still works, on Node's crypto and JavaScript ChaCha20-Poly1305,
    // at a fraction of the tunnel's throughput: a build that lost the addon would pass every other check.
    const ssh2Crypto = shInImage(
      'tunnel',
      'node -p "require(\'/app/node_modules/ssh2/lib/protocol/crypto.js\').bindingAvailable"',
    );
    expect(ssh2Crypto).toBe('true');
  });

  it('core: answers /health on its port with its version, publishes its status and turns healthy', async () => {
    const port = await freePort();
    const name = runContainer('core', {
      env: {
        GROWOFF_HAL: 'sim',
        GROWOFF_HTTP_PORT: String(port),
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_MODULE_ID: moduleId,
      },
    });
    const health = await jsonWhenUp<{ status?: string; version?: string }>(
      `http://127.0.0.1:${port}/health`,
      {
        whileWaiting: () => assertRunning(name),
      },
    );
    expect(health.status).toMatch(/^(ok|degraded)$/);
    expect(health.version).toBe(appVersion('core'));
    expect(await retained(`growoff/v1/modules/${moduleId}/core/status`)).toMatchObject({
      state: 'online',
      version: appVersion('core'),
    });
    await waitHealthy(name);
  });

  it('updater: starts with the Docker socket, answers /health with its version, publishes its status and turns healthy', async () => {
    const port = await freePort();
    const keys = join(work, 'release-keys');
    mkdirSync(keys);
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(keys, 'release.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const name = runContainer('updater', {
      env: {
        GROWOFF_MODULE_ID: moduleId,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_UPDATER_HTTP_PORT: String(port),
        GROWOFF_RELEASE_KEYS: '/etc/growoff/release-keys',
        GROWOFF_CORE_IMAGE_REPO: `${getService('registry').host}/${repository}core`,
        GROWOFF_ECR_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'images-test',
        AWS_SECRET_ACCESS_KEY: 'images-test',
        GROWOFF_DATA_DIR: '/data',
        // Its own names on the shared engine, so it never takes another test's containers for its own.
        GROWOFF_CORE_CONTAINER: `growoff-images-managed-core-${suffix}`,
        GROWOFF_TELEGRAF_CONTAINER: `growoff-images-managed-telegraf-${suffix}`,
        GROWOFF_MANAGED_BY: `growoff-images-${suffix}`,
      },
      volumes: [`${docker.socket}:/var/run/docker.sock`, `${keys}:/etc/growoff/release-keys:ro`],
    });
    const health = await jsonWhenUp(`http://127.0.0.1:${port}/health`, {
      whileWaiting: () => assertRunning(name),
    });
    expect(health.version).toBe(appVersion('updater'));
    expect(await retained(`growoff/v1/modules/${moduleId}/updater/status`)).toMatchObject({
      state: 'online',
      version: appVersion('updater'),
    });
    await waitHealthy(name);
  });

  it('tunnel: starts as node with its key, publishes its status with its version and turns healthy', async () => {
    const secrets = join(work, 'tunnel');
    mkdirSync(secrets);
    copyFileSync(sshd.clientKey, join(secrets, 'tunnel_ed25519'));
    chmodSync(join(secrets, 'tunnel_ed25519'), 0o600);
    if (process.getuid?.() === 0) chownSync(join(secrets, 'tunnel_ed25519'), 1000, 1000);
    const name = runContainer('tunnel', {
      env: {
        GROWOFF_MODULE_ID: moduleId,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_BASTION: `127.0.0.1:${sshd.port}`,
        GROWOFF_BASTION_USER: sshd.user,
        GROWOFF_BASTION_HOSTKEY: sshd.hostKeyFingerprint,
        GROWOFF_TUNNEL_KEY: '/run/secrets/tunnel_ed25519',
        GROWOFF_TUNNEL_REMOTE_PORT: String(await freePort()),
        GROWOFF_DATA_DIR: '/data',
      },
      volumes: [`${join(secrets, 'tunnel_ed25519')}:/run/secrets/tunnel_ed25519:ro`],
    });
    const status = await retained(`growoff/v1/modules/${moduleId}/tunnel/status`);
    expect(status.state).not.toBe('offline');
    expect(status.version).toBe(appVersion('tunnel'));
    await waitHealthy(name);
  });

  it('stay within their size budget, as the sizes script prints them', () => {
    const sizes = imageSizes(
      APP_NAMES.map((app) => ({ app, tag: built.get(app)!.tag })),
      docker.nodeBaseImage,
      docker.host,
    );
    console.log(formatSizes(sizes));
    for (const s of sizes) expect(s.appMb, s.app).toBeLessThanOrEqual(s.budgetMb);
    const printed = execFileSync(
      'pnpm',
      [
        'exec',
        'tsx',
        'tools/images/src/cli.ts',
        'sizes',
        '--repository',
        repository,
        '--base-image',
        docker.nodeBaseImage,
      ],
      { cwd: REPO_ROOT, env, encoding: 'utf8' },
    );
    for (const app of APP_NAMES)
      expect(printed).toMatch(new RegExp(`^${app} +[\\d.]+ \\([\\d.]+\\) +\\d+ +ok$`, 'm'));
  });
});
