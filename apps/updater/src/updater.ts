import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  AppLink,
  createEvent,
  DEFAULT_EVENT_RATE_LIMIT,
  describeError,
  EventRateLimiter,
  inRollout,
  loadTrustedKeys,
  ReleaseDecision,
  settleWithin,
  topics,
  type DocumentSlot,
  type EventType,
  type FleetPayload,
  type RegisteredEvent,
} from '@growoff/protocol';
import type { UpdaterConfig } from './config/updater-config';
import { DockerEngine, engineStatus } from './engine/docker-engine';
import { ImagePuller } from './engine/image-puller';
import { httpPortOf, LABEL_APP, ManagedContainers } from './engine/managed-containers';
import { AppManager, type EmitEvent, type Phase } from './install/app-manager';
import { CoreStatusWatch } from './install/core-status-watch';
import { runHealthGate } from './install/health-gate';
import { lockRemainingMs, readUpdateLock } from './install/update-lock';
import { UpdateJournal, type ManagedAppId, type ReleaseRef } from './journal/update-journal';
import { readReleaseFloor } from './release/release-floor';
import { ecrTokenSource, RegistryCredentials, type TokenSource } from './registry/ecr-credentials';
import { SelfUpdate } from './self/self-update';
import { appSpec, moduleLayout, resolveSpec, type ModuleLayout } from './spec/app-spec';

export interface UpdaterStatus {
  state: 'online' | 'offline';
  version: string;
  current?: ReleaseRef;
  target?: ReleaseRef;
  phase: Phase;
  lastResult?: { result: string; version?: string; ts: number; message?: string };
  /** The last failure of an install, rollback or journal write, with its code. */
  lastError?: { code: string; message: string; ts: number; app?: ManagedAppId };
  ts: number;
  apps: Record<
    string,
    { current?: ReleaseRef; lastKnownGood?: ReleaseRef; phase: Phase; target?: ReleaseRef }
  >;
  release?: {
    source: 'pin' | 'channel' | null;
    /** The fleet release name (`vX.Y.Z` or `vX.Y.Z-rcN`) that decides. */
    name?: string;
    sequence?: number;
    channel?: string;
    outsideRollout?: { percent: number };
    /** Apps whose target image is revoked (withheld). */
    revokedApps?: string[];
    /** The lowest document sequence this module accepts. */
    floor: number;
  };
  registryTokens: number;
}

/** An event as published: of a registered type, its data read loosely by listeners. */
export type UpdaterEvent = Omit<RegisteredEvent, 'data'> & { data?: Record<string, unknown> };

export interface UpdaterOptions {
  config: UpdaterConfig;
  version: string;
  /** Overrides the ECR token source (tests of token renewal use the stand-in through the real client). */
  tokenSource?: TokenSource;
  log?: (line: string) => void;
  /** Bounds each Docker engine call (default ENGINE_CALL_TIMEOUT_MS): tests of a slow engine shorten it. */
  engineCallTimeoutMs?: number;
  /**
   * Called when a new updater is healthy beside this one: stop, free the journal lock and exit so
   * it takes over. This updater runs nothing more once it is called.
   */
  onHandOver?: () => void;
}

/**
 * Events that follow what others send over MQTT, not the updater's own work: each is recorded in
 * the fsync'd journal and published, so a flood of bad documents or requests (a broken publisher, a
 * hostile broker identity) is let through at the rate limit and summarised beyond it, instead of
 * wearing the SD card and pushing the history of installs and rollbacks out of the journal.
 */
const RATE_LIMITED_EVENTS: ReadonlySet<string> = new Set<EventType>(['release.rejected', 'command.rejected']);

/** The release's image per app: what the updater brings each managed app to. */
export type ReleaseTargets = Partial<Record<ManagedAppId, ReleaseRef>>;

/**
 * The updater: follows the signed releases on MQTT, keeps the core (and Telegraf) at them through
 * the AppManagers, and reports on MQTT and its REST API. One operation runs at a time.
 */
export class Updater {
  readonly journal: UpdateJournal;
  private readonly engine: DockerEngine;
  private readonly credentials: RegistryCredentials;
  private readonly decision: ReleaseDecision;
  private readonly managers = new Map<ManagedAppId, AppManager>();
  private readonly phases = new Map<ManagedAppId, { phase: Phase; target?: ReleaseRef }>();
  private readonly coreStatus = new CoreStatusWatch();
  private readonly link: AppLink;
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private retryTimer?: { at: number; timer: NodeJS.Timeout };
  private lastResult?: UpdaterStatus['lastResult'];
  private checkRequested = false;
  private probationQueued = false;
  private stopped = false;
  private readonly listeners = new Set<(event: UpdaterEvent) => void>();
  private readonly layout: ModuleLayout;
  private readonly selfUpdate?: SelfUpdate;
  private readonly limiter: EventRateLimiter;

