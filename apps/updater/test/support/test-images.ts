import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getService, NODE_BASE_IMAGE, type RegistryInfo } from '@growoff/test-services';

export interface FakeCoreImage {
  version: string;
  mode?: 'healthy' | 'unhealthy' | 'crash' | 'degraded';
  /** With mode `degraded`: the reasons its /health gives (default `sensors`). */
  reasons?: string[];
  crashAfterS?: number;
  lockS?: number;
  /** Bytes of a layer only this image has. */
  uniqueBytes?: number;
  /** More ENV baked into the image (e.g. a fixed GROWOFF_HTTP_PORT for a Telegraf stand-in). */
  env?: Record<string, string>;
  /** An account the image has beside root and node (uid and gid 999), e.g. Telegraf's `telegraf`. */
  user?: string;
}

/**
 * Small core images made FROM the node base image and pushed with the docker CLI to a repository
 * of the registry unique to this instance; local copies are removed so the updater must pull them.
 */
export class TestImages {
  readonly registry: RegistryInfo;
  readonly repository: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'updater-images-'));
  private readonly env: NodeJS.ProcessEnv;
  private readonly pushed: string[] = [];
  private baseTag?: string;

  constructor(options: { registry?: RegistryInfo; sharedBytes?: number; app?: string } = {}) {
    this.registry = options.registry ?? getService('registry');
    this.repository = `updater-${randomBytes(4).toString('hex')}/${options.app ?? 'core'}`;
    this.env = {
      ...process.env,
      DOCKER_HOST: getService('docker').host,
      DOCKER_CONFIG: join(this.dir, 'docker-config'),
    };
    writeFileSync(join(this.dir, 'shared.bin'), randomBytes(options.sharedBytes ?? 64 * 1024));
    copyFileSync(new URL('./fake-core.mjs', import.meta.url), join(this.dir, 'fake-core.mjs'));
    this.docker(
      ['login', '-u', this.registry.username, '--password-stdin', this.registry.host],
      this.registry.password,
    );
  }

  get dockerHost(): string {
    return this.env.DOCKER_HOST!;
  }

  /** The docker CLI config holding this instance's registry login. */
  get dockerConfig(): string {
    return this.env.DOCKER_CONFIG!;
  }

  /** `host/repository`, what GROWOFF_CORE_IMAGE_REPO names. */
  get repo(): string {
    return `${this.registry.host}/${this.repository}`;
  }

  /**
   * The layers every image of this instance shares, built once as a local base image so they are
   * the same layers byte for byte.
   */
  private base(): string {
    if (this.baseTag) return this.baseTag;
    const ctx = join(this.dir, 'ctx-base');
    mkdirSync(ctx, { recursive: true });
    copyFileSync(join(this.dir, 'shared.bin'), join(ctx, 'shared.bin'));
    copyFileSync(join(this.dir, 'fake-core.mjs'), join(ctx, 'fake-core.mjs'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${NODE_BASE_IMAGE}`,
        'COPY shared.bin /opt/shared.bin',
        'COPY fake-core.mjs /opt/fake-core.mjs',
        '',
      ].join('\n'),
    );
    const tag = `${this.repo}-base:local`;
    this.docker(['build', '-q', '-t', tag, ctx]);
    this.baseTag = tag;
    return tag;
  }

  /** Removes the local base image, so the engine must pull the shared layers once. */
  dropBase(): void {
    if (!this.baseTag) return;
    this.docker(['rmi', this.baseTag]);
    this.baseTag = undefined;
  }

  /** Builds and pushes one image; returns `repo@sha256:…`. */
  build(image: FakeCoreImage): string {
    const base = this.base();
    const ctx = join(this.dir, `ctx-${randomBytes(3).toString('hex')}`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'unique.bin'), randomBytes(image.uniqueBytes ?? 1024));
    if (image.user) {
      // The base image's accounts (tools/docker/build-node-base-image.sh) plus this one.
      writeFileSync(
        join(ctx, 'passwd'),
        `root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n${image.user}:x:999:999::/tmp:/bin/sh\n`,
      );
    }
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${base}`,
        'COPY unique.bin /opt/unique.bin',
        ...(image.user ? ['COPY passwd /etc/passwd'] : []),
        `ENV FAKE_MODE=${image.mode ?? 'healthy'} FAKE_VERSION=${image.version} FAKE_CRASH_AFTER_S=${image.crashAfterS ?? 1} FAKE_LOCK_S=${image.lockS ?? 0}`,
        ...(image.reasons ? [`ENV FAKE_REASONS=${image.reasons.join(',')}`] : []),
        ...Object.entries(image.env ?? {}).map(([k, v]) => `ENV ${k}=${v}`),
        'HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD wget -q -O /dev/null "http://127.0.0.1:$GROWOFF_HTTP_PORT/health" || exit 1',
        'CMD ["node", "/opt/fake-core.mjs"]',
        '',
      ].join('\n'),
    );
    const tag = `${this.repo}:${image.version}-${randomBytes(3).toString('hex')}`;
    this.docker(['build', '-q', '-t', tag, ctx]);
    rmSync(ctx, { recursive: true, force: true });
    return this.push(tag);
  }

  /**
   * Pushes `base` (a local image) again as a new release of this repository: the same layers under
   * a label of its own, so a distinct digest; returns `repo@sha256:…`.
   */
  variant(base: string, version: string): string {
    const ctx = join(this.dir, `ctx-${randomBytes(3).toString('hex')}`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nLABEL growoff.test.release=${version}\n`);
    const tag = `${this.repo}:${version}-${randomBytes(3).toString('hex')}`;
    this.docker(['build', '-q', '-t', tag, ctx]);
    rmSync(ctx, { recursive: true, force: true });
    return this.push(tag);
  }

  /** Pushes a local tag, removes it locally, and returns the pushed `repo@sha256:…`. */
  private push(tag: string): string {
    const output = this.docker(['push', tag]);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(output)?.[1];
    if (!digest) throw new Error(`no digest in docker push output: ${output}`);
    this.docker(['rmi', tag]);
    const ref = `${this.repo}@${digest}`;
    this.pushed.push(ref);
    return ref;
  }

  /** Removes local copies of the pushed images (the engine pulled them) and their manifests. */
  async cleanup(): Promise<void> {
    try {
      this.dropBase();
    } catch {
      // still used by an image of a failed test; removed with it
    }
    for (const ref of this.pushed) {
      try {
        this.docker(['rmi', '-f', ref]);
      } catch {
        // not pulled, or already pruned by the updater
      }
      const digest = ref.split('@')[1]!;
      await fetch(`${this.registry.url}/v2/${this.repository}/manifests/${digest}`, {
        method: 'DELETE',
        headers: {
          authorization: `Basic ${Buffer.from(`${this.registry.username}:${this.registry.password}`).toString('base64')}`,
        },
      }).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  docker(args: string[], input?: string): string {
    return execFileSync('docker', args, { env: this.env, encoding: 'utf8', input, stdio: 'pipe' });
  }
}
