import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getService } from '@growoff/test-services';

export interface PushedImage {
  tag: string;
  digest: string;
}

/**
 * A unique repository in the shared registry with small images pushed through the real docker CLI
 * (a private DOCKER_CONFIG for the login), removed again by `cleanup`.
 */
export class RegistryFixture {
  readonly registry = getService('registry');
  readonly repository = `ecr-standin-${randomBytes(4).toString('hex')}/app`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ecr-standin-'));
  private readonly env = {
    ...process.env,
    DOCKER_HOST: getService('docker').host,
    DOCKER_CONFIG: join(this.dir, 'docker-config'),
  };
  private readonly pushed: PushedImage[] = [];

  login(): void {
    this.docker(
      ['login', '-u', this.registry.username, '--password-stdin', this.registry.host],
      this.registry.password,
    );
  }

  /**
   * Makes a one-layer image (a file of `bytes` random bytes) with `docker import` and pushes it
   * under each tag. No `docker build`: the classic builder's intermediate container and layer
   * commit fail now and then when other builds run on the same engine (moby/moby#18976), and a
   * single file needs neither.
   */
  push(tags: string[], bytes: number): PushedImage[] {
    const context = mkdtempSync(join(this.dir, 'ctx-'));
    writeFileSync(join(context, 'payload.bin'), randomBytes(bytes));
    const layer = join(context, 'layer.tar');
    execFileSync('tar', ['-C', context, '-cf', layer, 'payload.bin']);
    const refs = tags.map((tag) => `${this.registry.host}/${this.repository}:${tag}`);
    this.docker(['import', layer, refs[0]!]);
    for (const ref of refs.slice(1)) this.docker(['tag', refs[0]!, ref]);
    const images = refs.map((ref, i) => {
      const output = this.docker(['push', ref]);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(output)?.[1];
      if (!digest) throw new Error(`no digest in docker push output: ${output}`);
      return { tag: tags[i]!, digest };
    });
    this.docker(['rmi', ...refs]);
    this.pushed.push(...images);
    return images;
  }

  authorization(): string {
    return `Basic ${Buffer.from(`${this.registry.username}:${this.registry.password}`).toString('base64')}`;
  }

  /** Deletes the pushed manifests from the registry and the temporary docker config. */
  async cleanup(): Promise<void> {
    for (const digest of new Set(this.pushed.map((p) => p.digest))) {
      await fetch(`${this.registry.url}/v2/${this.repository}/manifests/${digest}`, {
        method: 'DELETE',
        headers: { authorization: this.authorization() },
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private docker(args: string[], input?: string): string {
    return execFileSync('docker', args, { env: this.env, encoding: 'utf8', input, stdio: 'pipe' });
  }
}
