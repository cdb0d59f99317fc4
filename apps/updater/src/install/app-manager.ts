import type { ImagePuller } from '../engine/image-puller';
import type { ManagedContainer, ManagedContainers } from '../engine/managed-containers';
import type {
  ContainerSpec,
  InstallStep,
  ManagedAppId,
  ReleaseRef,
  UpdateJournal,
} from '../journal/update-journal';
import { describeError, type EventData, type EventSeverity, type EventType } from '@growoff/protocol';
import type { HealthGateResult } from './health-gate';

/** Raises an event of a registered type (checked against the event registry). */
export type EmitEvent = <T extends EventType>(
  type: T,
  severity: EventSeverity,
  message: string,
  data?: EventData<T>,
) => void;

export type Phase = 'idle' | InstallStep | 'probation' | 'reconciling';

export interface AppManagerOptions {
  app: ManagedAppId;
  journal: UpdateJournal;
  containers: ManagedContainers;
  puller: ImagePuller;
  imageRepo: string;
  /** The app's container settings from its declarative spec (every install and recreation). */
  spec(): ContainerSpec;
  healthGate(containerId: string, spec: ContainerSpec): Promise<HealthGateResult>;
  /** Milliseconds the running container's update lock still holds an update back (0: go). */
  lockRemainingMs(container: ManagedContainer): Promise<number>;
  probationMs: number;
  crashLoopRestarts: number;
  emit: EmitEvent;
  setPhase(phase: Phase, target?: ReleaseRef): void;
}

export type InstallResult = 'committed' | 'rolled-back' | 'failed';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Steps after which the old container may already be stopped or a new one exist. */
const CONTAINERS_TOUCHED: readonly InstallStep[] = [
  'stopping-old',
  'starting-new',
  'health-gate',
  'rolling-back',
];

/**
 * Installs, health-gates, commits or rolls back one managed app (the core or Telegraf), writing each
 * step to the journal before doing it, so `reconcile` can always get back to one running container.
 */
export class AppManager {
  constructor(private readonly o: AppManagerOptions) {}

  get app(): ManagedAppId {
    return this.o.app;
  }

  /** After a start (or a crash): exactly one container of the app, the journal's current one. */
  async reconcile(): Promise<void> {
    const { journal, containers, app, emit } = this.o;
    this.o.setPhase('reconciling');
    const pending = journal.app(app).pending;
    if (pending && !CONTAINERS_TOUCHED.includes(pending.step)) {
      journal.updateApp(app, (s) => (s.pending = undefined));
      emit(
        'reconcile.resumed',
        'warning',
        `an install of ${pending.target.version} was interrupted while ${pending.step}; it will start again`,
        {
          app,
          step: pending.step,
        },
      );
    } else if (pending) {
      for (const c of await containers.list()) {
        if (c.id !== pending.previousContainerId) await containers.remove(c.id);
      }
      if (pending.previousContainerId) await containers.start(pending.previousContainerId);
      journal.updateApp(app, (s) => (s.pending = undefined));
      emit(
        'reconcile.rolled_back',
        'warning',
        `an install of ${pending.target.version} was interrupted while ${pending.step}; back on the previous ${app}`,
        {
          app,
          step: pending.step,
          image: pending.target.image,
        },
      );
    }
    const state = journal.app(app);
    for (const c of await containers.list()) {
      if (c.id !== state.current?.containerId) {
        await containers.remove(c.id);
        emit('reconcile.removed', 'warning', `removed a stray ${app} container ${c.name}`, {
          app,
          container: c.id,
        });
      }
    }
    if (state.current) {
      const current = await containers.inspect(state.current.containerId);
      if (!current) {
        const spec = this.o.spec();
        const id = await containers.create(state.current, spec);
        journal.updateApp(app, (s) => {
          if (s.current) s.current.containerId = id;
        });
        await containers.start(id);
        emit(
          'reconcile.recreated',
          'warning',
          `the ${app} container was missing; recreated ${state.current.version}`,
          { app },
        );
      } else if (!current.running) {
        await containers.start(current.id);
      }
    }
    this.o.setPhase(state.probation ? 'probation' : 'idle');
  }