  constructor(private readonly options: UpdaterOptions) {
    this.limiter = new EventRateLimiter(DEFAULT_EVENT_RATE_LIMIT, (summary) =>
      this.deliver(summary as UpdaterEvent),
    );
    const { config } = options;
    const trustedKeys = loadTrustedKeys(config.releaseKeysPath);
    const installFloor = readReleaseFloor(config.releaseFloorFile ?? join(config.dataDir, 'release-floor'));
    this.journal = new UpdateJournal(config.dataDir);
    this.engine = new DockerEngine(config.dockerHost, { callTimeoutMs: options.engineCallTimeoutMs });
    this.credentials = new RegistryCredentials(
      options.tokenSource ?? ecrTokenSource({ region: config.awsRegion, endpoint: config.ecrEndpoint }),
    );
    // The journal is the decision's one record: floor, accepted document per topic, revoked images
    // and an accepted key-set (which then replaces the configured keys).
    this.decision = new ReleaseDecision({
      moduleId: config.moduleId,
      channel: config.channel,
      trustedKeys,
      installFloor,
      imageRepos: {
        core: config.coreImageRepo,
        telegraf: config.telegrafImageRepo,
        tunnel: config.tunnelImageRepo,
        updater: config.updaterImageRepo,
      },
      store: this.journal,
    });
    const watchDocuments = (topic: string, slot: DocumentSlot) => ({
      topic,
      onMessage: (payload: Buffer) => this.onDocument(slot, payload),
    });
    this.link = new AppLink({
      connection: config.mqtt,
      app: 'updater',
      moduleId: config.moduleId,
      version: options.version,
      // Random too: in a container every updater is pid 1, and an old one's session may linger.
      clientId: `growoff-updater-${config.moduleId}-${process.pid}-${randomBytes(3).toString('hex')}`,
      statusFields: (_state, will) => {
        if (will) return { phase: 'idle' };
        const { state: _s, version: _v, ts: _t, ...fields } = this.status();
        return fields;
      },
      watch: [
        watchDocuments(topics.fleetKeys(), 'keys'),
        watchDocuments(topics.fleetRevocations(), 'revocations'),
        watchDocuments(topics.fleetRelease(config.channel), 'channel'),
        watchDocuments(topics.release(config.moduleId), 'pin'),
        {
          topic: topics.status(config.moduleId, 'core'),
          onMessage: (payload) => this.coreStatus.offer(payload),
        },
      ],
      onConnectionChange: (connected) => {
        if (!connected) return;
        for (const manager of this.managers.values()) manager.brokerBack();
        void this.check();
      },
      onRejected: ({ target, error }) =>
        this.emit('command.rejected', 'warning', `updater/req/${target}: ${error.message}`, {
          target,
          code: error.code,
        }),
      log: (line) => options.log?.(`[warning] ${line}`),
    });
    this.layout = moduleLayout(config);
    this.managers.set('core', this.createManager('core', config.coreImageRepo));
    if (config.telegrafImageRepo)
      this.managers.set('telegraf', this.createManager('telegraf', config.telegrafImageRepo));
    if (config.tunnelImageRepo)
      this.managers.set('tunnel', this.createManager('tunnel', config.tunnelImageRepo));
    if (config.updaterImageRepo && config.selfContainer) {
      this.selfUpdate = new SelfUpdate({
        journal: this.journal,
        containers: new ManagedContainers(this.engine, 'updater', config.managedBy),
        puller: this.createPuller('updater'),
        spec: () => resolveSpec(appSpec('updater', this.layout)),
        selfContainer: config.selfContainer,
        version: options.version,
        dataDir: config.dataDir,
        healthTimeoutMs: config.healthTimeoutMs,
        emit: this.emit,
        setPhase: (phase, target) => {
          this.phases.set('updater', { phase, target });
          this.publishStatus();
        },
      });
    }
  }

  async start(): Promise<void> {
    const { config } = this.options;
    await this.serialized(async () => {
      await this.selfUpdate?.reconcile();
      for (const manager of this.managers.values()) {
        await this.removeUnitContainer(manager.app);
        await manager.reconcile();
      }
    });
    this.link.start();
    this.timers.push(setInterval(() => void this.check(), config.checkIntervalMs));
    this.timers.push(setInterval(() => void this.probation(), 1000));
  }

