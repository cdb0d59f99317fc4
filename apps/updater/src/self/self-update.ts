import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describeError } from '@growoff/protocol';
import type { ImagePuller } from '../engine/image-puller';
import type { ManagedContainer, ManagedContainers } from '../engine/managed-containers';
import type { EmitEvent, Phase } from '../install/app-manager';
import type { ReleaseRef, UpdateJournal } from '../journal/update-journal';
import type { ContainerSpec } from '../spec/app-spec';
import { SELF_CONTAINER_VARIABLE } from '../spec/app-spec';
import { readLauncherState, writeLauncherState } from './launcher-state';

export const HANDOVER_PORT_VARIABLE = 'GROWOFF_HANDOVER_PORT';
export const LAUNCHER_STATE_FILE = 'launcher.state';

export interface SelfUpdateOptions {
  journal: UpdateJournal;
  /** The updater app's containers (label growoff.app=updater). */
  containers: ManagedContainers;
  puller: ImagePuller;
  spec(): ContainerSpec;
  /** This updater's own container name; unset when it does not run in a container. */
  selfContainer?: string;
  /** This updater's version. */
  version: string;
  dataDir: string;
  healthTimeoutMs: number;
  emit: EmitEvent;
  setPhase(phase: Phase, target?: ReleaseRef): void;
}

