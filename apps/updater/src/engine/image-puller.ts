import { statfs } from 'node:fs/promises';
import { describeError } from '@growoff/protocol';
import type { RegistryCredentials } from '../registry/ecr-credentials';
import { fetchImageLayers, parseImageByDigest, type ImageLayer } from '../registry/image-manifest';
import { UpdaterError } from '../updater-error';
import type { DockerEngine, PullEvent } from './docker-engine';

export interface PullProgress {
  bytes: number;
  total: number;
  layers: { total: number; done: number; reused: number };
}

export interface PullResult {
  imageId: string;
  /** Compressed bytes the engine downloaded. */
  bytesDownloaded: number;
  layersDownloaded: number;
  layersReused: number;
  /** Sum of the sizes of the layers that were not on the engine before the pull. */
  missingBytes: number;
  /** True when the engine already had the image by this digest: nothing was asked of the registry. */
  local: boolean;
}

export interface ImagePullerOptions {
  engine: DockerEngine;
  credentials: RegistryCredentials;
  diskReserveBytes: number;
  /** Where the engine keeps images; unset: the engine's DockerRootDir. */
  dockerDataRoot?: string;
  retryForMs: number;
  /** A pull of which the engine says nothing for this long is cancelled and tried again. */
  stallMs: number;
  onProgress(progress: PullProgress): void;
  onRetry(attempt: number, error: { code: string; message: string }): void;
}

/** Extracted layers need about twice their compressed size next to the download itself. */
const UNPACK_FACTOR = 3;

/**
 * Pulls an image by digest only, with the registry token from ECR, after checking the engine's disk
 * has room for the layers it does not have yet. An image the engine already holds by that digest is
 * used as it is, without the network (a rollback on an offline module). A failed pull (registry
 * down, connection dropped, or stalled: no word from the engine for `stallMs`) is retried with
 * backoff until `retryForMs` has passed; the engine keeps the layers already fetched.
 */
export class ImagePuller {
  constructor(private readonly options: ImagePullerOptions) {}