  /**
   * Lets the running operation finish and says `offline`, all within `deadlineMs`; an operation still
   * running then is cut, which the journal makes safe (it resumes or rolls back at the next start).
   */
  async stop(deadlineMs = 5000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    const goodbyeMs = Math.min(1500, deadlineMs / 4);
    await settleWithin(this.queue, deadlineMs - goodbyeMs);
    // The summaries of refusals held back in the current window, before the link goes.
    this.limiter.flush();
    await this.link.stop(goodbyeMs);
  }

  /** Brings every managed app to its desired release (what POST /check and new releases trigger). */
  check(): Promise<void> {
    if (this.checkRequested) return this.queue.then(() => undefined);
    this.checkRequested = true;
    return this.serialized(async () => {
      this.checkRequested = false;
      const targets = this.decision.targets().apps;
      for (const [app, manager] of this.managers) {
        this.rememberGood(app);
        const state = this.journal.app(app);
        if (state.pending) continue;
        const running = state.current;
        let target = targets[app] ?? (running ? undefined : this.installedImage(app));
        if (
          running &&
          this.decision.isRevoked(running.image) &&
          (!target || target.image === running.image)
        ) {
          target = this.lastGoodNotRevoked(app, running.image);
          this.emit(
            'release.rollback_revoked',
            'warning',
            target
              ? `${app} ${running.version} is revoked: rolling back to ${target.version}`
              : `${app} ${running.version} is revoked, and no good release that is not revoked is known`,
            {
              app,
              version: running.version,
              image: running.image,
              to: target?.image,
              toVersion: target?.version,
            },
          );
        }
        if (!target || target.image === running?.image) continue;
        if (state.failedImages.includes(target.image) || this.decision.isRevoked(target.image)) continue;
        // Held back (update lock, broker outage): asked again by a timer, never waited for here.
        const notBefore = manager.retryAt(target.image);
        if (notBefore !== undefined) {
          this.checkAt(notBefore);
          continue;
        }
        const result = await manager.install(target);
        this.lastResult = { result, version: target.version, ts: Date.now() };
        const retryAt = manager.retryAt(target.image);
        if (retryAt !== undefined) this.checkAt(retryAt);
        this.publishStatus();
      }
      // Last: a hand-over ends this updater's work.
      const self = this.selfUpdate && (await this.selfUpdate.self());
      const target = targets.updater;
      const state = this.journal.app('updater');
      if (!this.selfUpdate || !self || !target || target.image === self.image) return;
      if (state.failedImages.includes(target.image)) return;
      const result = await this.selfUpdate.install(target);
      this.lastResult = { result, version: target.version, ts: Date.now() };
      if (result === 'handed-over') {
        this.stopped = true;
        setImmediate(() => this.options.onHandOver?.());
      }
      this.publishStatus();
    });
  }

  /** A check at `at` (the earliest asked for wins). */
  private checkAt(at: number): void {
    if (this.stopped || (this.retryTimer && this.retryTimer.at <= at)) return;
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    const timer = setTimeout(
      () => {
        this.retryTimer = undefined;
        void this.check();
      },
      Math.max(0, at - Date.now()),
    );
    this.retryTimer = { at, timer };
  }

  /**
   * `ok`, or `degraded` with its reasons: `docker` when the engine does not answer (nothing can be
   * installed or rolled back), `journal` when the journal cannot be written (nothing is installed).
   */
  async health(): Promise<{
    status: 'ok' | 'degraded';
    reasons?: string[];
    errors?: Record<string, string>;
  }> {
    const errors: Record<string, string> = {};
    try {
      await this.engine.ping(2000);
    } catch (error) {
      errors.docker = `${describeError(error).code}: ${describeError(error).message}`;
    }
    const journal = this.journal.writeFailure;
    if (journal) errors.journal = `${journal.code}: ${journal.message}`;
    const reasons = Object.keys(errors);
    return reasons.length === 0 ? { status: 'ok' } : { status: 'degraded', reasons, errors };
  }