  /** Downloads `target` while the old container runs, then swaps, gates, and commits or rolls back. */
  async install(target: ReleaseRef, options: { rollback?: boolean } = {}): Promise<InstallResult> {
    const { journal, containers, app, emit } = this.o;
    const step = (s: InstallStep, extra: { previousContainerId?: string; newContainerId?: string } = {}) => {
      journal.updateApp(app, (state) => {
        state.pending = { ...(state.pending ?? { target, startedAt: Date.now() }), ...extra, step: s };
      });
      this.o.setPhase(s, target);
    };
    journal.updateApp(app, (s) => (s.pending = { target, step: 'downloading', startedAt: Date.now() }));
    this.o.setPhase('downloading', target);
    emit('download.started', 'info', `downloading ${app} ${target.version}`, { app, ...target });
    try {
      const pulled = await this.o.puller.pull(target.image);
      emit('download.completed', 'info', `downloaded ${app} ${target.version}`, {
        app,
        ...target,
        ...pulled,
      });
    } catch (error) {
      journal.updateApp(app, (s) => (s.pending = undefined));
      this.o.setPhase('idle');
      emit(
        'download.failed',
        'error',
        `download of ${app} ${target.version} failed: ${describeError(error).message}`,
        {
          app,
          ...target,
          error: describeError(error),
        },
      );
      return 'failed';
    }
    step('downloaded');

    const state = journal.app(app);
    const old = state.current ? await containers.inspect(state.current.containerId) : null;
    const spec = this.o.spec();

    if (old?.running && !options.rollback) {
      let announced = false;
      for (
        let remaining = await this.o.lockRemainingMs(old);
        remaining > 0;
        remaining = await this.o.lockRemainingMs(old)
      ) {
        if (!announced) {
          step('waiting-lock');
          emit(
            'install.waiting_lock',
            'info',
            `the ${app} holds its update lock; waiting up to ${Math.round(remaining / 1000)} s`,
            { app },
          );
          announced = true;
        }
        await delay(Math.min(remaining, 1000));
      }
    }

    let newId: string | undefined;
    try {
      step('stopping-old', { previousContainerId: old?.id });
      if (old) {
        emit('install.stopping_old', 'info', `stopping ${app} ${state.current?.version ?? ''}`.trim(), {
          app,
        });
        await containers.stop(old.id);
      }
      step('starting-new');
      emit('install.starting_new', 'info', `starting ${app} ${target.version}`, { app, ...target });
      newId = await containers.create(target, spec);
      step('starting-new', { newContainerId: newId });
      await containers.start(newId);
      step('health-gate');
      emit('install.health_gate', 'info', `waiting for ${app} ${target.version} to be healthy`, {
        app,
        ...target,
      });
      const gate = await this.o.healthGate(newId, spec);
      if (gate.ok) {
        const previous = state.current
          ? { version: state.current.version, image: state.current.image }
          : undefined;
        const committedId = newId;
        journal.updateApp(app, (s) => {
          s.current = { ...target, containerId: committedId };
          s.pending = undefined;
          if (options.rollback) {
            s.probation = undefined;
            s.lastKnownGood = target;
          } else {
            s.probation = { until: Date.now() + this.o.probationMs, previous: previous ?? s.lastKnownGood };
          }
        });
        if (old) await containers.remove(old.id);
        this.o.setPhase(options.rollback ? 'idle' : 'probation');
        emit('install.committed', 'info', `${app} ${target.version} is healthy and committed`, {
          app,
          ...target,
          gateMs: gate.ms,
        });
        return 'committed';
      }
      await this.rollBack(target, newId, old?.id, gate.reason);
      return 'rolled-back';
    } catch (error) {
      await this.rollBack(target, newId, old?.id, describeError(error).message);
      return 'rolled-back';
    }
  }

  /** Called periodically: rolls back a crash-looping release in probation, or makes it last known good. */
  async checkProbation(): Promise<void> {
    const { journal, containers, app, emit } = this.o;
    const state = journal.app(app);
    if (!state.probation || !state.current || state.pending) return;
    const container = await containers.inspect(state.current.containerId);
    const crashing =
      !container ||
      container.restartCount >= this.o.crashLoopRestarts ||
      (!container.running && !container.restarting);
    if (crashing) {
      const previous = state.probation.previous;
      const bad = state.current;
      emit(
        'probation.crash_loop',
        'error',
        `${app} ${bad.version} crash-loops in probation (${container?.restartCount ?? 0} restarts)`,
        {
          app,
          version: bad.version,
          image: bad.image,
          restarts: container?.restartCount,
        },
      );
      journal.updateApp(app, (s) => {
        if (!s.failedImages.includes(bad.image)) s.failedImages.push(bad.image);
      });
      if (!previous) {
        journal.updateApp(app, (s) => (s.probation = undefined));
        emit('rollback.impossible', 'critical', `no earlier ${app} release to roll back to`, { app });
        return;
      }
      await this.install(previous, { rollback: true });
      return;
    }
    if (Date.now() >= state.probation.until) {
      const current = state.current;
      journal.updateApp(app, (s) => {
        s.probation = undefined;
        s.lastKnownGood = { version: current.version, image: current.image };
      });
      this.o.setPhase('idle');
      emit(
        'probation.passed',
        'info',
        `${app} ${current.version} passed probation and is the last known good`,
        { app, ...current },
      );
      const removed = await containers.pruneImages(this.o.imageRepo, [current.image]);
      if (removed.length > 0)
        emit('images.pruned', 'info', `removed ${removed.length} old ${app} image(s)`, { app, removed });
    }
  }

  private async rollBack(
    target: ReleaseRef,
    newId: string | undefined,
    oldId: string | undefined,
    reason: string,
  ): Promise<void> {
    const { journal, containers, app, emit } = this.o;
    journal.updateApp(app, (s) => {
      if (s.pending) s.pending.step = 'rolling-back';
    });
    this.o.setPhase('rolling-back', target);
    if (newId) await containers.remove(newId);
    let restored = 'nothing to restore';
    if (oldId) {
      await containers.start(oldId);
      const gate = await this.o.healthGate(oldId, this.o.spec());
      restored = gate.ok
        ? 'the previous release is healthy again'
        : `the previous release is not healthy: ${gate.reason}`;
    }
    journal.updateApp(app, (s) => {
      s.pending = undefined;
      if (!s.failedImages.includes(target.image)) s.failedImages.push(target.image);
    });
    this.o.setPhase(journal.app(app).probation ? 'probation' : 'idle');
    emit(
      'install.rolled_back',
      'error',
      `${app} ${target.version} failed (${reason}); rolled back, ${restored}`,
      {
        app,
        ...target,
        reason,
      },
    );
  }
}