export type SelfUpdateResult = 'handed-over' | 'rolled-back' | 'failed';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The updater replacing itself by hand-over. The old updater pulls the new image and starts it
 * beside itself (from the updater's spec, under another name, answering /health on a spare port);
 * once the new one is healthy the old one stops and frees the journal lock; the new one, holding the
 * lock, commits itself: the journal, then the launcher's state, then it removes the old container.
 * Whichever updater holds the lock after a crash or power cut reconciles the same way, so exactly one
 * updater is left, old or new; the launcher falls back to the previous image if the new one crash-loops.
 */
export class SelfUpdate {
  constructor(private readonly o: SelfUpdateOptions) {}

  get launcherStatePath(): string {
    return join(this.o.dataDir, LAUNCHER_STATE_FILE);
  }

  /** This updater's container, or null outside a container. */
  async self(): Promise<ManagedContainer | null> {
    return this.o.selfContainer ? this.o.containers.inspect(this.o.selfContainer) : null;
  }

  /**
   * At start, holding the journal lock: this updater is the committed one. Finishes or undoes an
   * interrupted hand-over, records a launcher fallback, writes the launcher's state, and removes
   * every other updater container.
   */
  async reconcile(): Promise<void> {
    const { journal, containers, emit } = this.o;
    const self = await this.self();
    if (!self) return;
    const launcher = readLauncherState(this.launcherStatePath);
    const pending = journal.app('updater').pending;
    const previous = journal.app('updater').current;
    journal.updateApp('updater', (s) => {
      s.pending = undefined;
      s.current = { version: this.o.version, image: self.image, containerId: self.id };
      if (launcher.failed && launcher.failed !== self.image && !s.failedImages.includes(launcher.failed)) {
        s.failedImages.push(launcher.failed);
      }
    });
    // The launcher falls back to `previous`: never to an image that failed.
    const before = launcher.current && launcher.current !== self.image ? launcher.current : launcher.previous;
    const failed = journal.app('updater').failedImages;
    writeLauncherState(this.launcherStatePath, {
      current: self.image,
      previous: before && before !== self.image && !failed.includes(before) ? before : undefined,
    });
    if (pending?.target.image === self.image) {
      emit('install.committed', 'info', `updater ${this.o.version} took over and is committed`, {
        app: 'updater',
        version: this.o.version,
        image: self.image,
        gateMs: Date.now() - pending.startedAt,
      });
    } else if (pending) {
      emit(
        'reconcile.rolled_back',
        'warning',
        `a hand-over to updater ${pending.target.version} was interrupted while ${pending.step}; this updater stays`,
        { app: 'updater', step: pending.step, image: pending.target.image },
      );
    } else if (launcher.failed && previous?.image === launcher.failed) {
      emit(
        'probation.crash_loop',
        'error',
        `updater ${previous.version} crash-looped; the launcher went back to ${this.o.version}`,
        { app: 'updater', version: previous.version, image: previous.image },
      );
    }
    for (const c of await containers.list()) {
      if (c.id === self.id) continue;
      await containers.remove(c.id);
      emit('reconcile.removed', 'warning', `removed another updater container ${c.name}`, {
        app: 'updater',
        container: c.id,
      });
    }
  }

  /**
   * Pulls `target`, starts it beside this updater and waits for its /health. 'handed-over' means the
   * new updater is healthy and waits for the journal lock: the caller stops and frees it.
   */
  async install(target: ReleaseRef): Promise<SelfUpdateResult> {
    const { journal, containers, emit } = this.o;
    const step = (s: 'downloading' | 'starting-new' | 'health-gate', newContainerId?: string) => {
      journal.updateApp('updater', (state) => {
        state.pending = {
          ...(state.pending ?? { target, startedAt: Date.now() }),
          ...(newContainerId ? { newContainerId } : {}),
          step: s,
        };
      });
      this.o.setPhase(s, target);
    };
    step('downloading');
    emit('download.started', 'info', `downloading updater ${target.version}`, { app: 'updater', ...target });
    try {
      const pulled = await this.o.puller.pull(target.image);
      emit('download.completed', 'info', `downloaded updater ${target.version}`, {
        app: 'updater',
        ...target,
        ...pulled,
      });
    } catch (error) {
      journal.updateApp('updater', (s) => (s.pending = undefined));
      this.o.setPhase('idle');
      emit('download.failed', 'error', `download of updater ${target.version} failed`, {
        app: 'updater',
        ...target,
        error: describeError(error),
      });
      return 'failed';
    }

    let newId: string | undefined;
    try {
      const spec = this.o.spec();
      const name = `${spec.name}-${randomBytes(3).toString('hex')}`;
      const port = await freeLoopbackPort();
      step('starting-new');
      emit('install.starting_new', 'info', `starting updater ${target.version} beside this one`, {
        app: 'updater',
        ...target,
      });
      newId = await containers.create(
        target,
        {
          ...spec,
          env: [...spec.env, `${SELF_CONTAINER_VARIABLE}=${name}`, `${HANDOVER_PORT_VARIABLE}=${port}`],
        },
        name,
      );
      step('starting-new', newId);
      await containers.start(newId);
      step('health-gate');
      emit('install.health_gate', 'info', `waiting for updater ${target.version} to be healthy`, {
        app: 'updater',
        ...target,
      });
      const reason = await this.gate(newId, port);
      if (reason) throw new Error(reason);
    } catch (error) {
      const reason = describeError(error).message;
      if (newId) await containers.remove(newId);
      journal.updateApp('updater', (s) => {
        s.pending = undefined;
        if (!s.failedImages.includes(target.image)) s.failedImages.push(target.image);
      });
      this.o.setPhase('idle');
      emit('install.rolled_back', 'error', `updater ${target.version} failed (${reason}); this one stays`, {
        app: 'updater',
        ...target,
        reason,
      });
      return 'rolled-back';
    }
    emit('install.handing_over', 'info', `updater ${target.version} is healthy; handing over`, {
      app: 'updater',
      ...target,
    });
    return 'handed-over';
  }

  /** Null when the new updater runs and answers /health ok on `port` within the deadline. */
  private async gate(id: string, port: number): Promise<string | null> {
    const deadline = Date.now() + this.o.healthTimeoutMs;
    while (Date.now() < deadline) {
      const c = await this.o.containers.inspect(id);
      if (!c) return 'the new updater container disappeared';
      if (!c.running && c.status !== 'created') return `the new updater exited (${c.status})`;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as { status?: string };
        if (res.status === 200 && body.status === 'ok') return null;
      } catch {
        // not listening yet
      }
      await delay(250);
    }
    return `the new updater was not healthy within ${this.o.healthTimeoutMs} ms`;
  }
}

/** A loopback port free now, for the new updater's /health while the old one holds the main port. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
