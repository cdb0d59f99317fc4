import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { writeFleetBroker, type Credential } from '@growoff/broker-config';
import { startEcrStandin, type EcrStandin } from '@growoff/ecr-standin';
import { buildImage } from '@growoff/images';
import { rolloutBucket } from '@growoff/protocol';
import {
  freePort,
  getService,
  spawnBuiltApp,
  startMosquitto,
  stopProcess,
  type SpawnedApp,
  type MosquittoInfo,
} from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The release walk-through of docs/RELEASING.md, its `sh` blocks run as written (only the
 * variables it documents are set), against a broker with the fleet ACL, the registry behind the
 * ECR stand-in, three real updater processes on the real engine and real core images.
 */

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/**
 * The version the core image reports (its package version): the version a release names for the
 * core must be it, or the modules' health gate refuses the image. The fleet release's own name
 * (v1.3.0-rc1, v1.3.0) is the release manager's.
 */
const CORE_VERSION = (
  JSON.parse(readFileSync(join(REPO, 'apps/core/package.json'), 'utf8')) as { version: string }
).version;
const DOC = join(REPO, 'docs/RELEASING.md');
const STEPS = [
  'keys',
  'branch',
  'candidate',
  'checklist',
  'promote',
  'widen',
  'publish',
  'revoke',
  'delete',
  'rotate-keys',
  'hotfix',
];
const docker = getService('docker');
const registry = getService('registry');
const id = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'fleet-rehearsal-'));
const work = join(dir, 'repo');
const release: Credential = { username: 'growoff-release', password: randomBytes(8).toString('hex') };
const channel = `rehearsal-${id}`;
const repository = `rehearsal-${id}/core`;
const managedBy = `fleet-rehearsal-${id}`;

/** The `sh` blocks of the doc, by the step their first line names. */
function docSteps(): Map<string, string> {
  const steps = new Map<string, string>();
  for (const match of readFileSync(DOC, 'utf8').matchAll(/^```sh\n# step: (\S+)\n([\s\S]*?)^```$/gm)) {
    steps.set(match[1]!, match[2]!);
  }
  return steps;
}

/** Three module ids: one inside a 10 % rollout, two outside (the test module is one of them). */
function moduleIds(): { inTen: string; outside: string; test: string } {
  const ids: string[] = [];
  const want = (inside: boolean) => {
    for (;;) {
      const candidate = `rehearsal-${id}-${randomBytes(3).toString('hex')}`;
      if (rolloutBucket(candidate) < 1000 === inside) return candidate;
    }
  };
  ids.push(want(true), want(false), want(false));
  return { inTen: ids[0]!, outside: ids[1]!, test: ids[2]! };
}

const modules = moduleIds();
const moduleCreds: Credential[] = Object.values(modules).map((m) => ({
  username: m,
  password: randomBytes(8).toString('hex'),
}));

let broker: MosquittoInfo;
let ecr: EcrStandin;
let watcher: MqttClient;
let events: ChildProcess;
const updaters: SpawnedApp[] = [];
const statuses = new Map<
  string,
  { apps?: { core?: { current?: { image?: string }; phase?: string } }; lastResult?: { result?: string } }
>();
const started: { module: string; image: string }[] = [];
const images = { rc: '', bad: '' };
const env: Record<string, string> = {};

function docker_(args: string[], input?: string): string {
  return execFileSync('docker', args, {
    env: { ...process.env, DOCKER_HOST: docker.host, DOCKER_CONFIG: join(dir, 'docker-config') },
    encoding: 'utf8',
    input,
    stdio: 'pipe',
  });
}

/** Builds `FROM base` plus `lines` and pushes it; returns `host/repository@sha256:…`. */
function variant(base: string, tag: string, lines: string[]): string {
  const context = join(dir, `ctx-${tag}`);
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), [`FROM ${base}`, ...lines, ''].join('\n'));
  const ref = `${registry.host}/${repository}:${tag}`;
  docker_(['build', '-q', '-t', ref, context]);
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(docker_(['push', ref]))?.[1];
  if (!digest) throw new Error(`no digest pushing ${ref}`);
  docker_(['rmi', ref]);
  return `${registry.host}/${repository}@${digest}`;
}