  status(): UpdaterStatus {
    const apps: UpdaterStatus['apps'] = {};
    const reported: ManagedAppId[] = [
      ...this.managers.keys(),
      ...(this.selfUpdate ? ['updater' as const] : []),
    ];
    for (const app of reported) {
      const state = this.journal.app(app);
      const phase = this.phases.get(app) ?? { phase: 'idle' as Phase };
      apps[app] = {
        current: state.current ? { version: state.current.version, image: state.current.image } : undefined,
        lastKnownGood: state.lastKnownGood,
        phase: phase.phase,
        target: phase.target,
      };
    }
    const targets = this.decision.targets();
    const channelTarget =
      targets.release && 'channel' in targets.release.target ? targets.release.target : undefined;
    let lastError: UpdaterStatus['lastError'];
    for (const [app, manager] of this.managers) {
      if (manager.lastError && (!lastError || manager.lastError.ts > lastError.ts)) {
        lastError = { ...manager.lastError, app };
      }
    }
    return {
      state: 'online',
      version: this.options.version,
      current: apps.core?.current,
      target: targets.apps.core,
      phase: apps.core?.phase ?? 'idle',
      lastResult: this.lastResult,
      lastError,
      ts: Date.now(),
      apps,
      release: {
        source: targets.source,
        name: targets.release?.name,
        sequence: targets.release?.sequence,
        channel: channelTarget?.channel,
        outsideRollout: targets.outsideRollout,
        revokedApps: targets.revokedApps,
        floor: this.decision.floor,
      },
      registryTokens: this.credentials.issued,
    };
  }

