import type { ImagePuller } from '../engine/image-puller';
import type { ManagedContainer, ManagedContainers } from '../engine/managed-containers';
import type {
  AppState,
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
  /** Gates a started container; `version` is what its /health must report. */
  healthGate(containerId: string, spec: ContainerSpec, version?: string): Promise<HealthGateResult>;
  /** Milliseconds the running container's update lock still holds an update back (0: go). */
  lockRemainingMs(container: ManagedContainer): Promise<number>;
  /** The longest the updater lets an update lock hold one release back (GROWOFF_UPDATE_LOCK_MAX_S). */
  lockMaxHoldMs: number;
  probationMs: number;
  crashLoopRestarts: number;
  /** How long a release's pull keeps being retried before it fails for good (GROWOFF_PULL_RETRY_S). */
  pullRetryMs: number;
  emit: EmitEvent;
  setPhase(phase: Phase, target?: ReleaseRef): void;
}

/** `deferred`: an update lock or a failing pull holds it back; `retryAt` says when to try again. */
export type InstallResult = 'committed' | 'rolled-back' | 'failed' | 'deferred';

/** A rollback pulls (only when the old image is gone) for at most this long, then tries again later. */
const ROLLBACK_PULL_RETRY_MS = 30_000;
const ROLLBACK_RETRY_MIN_MS = 30_000;
const ROLLBACK_RETRY_MAX_MS = 10 * 60_000;
/** One pull holds the work queue for at most this long (or a quarter of the retry window); then it is tried again after a pause. */
const PULL_SLICE_MS = 60_000;
const PULL_PAUSE_MS = 5000;
/** How often a held update lock is asked again, each time outside the work queue. */
const LOCK_POLL_MS = 5000;
/** When an image whose gate failed only on a broker outage is tried again (or when the broker is back). */
const BROKER_RETRY_MS = 60_000;

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
  /** The last failure, for the status. */
  lastError?: { code: string; message: string; ts: number };
  private readonly retry = new Map<string, { at: number; why: 'lock' | 'broker' | 'pull' }>();
  /** Since when the pull of an image has kept failing (the pull retry window). */
  private readonly pullFailing = new Map<string, number>();
  private lockWait?: { image: string; since: number; overridden?: boolean };
  private rollbackRetry = { at: 0, backoffMs: 0 };

  constructor(private readonly o: AppManagerOptions) {}

  get app(): ManagedAppId {
    return this.o.app;
  }

  /**
   * After a start (or a crash): exactly one container of the app, the journal's current one. Its
   * journal writes are best effort: each records what the journal on disk already leads back to.
   */
  async reconcile(): Promise<void> {
    const { journal, containers, app, emit } = this.o;
    this.o.setPhase('reconciling');
    const pending = journal.app(app).pending;
    if (pending && !CONTAINERS_TOUCHED.includes(pending.step)) {
      journal.updateAppBestEffort(app, (s) => (s.pending = undefined));
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
      journal.updateAppBestEffort(app, (s) => (s.pending = undefined));
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
    await this.removeStrays(state.current?.containerId);
    if (state.current) {
      const current = await containers.inspect(state.current.containerId);
      if (!current) {
        const spec = this.o.spec();
        const id = await containers.create(state.current, spec);
        journal.updateAppBestEffort(app, (s) => {
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
    const rollback = options.rollback === true;
    // A rollback goes back to the release that worked: a full disk must not keep the crash-looping one.
    const write = (change: (state: AppState) => void) => {
      if (rollback) journal.updateAppBestEffort(app, change);
      else journal.updateApp(app, change);
    };
    const step = (s: InstallStep, extra: { previousContainerId?: string; newContainerId?: string } = {}) => {
      write((state) => {
        state.pending = { ...(state.pending ?? { target, startedAt: Date.now() }), ...extra, step: s };
      });
      this.o.setPhase(s, target);
    };
    if (!rollback && this.lockWait?.image === target.image) {
      // Waiting for the update lock: the image is already here; ask the lock before anything else.
      const current = journal.app(app).current;
      const old = current ? await containers.inspect(current.containerId) : null;
      if (old?.running && (await this.lockHold(target, old)) > 0) return 'deferred';
    }
    try {
      write((s) => (s.pending = { target, step: 'downloading', startedAt: Date.now() }));
    } catch (error) {
      return this.failBeforeSwap(target, 'downloading', error);
    }
    this.o.setPhase('downloading', target);
    emit('download.started', 'info', `downloading ${app} ${target.version}`, { app, ...target });
    const pullStarted = Date.now();
    try {
      const pulled = await this.o.puller.pull(target.image, {
        retryForMs: rollback ? ROLLBACK_PULL_RETRY_MS : Math.min(PULL_SLICE_MS, this.o.pullRetryMs / 4),
      });
      this.pullFailing.delete(target.image);
      emit('download.completed', 'info', `downloaded ${app} ${target.version}`, {
        app,
        ...target,
        ...pulled,
      });
    } catch (error) {
      journal.updateAppBestEffort(app, (s) => (s.pending = undefined));
      this.settlePhase();
      this.lastError = { ...describeError(error), ts: Date.now() };
      // Pulls run in slices so the work queue (probation, rollbacks) is never held for the whole window.
      const failingSince = this.pullFailing.get(target.image) ?? pullStarted;
      const transient = ['REGISTRY_UNREACHABLE', 'REGISTRY_AUTH_FAILED', 'PULL_FAILED'].includes(
        describeError(error).code,
      );
      if (!rollback && transient && Date.now() - failingSince < this.o.pullRetryMs) {
        this.pullFailing.set(target.image, failingSince);
        this.retry.set(target.image, { at: Date.now() + PULL_PAUSE_MS, why: 'pull' });
        return 'deferred';
      }
      this.pullFailing.delete(target.image);
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

    let old: ManagedContainer | null;
    let spec: ContainerSpec;
    const state = journal.app(app);
    try {
      step('downloaded');
      old = state.current ? await containers.inspect(state.current.containerId) : null;
      spec = this.o.spec();
    } catch (error) {
      return this.failBeforeSwap(target, 'downloaded', error);
    }

    if (old?.running && !rollback) {
      const waitMs = await this.lockHold(target, old);
      if (waitMs > 0) {
        journal.updateAppBestEffort(app, (s) => (s.pending = undefined));
        this.o.setPhase('waiting-lock', target);
        return 'deferred';
      }
    }

    try {
      // Written before the stop: should it fail, the old container has not been touched.
      step('stopping-old', { previousContainerId: old?.id });
    } catch (error) {
      return this.failBeforeSwap(target, 'stopping-old', error);
    }
    this.lockWait = undefined;
    let newId: string | undefined;
    try {
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
      const gate = await this.o.healthGate(newId, spec, target.version);
      if (gate.ok) {
        const previous = state.current
          ? { version: state.current.version, image: state.current.image }
          : undefined;
        const committedId = newId;
        write((s) => {
          s.current = { ...target, containerId: committedId };
          s.pending = undefined;
          if (rollback) {
            s.probation = undefined;
            s.lastKnownGood = target;
          } else {
            s.probation = { until: Date.now() + this.o.probationMs, previous: previous ?? s.lastKnownGood };
          }
        });
        this.retry.delete(target.image);
        if (old) await containers.remove(old.id).catch(() => undefined);
        this.settlePhase();
        emit('install.committed', 'info', `${app} ${target.version} is healthy and committed`, {
          app,
          ...target,
          gateMs: gate.ms,
        });
        return 'committed';
      }
      await this.rollBack(target, newId, old?.id, gate.reason, gate.code, !gate.brokerDown);
      if (gate.brokerDown) {
        const retryAt = Date.now() + BROKER_RETRY_MS;
        this.retry.set(target.image, { at: retryAt, why: 'broker' });
        emit(
          'install.retry_later',
          'warning',
          `${app} ${target.version} could not prove healthy while the broker was down; tried again later`,
          { app, ...target, reason: gate.reason, retryAt },
        );
      }
      return 'rolled-back';
    } catch (error) {
      const { code, message } = describeError(error);
      // A disk that refuses the journal is not the image's fault.
      await this.rollBack(target, newId, old?.id, message, code, code !== 'JOURNAL_WRITE_FAILED');
      return 'rolled-back';
    }
  }

  /**
   * When the next attempt at `image` may run (an update lock holds it, its pull keeps failing, or its
   * gate failed on a broker outage), or undefined when it may run now.
   */
  retryAt(image: string): number | undefined {
    const at = this.retry.get(image)?.at;
    return at !== undefined && at > Date.now() ? at : undefined;
  }

  /** The broker is back: images that failed their gate only for its absence may run at once. */
  brokerBack(): void {
    for (const [image, r] of this.retry) if (r.why === 'broker') this.retry.delete(image);
  }

  /**
   * Milliseconds to wait before asking the update lock again (0: go). The wait is bounded by
   * `lockMaxHoldMs` from the first time the lock held this target back; then the install goes ahead.
   */
  private async lockHold(target: ReleaseRef, old: ManagedContainer): Promise<number> {
    const { app, emit } = this.o;
    const remaining = await this.o.lockRemainingMs(old);
    if (remaining <= 0) {
      this.lockWait = undefined;
      return 0;
    }
    const now = Date.now();
    if (this.lockWait?.image !== target.image) {
      this.lockWait = { image: target.image, since: now };
      emit(
        'install.waiting_lock',
        'info',
        `the ${app} holds its update lock; waiting up to ${Math.round(Math.min(remaining, this.o.lockMaxHoldMs) / 1000)} s`,
        { app },
      );
    }
    if (this.lockWait.overridden) return 0;
    const held = now - this.lockWait.since;
    if (held >= this.o.lockMaxHoldMs) {
      this.lockWait.overridden = true;
      emit(
        'install.lock_overridden',
        'warning',
        `the ${app} held its update lock for ${Math.round(held / 1000)} s, longer than ${Math.round(this.o.lockMaxHoldMs / 1000)} s; updating`,
        { app, heldS: Math.round(held / 1000), maxS: Math.round(this.o.lockMaxHoldMs / 1000) },
      );
      return 0;
    }
    const waitMs = Math.min(remaining, this.o.lockMaxHoldMs - held, LOCK_POLL_MS);
    this.retry.set(target.image, { at: now + waitMs, why: 'lock' });
    return waitMs;
  }

  /** An install that failed before the old container was touched: it keeps running. */
  private failBeforeSwap(target: ReleaseRef, step: InstallStep, error: unknown): InstallResult {
    const { journal, app, emit } = this.o;
    journal.updateAppBestEffort(app, (s) => (s.pending = undefined));
    this.settlePhase();
    const described = describeError(error);
    this.lastError = { ...described, ts: Date.now() };
    emit(
      'install.failed',
      'error',
      `${app} ${target.version} was not installed (${step}): ${described.code}: ${described.message}; the running release is kept`,
      { app, ...target, step, error: described },
    );
    return 'failed';
  }

  private settlePhase(): void {
    this.o.setPhase(this.o.journal.app(this.o.app).probation ? 'probation' : 'idle');
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
      if (Date.now() < this.rollbackRetry.at) return;
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
      journal.updateAppBestEffort(app, (s) => {
        if (!s.failedImages.includes(bad.image)) s.failedImages.push(bad.image);
      });
      if (!previous) {
        journal.updateAppBestEffort(app, (s) => (s.probation = undefined));
        emit('rollback.impossible', 'critical', `no earlier ${app} release to roll back to`, { app });
        return;
      }
      // The previous image is still on disk (images are pruned only after probation): no network needed.
      if ((await this.install(previous, { rollback: true })) === 'committed') {
        this.rollbackRetry = { at: 0, backoffMs: 0 };
        return;
      }
      const backoffMs = Math.min(
        Math.max(ROLLBACK_RETRY_MIN_MS, this.rollbackRetry.backoffMs * 2),
        ROLLBACK_RETRY_MAX_MS,
      );
      this.rollbackRetry = { at: Date.now() + backoffMs, backoffMs };
      const error = this.lastError ?? {
        code: 'ROLLBACK_FAILED',
        message: 'the previous release did not start',
      };
      emit(
        'rollback.failed',
        'critical',
        `could not restore ${app} ${previous.version} (${error.code}: ${error.message}); trying again in ${Math.round(backoffMs / 1000)} s`,
        { app, ...previous, error: { code: error.code, message: error.message } },
      );
      return;
    }
    if (Date.now() >= state.probation.until) {
      const current = state.current;
      // Best effort: on disk the probation stays, and after a restart it passes again at once.
      journal.updateAppBestEffort(app, (s) => {
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
      // Only now: until probation passed, the previous image is the way back without the network.
      // A container the engine created after the updater gave up on its create (an install that
      // then rolled back) would hold that release's image for good: it goes first.
      await this.removeStrays(current.containerId);
      const removed = await containers.pruneImages(this.o.imageRepo, [current.image]);
      if (removed.length > 0)
        emit('images.pruned', 'info', `removed ${removed.length} old ${app} image(s)`, { app, removed });
    }
  }

  /** Removes every container of this app but `keep` (the journal's current one). */
  private async removeStrays(keep: string | undefined): Promise<void> {
    const { containers, app, emit } = this.o;
    for (const c of await containers.list()) {
      if (c.id === keep) continue;
      await containers.remove(c.id);
      emit('reconcile.removed', 'warning', `removed a stray ${app} container ${c.name}`, {
        app,
        container: c.id,
      });
    }
  }

  /**
   * Back to the old container: the new one removed, the old one started and gated. Containers first,
   * the journal after and only as far as the disk allows: the journal on disk already leads a
   * restarted updater to the old container (`reconcile`), so a full disk must not keep it stopped.
   */
  private async rollBack(
    target: ReleaseRef,
    newId: string | undefined,
    oldId: string | undefined,
    reason: string,
    code: string,
    blame: boolean,
  ): Promise<void> {
    const { journal, containers, app, emit } = this.o;
    journal.updateAppBestEffort(app, (s) => {
      if (s.pending) s.pending.step = 'rolling-back';
    });
    this.o.setPhase('rolling-back', target);
    let restored = 'nothing to restore';
    try {
      if (newId) await containers.remove(newId);
      if (oldId) {
        await containers.start(oldId);
        const gate = await this.o.healthGate(oldId, this.o.spec(), journal.app(app).current?.version);
        restored = gate.ok
          ? 'the previous release is healthy again'
          : `the previous release is not healthy: ${gate.reason}`;
      }
    } catch (error) {
      restored = `the previous release could not be restarted: ${describeError(error).message}`;
    }
    journal.updateAppBestEffort(app, (s) => {
      s.pending = undefined;
      if (blame && !s.failedImages.includes(target.image)) s.failedImages.push(target.image);
    });
    this.lastError = { code, message: reason, ts: Date.now() };
    this.settlePhase();
    emit(
      'install.rolled_back',
      'error',
      `${app} ${target.version} failed (${reason}); rolled back, ${restored}`,
      {
        app,
        ...target,
        reason,
        code,
      },
    );
  }
}
