import { randomBytes } from 'node:crypto';
import { describeError } from '@growoff/protocol';
import type { ReleaseRef } from '../journal/update-journal';
import {
  deviceMapping,
  LABEL_APP,
  LABEL_IMAGE,
  LABEL_MANAGED_BY,
  LABEL_VERSION,
  type ContainerSpec,
  type ManagedAppId,
} from '../spec/app-spec';
import { UpdaterError } from '../updater-error';
import { engineStatus, type DockerEngine } from './docker-engine';

export { LABEL_APP, LABEL_IMAGE, LABEL_MANAGED_BY, LABEL_VERSION };

export interface ManagedContainer {
  id: string;
  name: string;
  image: string;
  version: string;
  running: boolean;
  restarting: boolean;
  status: string;
  restartCount: number;
  health?: string;
  startedAt: number;
  env: string[];
}

/** Creates, starts, stops and finds the containers of one managed app, by their labels. */
export class ManagedContainers {
  constructor(
    private readonly engine: DockerEngine,
    private readonly app: ManagedAppId,
    private readonly managedBy: string,
  ) {}

  async list(): Promise<ManagedContainer[]> {
    const summaries = await this.engine.listContainers([
      `${LABEL_APP}=${this.app}`,
      `${LABEL_MANAGED_BY}=${this.managedBy}`,
    ]);
    const found: ManagedContainer[] = [];
    for (const s of summaries) {
      const c = await this.inspect(s.Id);
      if (c) found.push(c);
    }
    return found;
  }

  async inspect(id: string): Promise<ManagedContainer | null> {
    let info;
    try {
      info = await this.engine.inspectContainer(id);
    } catch (error) {
      throw engineError('inspect a container', error);
    }
    if (!info) return null;
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Config.Labels?.[LABEL_IMAGE] ?? info.Config.Image,
      version: info.Config.Labels?.[LABEL_VERSION] ?? '',
      running: info.State.Running,
      restarting: info.State.Restarting,
      status: info.State.Status,
      restartCount: info.RestartCount,
      health: info.State.Health?.Status,
      startedAt: Date.parse(info.State.StartedAt),
      env: info.Config.Env ?? [],
    };
  }

  /**
   * Creates (not starts) a container of `release` from its app's spec, named `<spec.name>-<random>`
   * unless `name` is given.
   */
  async create(release: ReleaseRef, spec: ContainerSpec, name?: string): Promise<string> {
    try {
      return await this.engine.createContainer(name ?? `${spec.name}-${randomBytes(3).toString('hex')}`, {
        Image: release.image,
        Env: spec.env,
        User: spec.user,
        Labels: {
          ...spec.labels,
          [LABEL_APP]: this.app,
          [LABEL_MANAGED_BY]: this.managedBy,
          [LABEL_VERSION]: release.version,
          [LABEL_IMAGE]: release.image,
        },
        HostConfig: {
          Binds: spec.binds,
          Devices: spec.devices.map(deviceMapping),
          NetworkMode: spec.network,
          GroupAdd: spec.groups,
          ReadonlyRootfs: spec.readOnlyRoot,
          Tmpfs: Object.fromEntries(spec.tmpfs.map((path) => [path, ''])),
          CapDrop: spec.capDrop,
          SecurityOpt: spec.securityOpt,
          RestartPolicy: { Name: spec.restart },
        },
      });
    } catch (error) {
      throw engineError(`create the ${this.app} container`, error);
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.engine.startContainer(id);
    } catch (error) {
      throw engineError(`start the ${this.app} container`, error);
    }
  }

  async stop(id: string, graceS = 10): Promise<void> {
    try {
      await this.engine.stopContainer(id, graceS);
    } catch (error) {
      if (engineStatus(error) === 404) return;
      throw engineError(`stop the ${this.app} container`, error);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.engine.removeContainer(id, { force: true });
    } catch (error) {
      const status = engineStatus(error);
      if (status === 404 || status === 409) return;
      throw engineError(`remove the ${this.app} container`, error);
    }
  }

  /** Removes images of `repository` that no kept release names and no container uses. */
  async pruneImages(repository: string, keep: readonly string[]): Promise<string[]> {
    const inUse = new Set((await this.engine.listContainers()).map((c) => c.ImageID));
    const removed: string[] = [];
    for (const image of await this.engine.listImages()) {
      const digests = (image.RepoDigests ?? []).filter((d) => d.startsWith(`${repository}@`));
      if (digests.length === 0 || inUse.has(image.Id)) continue;
      if (digests.some((d) => keep.includes(d))) continue;
      try {
        await this.engine.removeImage(image.Id);
        removed.push(...digests);
      } catch {
        continue;
      }
    }
    return removed;
  }
}

function engineError(what: string, error: unknown): UpdaterError {
  return new UpdaterError('ENGINE_FAILED', `could not ${what}: ${describeError(error).message}`);
}

/** The port of the core's REST API: its container's GROWOFF_HTTP_PORT, or the configured default. */
export function httpPortOf(env: readonly string[], fallback: number): number {
  const entry = env.find((e) => e.startsWith('GROWOFF_HTTP_PORT='));
  const port = entry ? Number(entry.slice('GROWOFF_HTTP_PORT='.length)) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65_536 ? port : fallback;
}
