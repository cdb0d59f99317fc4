import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  APP_NAMES,
  appVersion,
  buildImage,
  formatSizes,
  imageSizes,
  type AppName,
  type ImageSize,
} from '@growoff/images';
import {
  ARM_ARCHES,
  type ArmArch,
  freePort,
  getArm,
  getService,
  waitContainerHealthy,
} from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armDeployment, buildArmSourceImage } from '../src';

const arm = getArm();
const docker = getService('docker');
const broker = getService('mosquitto');
const sshd = getService('sshd');
const suffix = randomBytes(3).toString('hex');
const env = { ...process.env, DOCKER_HOST: docker.host };
const containers: string[] = [];
const tags: string[] = [];
/** The size report: one table per way of building, a column per platform in each. */
const sizes: Record<Deps, ImageSize[]> = { prepared: [], source: [] };
/** Each image's build time, printed beside the sizes. */
const buildTimes: string[] = [];
export type Deps = 'prepared' | 'source';
const work = mkdtempSync(join(tmpdir(), 'growoff-arm-images-'));

function dockerCli(...args: string[]): string {
  return execFileSync('docker', args, { env, encoding: 'utf8' }).trim();
}

/** Removes the containers started so far: an idle app under qemu still costs the next builds CPU. */
function removeContainers(): void {
  for (const name of containers.splice(0))
    spawnSync('docker', ['rm', '--force', name], { env, stdio: 'ignore' });
}