/** Runs one step of the doc as written, with bash, in the release manager's checkout. */
async function step(name: string, vars: Record<string, string> = {}): Promise<string> {
  const script = docSteps().get(name);
  if (!script) throw new Error(`docs/RELEASING.md has no sh block '# step: ${name}'`);
  try {
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: work,
      env: { ...env, ...vars },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`step ${name} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Resolves once `check` holds for the updaters' retained statuses (re-checked at each status). */
function until(what: string, check: () => boolean, timeoutMs = 240_000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.removeListener('message', onMessage);
      reject(new Error(`timed out waiting for ${what}; statuses: ${JSON.stringify([...statuses])}`));
    }, timeoutMs);
    const onMessage = () => {
      if (!check()) return;
      clearTimeout(timer);
      watcher.removeListener('message', onMessage);
      resolve();
    };
    watcher.on('message', onMessage);
  });
}

const runs = (module: string, image: string) => statuses.get(module)?.apps?.core?.current?.image === image;

/** What the engine runs for these modules: the image each running core was created from. */
function runningImages(): Map<string, string> {
  const byModule = new Map<string, string>();
  for (const module of Object.values(modules)) {
    const ids = docker_(['ps', '-q', '--filter', `label=growoff.managed-by=${managedBy}-${module}`]);
    for (const container of ids.split('\n').filter(Boolean)) {
      byModule.set(module, docker_(['inspect', '--format', '{{.Config.Image}}', container]).trim());
    }
  }
  return byModule;
}

beforeAll(async () => {
  // The fleet broker: passwords and the fleet ACL, modules by their own id.
  chmodSync(dir, 0o711);
  const files = await writeFleetBroker({
    dir: join(dir, 'broker'),
    modules: moduleCreds,
    release,
    // Mosquitto started as root reads these files as its own user after dropping privileges.
    brokerUser: process.getuid?.() === 0 ? 'mosquitto' : undefined,
  });
  broker = await startMosquitto({
    dir: join(dir, 'broker'),
    port: await freePort(),
    extraConfig: files.config,
  });
  ecr = await startEcrStandin({ registry });

  // Real core images: one build of docker/app/Dockerfile, then cheap variants on top of it.
  mkdirSync(join(dir, 'docker-config'));
  docker_(['login', '-u', registry.username, '--password-stdin', registry.host], registry.password);
  const base = `${registry.host}/${repository}:build`;
  await buildImage({
    app: 'core',
    tag: base,
    baseImage: docker.nodeBaseImage,
    deps: 'prepared',
    dockerHost: docker.host,
    // The bundle this run built (its nx target's build), not rebuilt under the other tests' feet.
    buildApp: false,
  });
  images.rc = variant(base, '1.3.0-rc.1', ['LABEL org.opencontainers.image.version=1.3.0-rc.1']);
  // A core that never gets healthy: it exits at once.
  images.bad = variant(base, '1.4.0', [
    'LABEL org.opencontainers.image.version=1.4.0',
    'CMD ["node", "-e", "process.exit(3)"]',
  ]);

  // Every container the engine starts for these modules, as the engine reports it.
  events = spawn(
    'docker',
    ['events', '--filter', 'type=container', '--filter', 'event=start', '--format', '{{json .}}'],
    {
      env: { ...process.env, DOCKER_HOST: docker.host },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  createInterface({ input: events.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
    const attributes = event.Actor?.Attributes ?? {};
    const label = attributes['growoff.managed-by'] ?? '';
    if (label.startsWith(managedBy))
      started.push({ module: label.slice(managedBy.length + 1), image: attributes.image ?? '' });
  });

  watcher = await mqtt.connectAsync(broker.url, {
    username: release.username,
    password: release.password,
    reconnectPeriod: 0,
  });
  watcher.on('message', (topic, payload) => {
    const module = topic.split('/')[3]!;
    if (payload.length === 0) statuses.delete(module);
    else statuses.set(module, JSON.parse(payload.toString('utf8')) as never);
  });
  await watcher.subscribeAsync('growoff/v1/modules/+/updater/status');

  // The release manager's checkout: a git repository whose `npm run fleet` is this CLI.
  mkdirSync(work);
  const tsx = join(REPO, 'node_modules/.bin/tsx');
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({
      name: 'rehearsal',
      private: true,
      scripts: { fleet: `${tsx} ${join(REPO, 'tools/fleet/src/main.ts')}` },
    }),
  );
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: work, env: { ...process.env, ...gitIdentity } });
  const gitIdentity = {
    GIT_AUTHOR_NAME: 'Rehearsal',
    GIT_AUTHOR_EMAIL: 'r@test.invalid',
    GIT_COMMITTER_NAME: 'Rehearsal',
    GIT_COMMITTER_EMAIL: 'r@test.invalid',
  };
  git('init', '-q', '-b', 'main');
  git('add', 'package.json');
  git('commit', '-q', '-m', 'the release branch point');
  const keys = join(dir, 'keys');
  Object.assign(env, {
    PATH: process.env.PATH!,
    HOME: dir,
    USER: 'rehearsal',
    ...gitIdentity,
    GROWOFF_MQTT_URL: broker.url,
    GROWOFF_MQTT_USERNAME: release.username,
    GROWOFF_MQTT_PASSWORD: release.password,
    GROWOFF_RELEASE_SIGNING_KEY: join(keys, 'release-2026.key'),
    GROWOFF_RELEASE_KEYS: join(keys, 'release-2026.pub'),
    GROWOFF_FLEET_STORE: join(dir, 'store'),
    GROWOFF_ECR_ENDPOINT: ecr.url,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIDREHEARSAL',
    AWS_SECRET_ACCESS_KEY: 'rehearsal-secret',
    KEYS: keys,
    LINE: 'v1.3',
    RC: 'v1.3.0-rc1',
    FINAL: 'v1.3.0',
    MODULE: modules.test,
    CHANNEL: channel,
  });
}, 900_000);

afterAll(async () => {
  await Promise.allSettled(updaters.map((u) => u.stop()));
  events?.kill();
  await watcher?.endAsync();
  for (const module of Object.values(modules)) {
    const ids = docker_(['ps', '-aq', '--filter', `label=growoff.managed-by=${managedBy}-${module}`]);
    for (const container of ids.split('\n').filter(Boolean)) docker_(['rm', '-f', container]);
  }
  // The images: the engine's copies, then the registry's manifests (each tag's digest).
  for (const ref of [images.rc, images.bad, `${registry.host}/${repository}:build`].filter(Boolean)) {
    try {
      docker_(['rmi', '-f', ref]);
    } catch {
      // never pulled here, or already gone
    }
  }
  const auth = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
  const accept = 'application/vnd.docker.distribution.manifest.v2+json';
  const tags = await fetch(`${registry.url}/v2/${repository}/tags/list`, { headers: { authorization: auth } })
    .then((r) => r.json() as Promise<{ tags?: string[] | null }>)
    .catch(() => ({ tags: [] }));
  for (const tag of tags.tags ?? []) {
    const head = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { authorization: auth, accept },
    });
    const digest = head.headers.get('docker-content-digest');
    if (digest) {
      await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
        method: 'DELETE',
        headers: { authorization: auth },
      });
    }
  }
  await ecr?.close();
  if (broker) await stopProcess(broker.pid);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('the release walk-through of docs/RELEASING.md', () => {
  it('has exactly the steps this rehearsal runs, in order', () => {
    expect([...docSteps().keys()]).toEqual(STEPS);
  });

  it('keys: a release key, and the floor each new module is installed with', async () => {
    const out = await step('keys');
    const floor = /^(\d+)$/m.exec(out)?.[1];
    expect(floor).toBe('1');
    for (const [n, module] of Object.values(modules).entries()) {
      const moduleDir = join(dir, module);
      mkdirSync(moduleDir);
      // As tools/base's installer leaves a module: the core's data folder, owned by the image's user.
      mkdirSync(join(moduleDir, 'host-data/core'), { recursive: true });
      chownSync(join(moduleDir, 'host-data/core'), 1000, 1000);
      writeFileSync(join(moduleDir, 'release-floor'), `${floor}\n`);
      writeFileSync(
        join(moduleDir, 'core.env'),
        [
          `GROWOFF_MODULE_ID=${module}`,
          'GROWOFF_HTTP_HOST=127.0.0.1',
          `GROWOFF_HTTP_PORT=${await freePort()}`,
          `GROWOFF_MQTT_URL=${broker.url}`,
          `GROWOFF_MQTT_USERNAME=${module}`,
          `GROWOFF_MQTT_PASSWORD=${moduleCreds[n]!.password}`,
          '',
        ].join('\n'),
      );
      mkdirSync(join(moduleDir, 'keys'));
      writeFileSync(
        join(moduleDir, 'keys', 'release-2026.pem'),
        readFileSync(join(env.KEYS!, 'release-2026.pub')),
      );
      const updater = spawnBuiltApp(join(REPO, 'apps/updater'), {
        GROWOFF_MODULE_ID: module,
        GROWOFF_MQTT_URL: broker.url,
        GROWOFF_MQTT_USERNAME: module,
        GROWOFF_MQTT_PASSWORD: moduleCreds[n]!.password,
        GROWOFF_DOCKER_HOST: docker.host,
        GROWOFF_ECR_ENDPOINT: ecr.url,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'AKIDREHEARSAL',
        AWS_SECRET_ACCESS_KEY: 'rehearsal-secret',
        GROWOFF_RELEASE_KEYS: join(moduleDir, 'keys'),
        GROWOFF_RELEASE_FLOOR_FILE: join(moduleDir, 'release-floor'),
        GROWOFF_CHANNEL: channel,
        GROWOFF_CORE_IMAGE_REPO: `${registry.host}/${repository}`,
        GROWOFF_UPDATER_HTTP_PORT: String(await freePort()),
        GROWOFF_DATA_DIR: join(moduleDir, 'data'),
        GROWOFF_CORE_CONTAINER: `rehearsal-core-${module}`,
        // The core's spec reads <GROWOFF_HOST_ETC>/core.env and binds <GROWOFF_HOST_DATA>/core.
        GROWOFF_HOST_ETC: moduleDir,
        GROWOFF_HOST_DATA: join(moduleDir, 'host-data'),
        GROWOFF_HEALTH_TIMEOUT_S: '60',
        GROWOFF_PROBATION_S: '5',
        GROWOFF_CRASHLOOP_RESTARTS: '1',
        GROWOFF_MANAGED_BY: `${managedBy}-${module}`,
      });
      updaters.push(updater);
    }
    await until('three updaters online', () => Object.values(modules).every((m) => statuses.has(m)), 60_000);
  }, 120_000);

  it('branch: the release branch', async () => {
    await step('branch');
    expect(execFileSync('git', ['branch', '--show-current'], { cwd: work, encoding: 'utf8' }).trim()).toBe(
      'release/v1.3',
    );
  }, 60_000);

  it('candidate and checklist: the rc runs on the test module only', async () => {
    await step('candidate', { CORE_VERSION, CORE_IMAGE: images.rc });
    await until('the test module runs the candidate', () => runs(modules.test, images.rc));
    const running = runningImages();
    expect(running.get(modules.test)).toBe(images.rc);
    expect(running.has(modules.inTen) || running.has(modules.outside)).toBe(false);
    const out = await step('checklist');
    expect(out).toContain('6/6 done');
  }, 300_000);

  it('promote: the same digest under the final name, tagged in the registry; 10 % then 100 %', async () => {
    await step('promote');
    await until('the module in 10 % runs the promoted digest', () => runs(modules.inTen, images.rc));
    expect(statuses.get(modules.outside)?.apps?.core?.current).toBeUndefined();
    const tagged = await fetch(`${registry.url}/v2/${repository}/manifests/v1.3.0`, {
      method: 'HEAD',
      headers: {
        authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`,
        accept: 'application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    expect(tagged.headers.get('docker-content-digest')).toBe(images.rc.split('@')[1]);
    expect(execFileSync('git', ['rev-parse', 'v1.3.0^{commit}'], { cwd: work, encoding: 'utf8' })).toBe(
      execFileSync('git', ['rev-parse', 'v1.3.0-rc1^{commit}'], { cwd: work, encoding: 'utf8' }),
    );

    await step('widen');
    await until('every module runs the promoted digest', () =>
      Object.values(modules).every((m) => runs(m, images.rc)),
    );
    expect([...runningImages().values()]).toEqual([images.rc, images.rc, images.rc]);
  }, 600_000);

  it('a bad release: every module rolls back by itself', async () => {
    await step('publish', { NAME: 'v1.4.0', VERSION: CORE_VERSION, IMAGE: images.bad });
    await until(
      'every module rolled back to the good release',
      () =>
        Object.values(modules).every(
          (m) => statuses.get(m)?.lastResult?.result === 'rolled-back' && runs(m, images.rc),
        ),
      300_000,
    );
    expect(started.some((s) => s.image === images.bad)).toBe(true);
  }, 400_000);

  it('revoke, then delete: the bad image leaves the registry', async () => {
    await step('revoke', { BAD: 'v1.4.0', GOOD: 'v1.3.0', REASON: 'its core never gets healthy' });
    await step('delete', { BAD: 'v1.4.0' });
    const gone = await fetch(`${registry.url}/v2/${repository}/manifests/${images.bad.split('@')[1]}`, {
      method: 'HEAD',
      headers: {
        authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`,
      },
    });
    expect(gone.status).toBe(404);
    expect([...runningImages().values()]).toEqual([images.rc, images.rc, images.rc]);
  }, 120_000);

  it('key rotation and a hotfix branch from the release tag', async () => {
    const out = await step('rotate-keys');
    expect(out.match(/published the key set/g)).toHaveLength(2);
    await step('hotfix');
    expect(execFileSync('git', ['branch', '--show-current'], { cwd: work, encoding: 'utf8' }).trim()).toBe(
      'release/v1.3',
    );
  }, 120_000);

  it('no module ever ran an image outside the releases', () => {
    expect(started.length).toBeGreaterThanOrEqual(3);
    for (const s of started) expect([images.rc, images.bad], JSON.stringify(s)).toContain(s.image);
  });
});