  /** Every event as it is published; returns the unsubscribe. */
  onEvent(listener: (event: UpdaterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  history() {
    return this.journal.history();
  }

  /** A retained signed document on one of the release topics: verified, bound, then acted on. */
  private onDocument(slot: DocumentSlot, payload: Buffer): void {
    const verdict = this.decision.offer(slot, payload);
    if (verdict.kind === 'unchanged') return;
    if (verdict.kind === 'rejected') {
      this.emit(
        'release.rejected',
        'warning',
        `refused a ${slot} document: ${verdict.code}: ${verdict.message}`,
        {
          source: slot,
          code: verdict.code,
          sequence: verdict.sequence,
        },
      );
      return;
    }
    this.announce(slot, verdict.document);
    this.publishStatus();
    void this.check();
  }

  private announce(slot: DocumentSlot, doc: FleetPayload): void {
    switch (doc.kind) {
      case 'release': {
        const apps = Object.entries(doc.apps).map(([app, ref]) => `${app} ${ref.version}`);
        const core = doc.apps.core;
        this.emit(
          'release.accepted',
          'info',
          `${slot} release ${doc.name} (${apps.join(', ')}; sequence ${doc.sequence}${
            'channel' in doc.target ? `, rollout ${doc.target.rollout.percent}%` : ''
          })`,
          {
            source: slot,
            kind: doc.kind,
            name: doc.name,
            version: core?.version,
            image: core?.image,
            sequence: doc.sequence,
            inRollout:
              'module' in doc.target || inRollout(this.options.config.moduleId, doc.target.rollout.percent),
          },
        );
        return;
      }
      case 'unpin':
        this.emit('release.cleared', 'info', `the pin was lifted (sequence ${doc.sequence})`, {
          source: slot,
          sequence: doc.sequence,
        });
        return;
      case 'revocation':
        this.emit(
          'release.revoked',
          'warning',
          `${doc.revoked.length} revoked image(s) (sequence ${doc.sequence})`,
          {
            sequence: doc.sequence,
            images: doc.revoked.map((r) => r.image),
          },
        );
        return;
      case 'key-set':
        this.emit(
          'keys.rotated',
          'warning',
          `now trusting ${doc.keys.length} release key(s) (sequence ${doc.sequence})`,
          {
            sequence: doc.sequence,
            keyids: this.decision.trustedKeys.map((k) => k.keyid),
          },
        );
        return;
    }
  }

  /** The journal keeps the releases that proved good; a revoked one rolls back to the newest other. */
  private rememberGood(app: ManagedAppId): void {
    const state = this.journal.app(app);
    for (const ref of [state.probation?.previous, state.lastKnownGood]) {
      if (ref) this.journal.rememberGood(app, ref);
    }
  }

  private lastGoodNotRevoked(app: ManagedAppId, running: string): ReleaseRef | undefined {
    const good = this.journal.snapshot.goodReleases[app] ?? [];
    return good.findLast((r) => r.image !== running && !this.decision.isRevoked(r.image));
  }

  private probation(): Promise<void> {
    if (this.probationQueued) return Promise.resolve();
    this.probationQueued = true;
    return this.serialized(async () => {
      this.probationQueued = false;
      for (const manager of this.managers.values()) await manager.checkProbation();
    });
  }

  private serialized(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await task();
      } catch (error) {
        const { code, message } = describeError(error);
        this.emit('updater.error', 'error', `${code}: ${message}`, { code });
      }
    });
    this.queue = run;
    return run;
  }

  private readonly emit: EmitEvent = (type, severity, message, data) => {
    const event = createEvent(type, message, data, { severity }) as UpdaterEvent;
    if (RATE_LIMITED_EVENTS.has(type) && !this.limiter.admit(event)) return;
    this.deliver(event);
  };

  /** Logs, journals (all but download progress), publishes and hands an event to the listeners. */
  private deliver(event: UpdaterEvent): void {
    const { type, severity, message, data } = event;
    this.options.log?.(`[${severity}] ${type}: ${message}`);
    if (type !== 'download.progress') {
      const app = (data as { app?: ManagedAppId } | undefined)?.app ?? 'core';
      this.journal.record({ ts: event.ts, app, type, message, data });
      if (type === 'probation.passed') this.rememberGood(app);
    }
    this.link.publishEvent(event);
    for (const listener of this.listeners) listener(event);
  }

  private publishStatus(): void {
    this.link.publishStatus();
  }

  /**
   * The targets of the accepted release. Today's release names the core and Telegraf; the tunnel's
   * and the updater's images are read from the same signed payload's `tunnel` and `updater` fields
   * until the fleet release (#14) names every app, each checked against its trusted repository.
   */
  private installedImage(app: ManagedAppId): ReleaseRef | undefined {
    const { config } = this.options;
    const image =
      app === 'telegraf' ? config.telegrafImage : app === 'tunnel' ? config.tunnelImage : undefined;
    return image ? { version: 'installed', image } : undefined;
  }

  /**
   * A container named exactly as the app's spec, without our labels, is what an earlier tools/base
   * unit started (the updater's own are `<name>-<random>`): removed so exactly one of the app runs.
   */
  private async removeUnitContainer(app: ManagedAppId): Promise<void> {
    const name = this.layout.names[app];
    const info = await this.engine.inspectContainer(name);
    if (!info || info.Config.Labels?.[LABEL_APP]) return;
    try {
      await this.engine.removeContainer(name, { force: true });
    } catch (error) {
      if (engineStatus(error) === 404) return;
      throw error;
    }
    this.emit('reconcile.removed', 'warning', `removed the ${app} container a tools/base unit started`, {
      app,
      container: info.Id,
    });
  }

  private createPuller(app: ManagedAppId): ImagePuller {
    const { config } = this.options;
    return new ImagePuller({
      engine: this.engine,
      credentials: this.credentials,
      diskReserveBytes: config.diskReserveBytes,
      dockerDataRoot: config.dockerDataRoot,
      retryForMs: config.pullRetryMs,
      stallMs: config.pullStallMs,
      onProgress: (p) =>
        this.emit('download.progress', 'debug', `${app}: ${p.bytes} of ${p.total} bytes`, { app, ...p }),
      onRetry: (attempt, error) =>
        this.emit(
          'download.retry',
          'warning',
          `${app} download attempt ${attempt} failed (${error.code}: ${error.message}); retrying`,
          {
            app,
            attempt,
            error,
          },
        ),
    });
  }

  private createManager(app: ManagedAppId, imageRepo: string): AppManager {
    const { config } = this.options;
    const containers = new ManagedContainers(this.engine, app, config.managedBy);
    const puller = this.createPuller(app);
    return new AppManager({
      app,
      journal: this.journal,
      containers,
      puller,
      imageRepo,
      spec: () => resolveSpec(appSpec(app, this.layout)),
      probationMs: config.probationMs,
      crashLoopRestarts: config.crashLoopRestarts,
      pullRetryMs: config.pullRetryMs,
      lockMaxHoldMs: config.updateLockMaxMs,
      emit: this.emit,
      setPhase: (phase, target) => {
        this.phases.set(app, { phase, target });
        this.publishStatus();
      },
      healthGate: (containerId, spec, version) => {
        const port = httpPortOf(spec.env, config.coreHttpPort);
        return runHealthGate({
          containers,
          containerId,
          deadlineMs: config.healthTimeoutMs,
          healthUrl: app === 'core' ? `http://127.0.0.1:${port}/health` : undefined,
          expectVersion: version,
          tolerate: config.healthTolerate,
          brokerReachable: () => this.link.connected,
          coreStatus: app === 'core' && config.healthRequiresMqtt ? this.coreStatus : undefined,
          settleMs: app === 'core' ? 0 : Math.min(5000, config.healthTimeoutMs / 2),
        });
      },
      lockRemainingMs: async (container) => {
        if (app !== 'core') return 0;
        const port = httpPortOf(container.env, config.coreHttpPort);
        const now = Date.now();
        const rest = lockRemainingMs(await readUpdateLock(`http://127.0.0.1:${port}`), now);
        return Math.max(rest, lockRemainingMs(this.coreStatus.message?.updateLock, now));
      },
    });
  }
}
