/**
 * The updater's cost of an update versus doing it by hand with the docker CLI, on the same images in
 * the same run: the core's downtime (longest gap in /health answers polled every 50 ms), the time
 * from publishing the release (or starting `docker pull`) to the new core answering, and the bytes
 * pulled against the sizes of the layers the engine did not have.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, waitUntil } from '@growoff/test-services';
import { UpdaterHarness } from '../../apps/updater/test/support/harness';
import { benchResult } from '../result';

const execFileAsync = promisify(execFile);

const SHARED_BYTES = 24 * 1024 * 1024;
const UNIQUE_BYTES = 4 * 1024 * 1024;

interface Measure {
  downtimeMs: number;
  toHealthyMs: number;
  bytesPulled: number;
  newLayerBytes: number;
}

/** Polls /health every 50 ms and records the longest run without an answer. */
function watchHealth(port: number, expectVersion: string) {
  let lastOk = Date.now();
  let longestGap = 0;
  let firstNew: number | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const tick = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(500) });
        const body = (await res.json()) as { version?: string };
        if (res.status === 200) {
          longestGap = Math.max(longestGap, Date.now() - lastOk);
          lastOk = Date.now();
          if (body.version === expectVersion) firstNew ??= Date.now();
        }
      } catch {
        // no answer: part of the gap
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - tick))));
    }
  })();
  return {
    firstNew: () => firstNew,
    async stop() {
      running = false;
      await loop;
      return longestGap;
    },
  };
}

async function viaUpdater(h: UpdaterHarness, v1: string, v2: string): Promise<Measure> {
  await h.startUpdater({ GROWOFF_PROBATION_S: '1' });
  const first = h.nextEvent('install.committed');
  await h.publish(v1, '1.0.0');
  await first;
  await waitUntil('v1 healthy', async () => (await h.coreHealth()) === '1.0.0', 30_000);
  const watch = watchHealth(h.corePort, '2.0.0');
  const downloaded = h.nextEvent('download.completed');
  const committed = h.nextEvent('install.committed');
  const published = Date.now();
  await h.publish(v2, '2.0.0');
  const pull = (await downloaded).data as { bytesDownloaded: number; missingBytes: number };
  await committed;
  await waitUntil('v2 answering', () => watch.firstNew() !== undefined, 30_000);
  const downtimeMs = await watch.stop();
  const toHealthyMs = watch.firstNew()! - published;
  await h.stopUpdater();
  for (const c of await h.coreContainers()) await h.docker.getContainer(c.id).remove({ force: true });
  return { downtimeMs, toHealthyMs, bytesPulled: pull.bytesDownloaded, newLayerBytes: pull.missingBytes };
}

/** The manual way: docker pull, docker stop, docker rm, docker run. */
async function viaDockerCli(h: UpdaterHarness, v1: string, v2: string, port: number): Promise<Measure> {
  const name = `updater-bench-${h.id}`;
  const env = ['-e', `GROWOFF_HTTP_PORT=${port}`, '-e', `GROWOFF_MODULE_ID=${h.moduleId}-cli`];
  const dockerEnv = {
    ...process.env,
    DOCKER_HOST: h.images.dockerHost,
    DOCKER_CONFIG: h.images.dockerConfig,
  };
  // Asynchronous, so the /health poll keeps running while the CLI works.
  const docker = async (args: string[]) => (await execFileAsync('docker', args, { env: dockerEnv })).stdout;
  const run = (image: string) =>
    docker([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'host',
      '--label',
      `growoff.managed-by=${h.managedBy}`,
      ...env,
      image,
    ]);
  await docker(['pull', v1]);
  await run(v1);
  await waitUntil('cli v1 healthy', async () => (await healthVersion(port)) === '1.0.0', 30_000);
  const watch = watchHealth(port, '2.0.0');
  const started = Date.now();
  const output = await docker(['pull', v2]);
  await docker(['stop', name]);
  await docker(['rm', name]);
  await run(v2);
  await waitUntil('cli v2 answering', () => watch.firstNew() !== undefined, 30_000);
  const downtimeMs = await watch.stop();
  const toHealthyMs = watch.firstNew()! - started;
  h.images.docker(['rm', '-f', name]);
  const pulledIds = [...output.matchAll(/^([a-f0-9]{12}): Pull complete/gm)].map((m) => m[1]!);
  const layers = layerSizes(h, v2);
  const bytesPulled = layers
    .filter((l) => pulledIds.includes(l.digest.slice(7, 19)))
    .reduce((s, l) => s + l.size, 0);
  return { downtimeMs, toHealthyMs, bytesPulled, newLayerBytes: bytesPulled };
}

async function healthVersion(port: number): Promise<string | null> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version: string }).version;
  } catch {
    return null;
  }
}

function layerSizes(h: UpdaterHarness, image: string): Array<{ digest: string; size: number }> {
  const manifest = JSON.parse(
    execFileSync(
      'curl',
      [
        '-s',
        '-u',
        `${h.images.registry.username}:${h.images.registry.password}`,
        '-H',
        'Accept: application/vnd.docker.distribution.manifest.v2+json',
        `${h.images.registry.url}/v2/${h.images.repository}/manifests/${image.split('@')[1]}`,
      ],
      { encoding: 'utf8' },
    ),
  ) as {
    layers: Array<{ digest: string; size: number }>;
  };
  return manifest.layers;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

async function main(): Promise<void> {
  const h = await UpdaterHarness.create({ sharedBytes: SHARED_BYTES });
  try {
    const images = {
      u1: h.images.build({ version: '1.0.0', uniqueBytes: UNIQUE_BYTES }),
      u2: h.images.build({ version: '2.0.0', uniqueBytes: UNIQUE_BYTES }),
    };
    h.images.dropBase();
    const updater = await viaUpdater(h, images.u1, images.u2);
    // The baseline gets its own images (same sizes) so its pulls start from the same engine state.
    h.images.docker(['rmi', '-f', images.u1, images.u2]);
    const c1 = h.images.build({ version: '1.0.0', uniqueBytes: UNIQUE_BYTES });
    const c2 = h.images.build({ version: '2.0.0', uniqueBytes: UNIQUE_BYTES });
    h.images.dropBase();
    const cli = await viaDockerCli(h, c1, c2, await freePort());
    const row = (label: string, a: number, b: number, unit: (n: number) => string) =>
      console.log(
        `${label.padEnd(26)} updater ${unit(a).padStart(12)}   docker CLI ${unit(b).padStart(12)}   ratio ${(a / b).toFixed(2)}`,
      );
    const ms = (n: number) => `${n} ms`;
    console.log(`images: shared layer ${mb(SHARED_BYTES)}, per-release layer ${mb(UNIQUE_BYTES)}`);
    row('core downtime (50 ms poll)', updater.downtimeMs, cli.downtimeMs, ms);
    row('publish/pull -> healthy', updater.toHealthyMs, cli.toHealthyMs, ms);
    row('bytes pulled', updater.bytesPulled, cli.bytesPulled, mb);
    console.log(
      `updater: pulled ${mb(updater.bytesPulled)} for ${mb(updater.newLayerBytes)} of new layers (ratio ${(updater.bytesPulled / Math.max(1, updater.newLayerBytes)).toFixed(2)}; shared layers not fetched again)`,
    );
    benchResult('updater', [
      { id: 'updater.downtime', value: updater.downtimeMs, baseline: cli.downtimeMs, unit: 'ms' },
      { id: 'updater.toHealthy', value: updater.toHealthyMs, baseline: cli.toHealthyMs, unit: 'ms' },
    ]);
  } finally {
    await h.cleanup();
  }
}

await main();
