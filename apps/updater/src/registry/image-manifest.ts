import { UpdaterError } from '../updater-error';
import type { RegistryToken } from './ecr-credentials';

/** A layer as the registry serves it (compressed) and as the engine stores it (diff id). */
export interface ImageLayer {
  digest: string;
  size: number;
  diffId: string;
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');

interface Manifest {
  mediaType?: string;
  manifests?: Array<{ digest: string; platform?: { os?: string; architecture?: string; variant?: string } }>;
  config?: { digest: string };
  layers?: Array<{ digest: string; size: number }>;
}

/** Splits `host/repo/path@sha256:…` into the registry repository path and the digest. */
export function parseImageByDigest(image: string): { host: string; repository: string; digest: string } {
  const match = /^([^/]+)\/(.+)@(sha256:[a-f0-9]{64})$/.exec(image);
  if (!match) {
    throw new UpdaterError('IMAGE_NOT_BY_DIGEST', `${image} is not registry/repository@sha256:<digest>`);
  }
  return { host: match[1]!, repository: match[2]!, digest: match[3]! };
}

/**
 * The layers of an image for this engine's platform, read from the registry with the same token the
 * engine pulls with: the manifest gives their compressed sizes, the config their diff ids.
 */
export async function fetchImageLayers(
  image: string,
  token: RegistryToken,
  platform: { os: string; architecture: string },
): Promise<ImageLayer[]> {
  const { repository, digest } = parseImageByDigest(image);
  const headers = {
    authorization: `Basic ${Buffer.from(`${token.auth.username}:${token.auth.password}`).toString('base64')}`,
    accept: MANIFEST_TYPES,
  };
  const get = async (path: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${token.endpoint}/v2/${repository}/${path}`, {
        headers,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new UpdaterError(
        'REGISTRY_UNREACHABLE',
        `the registry did not answer: ${(error as Error).message}`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new UpdaterError('REGISTRY_AUTH_FAILED', `the registry refused the token (${res.status})`);
    }
    if (!res.ok) throw new UpdaterError('PULL_FAILED', `the registry answered ${res.status} for ${path}`);
    return res.json();
  };
  let manifest = (await get(`manifests/${digest}`)) as Manifest;
  if (manifest.manifests) {
    const entry = manifest.manifests.find(
      (m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture,
    );
    if (!entry) {
      throw new UpdaterError('PULL_FAILED', `${image} has no ${platform.os}/${platform.architecture} image`);
    }
    manifest = (await get(`manifests/${entry.digest}`)) as Manifest;
  }
  if (!manifest.config || !manifest.layers)
    throw new UpdaterError('PULL_FAILED', `${image} has an unknown manifest`);
  const config = (await get(`blobs/${manifest.config.digest}`)) as { rootfs?: { diff_ids?: string[] } };
  const diffIds = config.rootfs?.diff_ids ?? [];
  return manifest.layers.map((layer, i) => ({
    digest: layer.digest,
    size: layer.size,
    diffId: diffIds[i] ?? '',
  }));
}