afterAll(() => {
  removeContainers();
  for (const tag of tags) spawnSync('docker', ['rmi', '--force', tag], { env, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
  for (const [deps, measured] of Object.entries(sizes))
    if (measured.length > 0) console.log(`APP_DEPS=${deps}\n${formatSizes(measured)}`);
  if (buildTimes.length > 0) console.log(`build times\n${buildTimes.join('\n')}`);
});

/** Under emulation on a shared machine, a start and its first health checks take minutes. */
const waitHealthy = (name: string) => waitContainerHealthy(name, docker.host, 400_000);

/** What each app needs to come up healthy, on the host network beside the shared services. */
async function appEnv(
  app: AppName,
  arch: string,
): Promise<{ env: Record<string, string>; volumes: string[] }> {
  const moduleId = `arm-image-${arch}-${suffix}`;
  const common = { GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: broker.url, GROWOFF_DATA_DIR: '/data' };
  if (app === 'core')
    return {
      env: { ...common, GROWOFF_HAL: 'sim', GROWOFF_HTTP_PORT: String(await freePort()) },
      volumes: [],
    };
  if (app === 'updater') {
    const keys = join(work, `keys-${arch}`);
    mkdirSync(keys);
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(keys, 'release.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    return {
      env: {
        ...common,
        GROWOFF_UPDATER_HTTP_PORT: String(await freePort()),
        GROWOFF_RELEASE_KEYS: '/etc/growoff/release-keys',
        GROWOFF_CORE_IMAGE_REPO: `${getService('registry').host}/arm-images-${suffix}/core`,
        GROWOFF_ECR_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'arm-images',
        AWS_SECRET_ACCESS_KEY: 'arm-images',
        GROWOFF_CORE_CONTAINER: `arm-images-core-${arch}-${suffix}`,
        GROWOFF_TELEGRAF_CONTAINER: `arm-images-telegraf-${arch}-${suffix}`,
        GROWOFF_MANAGED_BY: `arm-images-${arch}-${suffix}`,
      },
      volumes: [`${docker.socket}:/var/run/docker.sock`, `${keys}:/etc/growoff/release-keys:ro`],
    };
  }
  const key = join(work, `tunnel-${arch}`);
  copyFileSync(sshd.clientKey, key);
  chmodSync(key, 0o600);
  if (process.getuid?.() === 0) chownSync(key, 1000, 1000);
  return {
    env: {
      ...common,
      GROWOFF_BASTION: `127.0.0.1:${sshd.port}`,
      GROWOFF_BASTION_USER: sshd.user,
      GROWOFF_BASTION_HOSTKEY: sshd.hostKeyFingerprint,
      GROWOFF_TUNNEL_KEY: '/run/secrets/tunnel_ed25519',
      GROWOFF_TUNNEL_REMOTE_PORT: String(await freePort()),
    },
    volumes: [`${key}:/run/secrets/tunnel_ed25519:ro`],
  };
}

/**
 * The architectures to build: all, or those GROWOFF_ARM_ARCHES lists (comma-separated), so CI can
 * give each its own job. A name that is not an arch is an error, not a silently empty run.
 */
function selectedArches(): ArmArch[] {
  const listed = process.env.GROWOFF_ARM_ARCHES?.split(',').filter((a) => a !== '');
  if (!listed || listed.length === 0) return ARM_ARCHES;
  const unknown = listed.filter((a) => !ARM_ARCHES.includes(a as ArmArch));
  if (unknown.length > 0)
    throw new Error(
      `GROWOFF_ARM_ARCHES names ${unknown.join(', ')}; the arches are ${ARM_ARCHES.join(', ')}`,
    );
  return listed as ArmArch[];
}

/**
 * Each arch's images, built one of two ways: APP_DEPS=prepared from the dependencies cross-built
 * here, or APP_DEPS=source as CI builds them, where `pnpm install`, the app's build and i2c-bus's
 * compile run inside the emulated build stage (the target's build base image, which has the compiler).
 */
export function describeArmImages(deps: Deps): void {
  describe.each(selectedArches())(`the app images for %s, built with APP_DEPS=${deps}`, (arch) => {
    const target = arm.targets[arch];
    const built = new Map<AppName, string>();

    beforeAll(async () => {
      // One at a time: an emulated build is CPU-heavy and the machine is shared.
      for (const app of APP_NAMES) {
        const tag = `growoff-arm-${suffix}/${app}:${appVersion(app)}-${arch}-${deps}`;
        tags.push(tag);
        const started = Date.now();
        if (deps === 'source') {
          // The emulated build's output, to follow it (tens of minutes): tools/arm/.tmp/.
          const log = join(import.meta.dirname, '../.tmp', `source-build-${arch}-${app}.log`);
          mkdirSync(dirname(log), { recursive: true });
          writeFileSync(log, '');
          await buildArmSourceImage(app, target, tag, docker.host, (line) =>
            appendFileSync(log, `${line}\n`),
          );
        } else {
          const deployment = await armDeployment(app, target);
          await buildImage({
            app,
            tag,
            baseImage: target.baseImage,
            platform: target.platform,
            deps: 'prepared',
            preparedFor: { dir: deployment.dir, arch: target.nodeArch, modules: target.nodeAbi },
            dockerHost: docker.host,
            buildApp: false,
          });
        }
        built.set(app, tag);
        buildTimes.push(`${arch} ${app} APP_DEPS=${deps}: ${Math.round((Date.now() - started) / 1000)} s`);
      }
    }, 3_600_000);

    // Before the next arch's builds.
    afterAll(removeContainers);

    it(`are ${target.platform} images whose i2c-bus loads on the target's Node`, () => {
      for (const app of APP_NAMES) {
        const platform = dockerCli(
          'image',
          'inspect',
          '--format',
          '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}',
          built.get(app)!,
        );
        expect(platform, app).toBe(target.platform);
      }
      const loaded = dockerCli(
        'run',
        '--rm',
        '--network',
        'none',
        built.get('core')!,
        'node',
        '-e',
        "require('/app/node_modules/i2c-bus'); console.log(process.arch, 'i2c-bus loads')",
      );
      expect(loaded).toBe(`${target.nodeArch} i2c-bus loads`);
    });

    it.each(APP_NAMES)(
      '%s: runs under emulation until its health check passes',
      { timeout: 450_000 },
      async (app) => {
        const name = `growoff-arm-${app}-${arch}-${deps}-${suffix}`;
        const { env: appEnvironment, volumes } = await appEnv(app, `${arch}-${deps}`);
        // The image's 10 s health-check timeout is a Pi's: under qemu here, Node alone can take longer to start.
        const args = [
          'run',
          '--detach',
          '--name',
          name,
          '--network',
          'host',
          '--health-interval',
          '10s',
          '--health-timeout',
          '120s',
          // The health-check script's own limit (8 s, for a Pi) to match.
          '--env',
          'GROWOFF_HEALTHCHECK_MS=110000',
        ];
        for (const [k, v] of Object.entries(appEnvironment)) args.push('--env', `${k}=${v}`);
        for (const v of volumes) args.push('--volume', v);
        dockerCli(...args, built.get(app)!);
        containers.push(name);
        await waitHealthy(name);
      },
    );

    it('stay within their size budget over the arm base image', () => {
      const measured = imageSizes(
        APP_NAMES.map((app) => ({ app, tag: built.get(app)! })),
        target.baseImage,
        docker.host,
      );
      sizes[deps].push(...measured);
      for (const s of measured) {
        expect(s.platform, s.app).toBe(target.platform);
        expect(s.appMb, s.app).toBeLessThanOrEqual(s.budgetMb);
      }
    });
  });
}
