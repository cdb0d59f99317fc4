import { createHash, randomBytes } from 'node:crypto';
import { getService } from '@growoff/test-services';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * Images of one config and one layer blob, pushed with the registry's own /v2 API (no engine
 * needed: the CLI only tags and deletes them), in a repository unique to this instance.
 */
export class TinyImages {
  readonly registry = getService('registry');
  readonly repository = `fleet-cli-${randomBytes(4).toString('hex')}/core`;
  private readonly pushed: string[] = [];

  get repo(): string {
    return `${this.registry.host}/${this.repository}`;
  }

  private get authorization(): string {
    return `Basic ${Buffer.from(`${this.registry.username}:${this.registry.password}`).toString('base64')}`;
  }

  private async blob(content: Buffer): Promise<{ digest: string; size: number }> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const start = await fetch(`${this.registry.url}/v2/${this.repository}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: this.authorization },
    });
    const location = new URL(start.headers.get('location')!, this.registry.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { authorization: this.authorization, 'content-type': 'application/octet-stream' },
      body: content,
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return { digest, size: content.length };
  }

  /** Pushes a new image under `tag`; returns `host/repository@sha256:…`. */
  async push(tag: string): Promise<string> {
    const config = await this.blob(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Labels: { tag } },
          rootfs: { type: 'layers', diff_ids: [] },
        }),
      ),
    );
    const layer = await this.blob(randomBytes(256));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layer }],
    });
    const response = await fetch(`${this.registry.url}/v2/${this.repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { authorization: this.authorization, 'content-type': MANIFEST_TYPE },
      body: manifest,
    });
    if (response.status !== 201)
      throw new Error(`manifest push: ${response.status} ${await response.text()}`);
    const ref = `${this.repo}@${response.headers.get('docker-content-digest')}`;
    this.pushed.push(ref);
    return ref;
  }

  /** The digest a tag points at in the registry, or null when the registry does not have it. */
  async digestOf(reference: string): Promise<string | null> {
    const response = await fetch(`${this.registry.url}/v2/${this.repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { authorization: this.authorization, accept: MANIFEST_TYPE },
    });
    return response.status === 200 ? response.headers.get('docker-content-digest') : null;
  }

  async cleanup(): Promise<void> {
    for (const ref of this.pushed) {
      await fetch(`${this.registry.url}/v2/${this.repository}/manifests/${ref.split('@')[1]}`, {
        method: 'DELETE',
        headers: { authorization: this.authorization },
      }).catch(() => undefined);
    }
  }
}
