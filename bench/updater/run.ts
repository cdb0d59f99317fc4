/**
 * Core downtime during an update with the real core image (docker/app/Dockerfile, APP=core, built
 * here as the image tests build it), the updater against the docker CLI doing it by hand
 * (`docker stop` + `docker run` of the same images, already pulled), in one run. Downtime is the
 * longest gap in the core's /health answers, polled every 50 ms. Ends with its BENCH_RESULT line (bench/result.ts).
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, getService, waitUntil } from '@growoff/test-services';
import { buildImage } from '../../tools/images/src';
import { UpdaterHarness } from '../../apps/updater/test/support/harness';
import { benchResult } from '../result';

const execFileAsync = promisify(execFile);

interface Measure {
  downtimeMs: number;
  /** From the release's publication (or `docker stop`) to the new core's first answer. */
  toNewMs: number;
}

/**
 * Polls /health every 50 ms: the longest run without an answer, and when the new core first answers
 * (the first answer after a miss: both ways stop the old core before they start the new one, and
 * both releases report the same version).
 */
function watchHealth(port: number) {
  let lastOk = Date.now();
  let missed = false;
  let longestGap = 0;
  let firstNew: number | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const tick = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(500) });
        await res.arrayBuffer();
        if (res.status === 200) {
          longestGap = Math.max(longestGap, Date.now() - lastOk);
          lastOk = Date.now();
          if (missed) firstNew ??= Date.now();
        } else {
          missed = true;
        }
      } catch {
        // no answer: part of the gap
        missed = true;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - tick))));
    }
  })();
  return {
    firstNew: () => firstNew,
    /**
     * Once this poll has itself seen the new core answer: the caller learns it from its own poll, and
     * stopping before this one saw it would leave the gap open and uncounted (a downtime of one poll).
     */
    async stop() {
      await waitUntil(
        'the health poll seeing the core again',
        () => !missed || firstNew !== undefined,
        10_000,
      );
      running = false;
      await loop;
      return longestGap;
    },
  };
}

/** A core answering /health. */
async function settled(port: number): Promise<void> {
  await waitUntil(
    'the core answering',
    async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        await res.arrayBuffer();
        return res.status === 200;
      } catch {
        return false;
      }
    },
    120_000,
  );
}

async function viaUpdater(h: UpdaterHarness, version: string, r1: string, r2: string): Promise<Measure> {
  // The real core writes its data dir (its spec binds <GROWOFF_HOST_DATA>/core); a loaded machine
  // may take a while to start it.
  await h.startUpdater({ GROWOFF_HEALTH_TIMEOUT_S: '180' });
  const first = h.nextEvent('install.committed', () => true, 180_000);
  await h.publish(r1, version);
  await first;
  await settled(h.corePort);
  const watch = watchHealth(h.corePort);
  const committed = h.nextEvent('install.committed', () => true, 180_000);
  const published = Date.now();
  await h.publish(r2, version);
  // Committed: the new core answered its gate, so the gap is behind.
  await committed;
  const downtimeMs = await watch.stop();
  const toNewMs = (watch.firstNew() ?? Date.now()) - published;
  await h.stopUpdater();
  for (const c of await h.coreContainers()) await h.docker.getContainer(c.id).remove({ force: true });
  return { downtimeMs, toNewMs };
}

/** By hand: docker stop, docker run (the images are on the engine already, as the updater's are). */
async function viaDockerCli(h: UpdaterHarness, r1: string, r2: string, dataDir: string): Promise<Measure> {
  const port = await freePort();
  const dockerEnv = {
    ...process.env,
    DOCKER_HOST: h.images.dockerHost,
    DOCKER_CONFIG: h.images.dockerConfig,
  };
  // Asynchronous, so the /health poll keeps running while the CLI works.
  const docker = async (args: string[]) => (await execFileAsync('docker', args, { env: dockerEnv })).stdout;
  const run = (name: string, image: string) =>
    docker([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'host',
      '--restart',
      'unless-stopped',
      '--label',
      `growoff.managed-by=${h.managedBy}`,
      '-v',
      `${dataDir}:/data`,
      '-e',
      `GROWOFF_HTTP_PORT=${port}`,
      '-e',
      `GROWOFF_MODULE_ID=${h.moduleId}-cli`,
      '-e',
      `GROWOFF_MQTT_URL=${getService('mosquitto').url}`,
      image,
    ]);
  const old = `updater-bench-${h.id}-1`;
  await run(old, r1);
  await settled(port);
  const watch = watchHealth(port);
  const started = Date.now();
  await docker(['stop', old]);
  await run(`updater-bench-${h.id}-2`, r2);
  // After `docker run`, an answer can only come from the new core.
  await settled(port);
  const toNewMs = Date.now() - started;
  const downtimeMs = await watch.stop();
  await docker(['rm', '-f', old, `updater-bench-${h.id}-2`]);
  return { downtimeMs, toNewMs };
}

async function main(): Promise<void> {
  const h = await UpdaterHarness.create();
  const docker = getService('docker');
  try {
    const base = `${h.images.repo}:bench-base`;
    const built = await buildImage({
      app: 'core',
      tag: base,
      baseImage: docker.nodeBaseImage,
      deps: 'prepared',
      dockerHost: docker.host,
    });
    // Two releases of the same core: a label apart, so two digests with the same layers.
    const releases = ['1', '2'].map((n) => {
      const tag = `${h.images.repo}:bench-${n}`;
      h.images.docker(
        ['build', '-q', '-t', tag, '--label', `growoff.bench-release=${n}`, '-'],
        `FROM ${base}\n`,
      );
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(h.images.docker(['push', tag]))?.[1];
      if (!digest) throw new Error(`no digest pushing ${tag}`);
      return `${h.images.repo}@${digest}`;
    });
    const [r1, r2] = releases as [string, string];
    // Where the core's spec binds /data from (GROWOFF_HOST_DATA/core), writable by the image's user.
    const dataDir = join(h.dir, 'host-data/core');
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o777);
    const updater = await viaUpdater(h, built.version, r1, r2);
    const cli = await viaDockerCli(h, r1, r2, dataDir);
    const ratio = updater.downtimeMs / Math.max(1, cli.downtimeMs);
    console.log(`real core image ${built.tag} (${built.version}), /health polled every 50 ms`);
    console.log(
      `core downtime      updater ${String(updater.downtimeMs).padStart(6)} ms   docker stop + run ${String(cli.downtimeMs).padStart(6)} ms   ratio ${ratio.toFixed(2)}`,
    );
    console.log(
      `to the new core    updater ${String(updater.toNewMs).padStart(6)} ms   docker stop + run ${String(cli.toNewMs).padStart(6)} ms   (the updater's includes the pull by digest)`,
    );
    benchResult('updater', [
      { id: 'updater.downtime', value: updater.downtimeMs, baseline: cli.downtimeMs, unit: 'ms' },
      { id: 'updater.toNewCore', value: updater.toNewMs, baseline: cli.toNewMs, unit: 'ms' },
    ]);
  } finally {
    for (const image of ['bench-1', 'bench-2', 'bench-base'].map((t) => `${h.images.repo}:${t}`)) {
      try {
        h.images.docker(['rmi', '-f', image]);
      } catch {
        // already gone
      }
    }
    await h.cleanup();
  }
}

await main();