  /** `retryForMs` bounds this pull's retries below the configured window (a rollback's pull). */
  async pull(image: string, options: { retryForMs?: number } = {}): Promise<PullResult> {
    parseImageByDigest(image);
    const localId = await this.localImageId(image);
    if (localId) {
      return {
        imageId: localId,
        bytesDownloaded: 0,
        layersDownloaded: 0,
        layersReused: 0,
        missingBytes: 0,
        local: true,
      };
    }
    const retryForMs = Math.min(options.retryForMs ?? Infinity, this.options.retryForMs);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(image);
      } catch (error) {
        const described = describeError(error);
        const permanent = ['DISK_SPACE_LOW', 'IMAGE_NOT_BY_DIGEST'].includes(described.code);
        if (permanent || Date.now() - started > retryForMs) throw error;
        if (described.code === 'REGISTRY_AUTH_FAILED') this.options.credentials.invalidate();
        this.options.onRetry(attempt, described);
        await delay(Math.min(500 * 2 ** (attempt - 1), 10_000));
      }
    }
  }

  /** The layers of `image` the engine lacks, by diff id against every local image. */
  async missingLayers(image: string): Promise<{ layers: ImageLayer[]; missing: ImageLayer[] }> {
    const token = await this.options.credentials.get();
    const version = await this.options.engine.version();
    const layers = await fetchImageLayers(image, token, { os: version.Os, architecture: version.Arch });
    const local = new Set<string>();
    for (const summary of await this.options.engine.listImages()) {
      try {
        const info = await this.options.engine.inspectImage(summary.Id);
        for (const diffId of info?.RootFS?.Layers ?? []) local.add(diffId);
      } catch {
        continue;
      }
    }
    return { layers, missing: layers.filter((l) => !local.has(l.diffId)) };
  }

  /** The engine's id of `repo@digest` when it holds the image by that digest (a tag is not enough). */
  private async localImageId(image: string): Promise<string | null> {
    try {
      const info = await this.options.engine.inspectImage(image);
      return info && (info.RepoDigests ?? []).includes(image) ? info.Id : null;
    } catch {
      return null;
    }
  }

  private async attempt(image: string): Promise<PullResult> {
    const { missing } = await this.missingLayers(image);
    const missingBytes = missing.reduce((sum, l) => sum + l.size, 0);
    await this.checkDisk(missingBytes);
    const token = await this.options.credentials.get();
    const perLayer = new Map<string, { current: number; total: number; done: boolean; reused: boolean }>();
    let lastReport = 0;
    const report = (force: boolean) => {
      const now = Date.now();
      if (!force && now - lastReport < 250) return;
      lastReport = now;
      const values = [...perLayer.values()];
      this.options.onProgress({
        bytes: values.reduce((s, l) => s + l.current, 0),
        total: missingBytes,
        layers: {
          total: values.length,
          done: values.filter((l) => l.done).length,
          reused: values.filter((l) => l.reused).length,
        },
      });
    };
    const onEvent = (event: PullEvent) => {
      if (!event.id) return;
      const layer = perLayer.get(event.id) ?? { current: 0, total: 0, done: false, reused: false };
      if (event.status === 'Downloading' && event.progressDetail) {
        layer.current = event.progressDetail.current ?? layer.current;
        layer.total = event.progressDetail.total ?? layer.total;
      } else if (event.status === 'Download complete') {
        layer.current = Math.max(layer.current, layer.total);
      } else if (event.status === 'Already exists') {
        layer.reused = true;
        layer.done = true;
      } else if (event.status === 'Pull complete') {
        layer.done = true;
      }
      if (event.status?.startsWith('Pulling fs layer') || perLayer.has(event.id) || layer.reused) {
        perLayer.set(event.id, layer);
      }
      report(event.status === 'Pull complete' || event.status === 'Already exists');
    };
    await this.options.engine
      .pull(image, token.auth, onEvent, { stallMs: this.options.stallMs })
      .catch((error: unknown) => {
        throw classifyPullError(error);
      });
    const imageId = await this.localImageId(image);
    if (!imageId) {
      throw new UpdaterError('PULL_FAILED', `the engine's image does not carry the digest of ${image}`);
    }
    const values = [...perLayer.values()];
    const downloaded = values.filter((l) => !l.reused);
    report(true);
    return {
      imageId,
      bytesDownloaded: downloaded.reduce((s, l) => s + Math.max(l.current, l.total), 0),
      layersDownloaded: downloaded.length,
      layersReused: values.length - downloaded.length,
      missingBytes,
      local: false,
    };
  }

  private async checkDisk(missingBytes: number): Promise<void> {
    if (missingBytes === 0) return;
    const root = this.options.dockerDataRoot ?? (await this.options.engine.info()).DockerRootDir;
    let free: number;
    try {
      const stats = await statfs(root);
      free = stats.bavail * stats.bsize;
    } catch {
      throw new UpdaterError(
        'DISK_SPACE_LOW',
        `cannot read free space of ${root}; set GROWOFF_DOCKER_DATA_ROOT to the engine's data folder as seen by the updater`,
      );
    }
    const needed = missingBytes * UNPACK_FACTOR + this.options.diskReserveBytes;
    if (free < needed) {
      throw new UpdaterError('DISK_SPACE_LOW', `${free} bytes free in ${root}, the update needs ${needed}`, {
        free,
        needed,
        missingBytes,
      });
    }
  }
}

/** The engine's account of a failed pull (its answer, or an error line of its stream), by its words. */
function classifyPullError(error: unknown): UpdaterError {
  if (error instanceof UpdaterError && error.code !== 'ENGINE_FAILED') return error;
  const { message } = describeError(error);
  if (/unauthorized|authentication required|401/i.test(message)) {
    return new UpdaterError('REGISTRY_AUTH_FAILED', `the registry refused the pull: ${message}`);
  }
  if (/connection refused|ECONNREFUSED|dial tcp|timeout|EOF|reset by peer/i.test(message)) {
    return new UpdaterError('REGISTRY_UNREACHABLE', `the registry is unreachable: ${message}`);
  }
  return new UpdaterError('PULL_FAILED', `the pull failed: ${message}`);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
