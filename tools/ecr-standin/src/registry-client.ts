import { CodedError } from '@growoff/protocol';

/** The few docker-registry v2 API calls the ECR stand-in answers from. */

export interface RegistryAccess {
  /** Base URL, e.g. `http://127.0.0.1:15000`. */
  url: string;
  username: string;
  password: string;
}

/** The manifest types ECR stores; a manifest list / OCI index is returned as such, not resolved. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface Manifest {
  digest: string;
  mediaType: string;
  /** The manifest exactly as the registry serves it (its digest is over these bytes). */
  body: string;
  /** Compressed bytes to fetch: layers + config, or the sum of an index's entries. */
  sizeInBytes: number;
}

/**
 * The registry answered 404 for the repository (NAME_UNKNOWN) or the reference (MANIFEST_UNKNOWN),
 * or refused a manifest whose layers or config it does not hold (MANIFEST_BLOB_UNKNOWN).
 */
export class RegistryNotFound extends CodedError<'REGISTRY_NOT_FOUND'> {
  override readonly name = 'RegistryNotFound';

  constructor(
    readonly what: 'repository' | 'manifest' | 'blob',
    message: string,
  ) {
    super('REGISTRY_NOT_FOUND', message);
  }
}

export class RegistryClient {
  constructor(private readonly access: RegistryAccess) {}

  /** The repository's tags; RegistryNotFound('repository') when it does not exist. */
  async tags(repository: string): Promise<string[]> {
    const response = await this.get(`/v2/${repository}/tags/list`);
    if (response.status === 404) {
      throw new RegistryNotFound('repository', `repository ${repository} not found`);
    }
    await this.expectOk(response, `tags of ${repository}`);
    const body = (await response.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** The manifest of a tag or digest, or null when the registry does not have it. */
  async manifest(repository: string, reference: string): Promise<Manifest | null> {
    const response = await this.get(`/v2/${repository}/manifests/${reference}`, {
      accept: MANIFEST_MEDIA_TYPES.join(', '),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    await this.expectOk(response, `manifest ${repository}:${reference}`);
    const body = await response.text();
    const parsed = JSON.parse(body) as {
      mediaType?: string;
      config?: { size?: number };
      layers?: { size?: number }[];
      manifests?: { size?: number }[];
    };
    const sizes = [parsed.config, ...(parsed.layers ?? []), ...(parsed.manifests ?? [])];
    return {
      digest: response.headers.get('docker-content-digest') ?? '',
      mediaType: parsed.mediaType ?? response.headers.get('content-type') ?? MANIFEST_MEDIA_TYPES[0]!,
      body,
      sizeInBytes: sizes.reduce((sum, part) => sum + (part?.size ?? 0), 0),
    };
  }

  /**
   * Stores a manifest under a tag or its digest. The registry checks that every blob it references
   * is there: RegistryNotFound('blob') when one is not.
   */
  async putManifest(repository: string, reference: string, body: string, mediaType: string): Promise<string> {
    const response = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryNotFound('repository', `repository ${repository} not found`);
    }
    if (response.status === 400) {
      const text = await response.text();
      if (/BLOB_UNKNOWN|MANIFEST_BLOB_UNKNOWN/.test(text)) {
        throw new RegistryNotFound('blob', `the manifest references blobs ${repository} does not hold`);
      }
      throw new Error(`registry refused the manifest ${repository}:${reference}: ${text.slice(0, 200)}`);
    }
    await this.expectOk(response, `manifest ${repository}:${reference}`);
    await response.body?.cancel();
    return response.headers.get('docker-content-digest') ?? '';
  }

  /** Deletes a manifest by digest, and with it every tag that points at it. */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const response = await this.request('DELETE', `/v2/${repository}/manifests/${digest}`);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryNotFound('manifest', `manifest ${repository}@${digest} not found`);
    }
    await this.expectOk(response, `delete of ${repository}@${digest}`);
    await response.body?.cancel();
  }

  private get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request('GET', path, { headers });
  }

  private request(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Response> {
    const basic = Buffer.from(`${this.access.username}:${this.access.password}`).toString('base64');
    return fetch(`${this.access.url}${path}`, {
      method,
      headers: { authorization: `Basic ${basic}`, ...init.headers },
      body: init.body,
    });
  }

  private async expectOk(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    const text = await response.text();
    throw new Error(`registry answered ${response.status} for ${what}: ${text.slice(0, 200)}`);
  }
}
