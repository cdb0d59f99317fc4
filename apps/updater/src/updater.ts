import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import {
  AppLink,
  createEvent,
  describeError,
  loadTrustedKeys,
  settleWithin,
  topics,
  type RegisteredEvent,
  type TrustedKey,
} from '@growoff/protocol';
import type { UpdaterConfig } from './config/updater-config';
import { ImagePuller } from './engine/image-puller';
import { httpPortOf, LABEL_APP, ManagedContainers } from './engine/managed-containers';
import { AppManager, type EmitEvent, type Phase } from './install/app-manager';
import { CoreStatusWatch } from './install/core-status-watch';
import { runHealthGate } from './install/health-gate';
import { lockRemainingMs, readUpdateLock } from './install/update-lock';
import { UpdateJournal, type ManagedAppId, type ReleaseRef } from './journal/update-journal';
import { DesiredRelease, type ReleaseSource } from './release/desired-release';
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
  ts: number;
  apps: Record<
    string,
    { current?: ReleaseRef; lastKnownGood?: ReleaseRef; phase: Phase; target?: ReleaseRef }
  >;
  release?: {
    source: ReleaseSource | null;
    sequence?: number;
    channel?: string;
    outsideRollout?: { percent: number };
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
  /**
   * Called when a new updater is healthy beside this one: stop, free the journal lock and exit so
   * it takes over. This updater runs nothing more once it is called.
   */
  onHandOver?: () => void;
}

/** The release's image per app: what the updater brings each managed app to. */
export type ReleaseTargets = Partial<Record<ManagedAppId, ReleaseRef>>;

/**
 * The updater: follows the signed releases on MQTT, keeps the core (and Telegraf) at them through
 * the AppManagers, and reports on MQTT and its REST API. One operation runs at a time.
 */
export class Updater {
  readonly journal: UpdateJournal;
  private readonly docker: Docker;
  private readonly credentials: RegistryCredentials;
  private readonly desired: DesiredRelease;
  private readonly managers = new Map<ManagedAppId, AppManager>();
  private readonly phases = new Map<ManagedAppId, { phase: Phase; target?: ReleaseRef }>();
  private readonly coreStatus = new CoreStatusWatch();
  private readonly trustedKeys: TrustedKey[];
  private readonly link: AppLink;
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private lastResult?: UpdaterStatus['lastResult'];
  private checkRequested = false;
  private probationQueued = false;
  private stopped = false;
  private readonly listeners = new Set<(event: UpdaterEvent) => void>();
  private readonly layout: ModuleLayout;
  private readonly selfUpdate?: SelfUpdate;

  constructor(private readonly options: UpdaterOptions) {
    const { config } = options;
    this.trustedKeys = loadTrustedKeys(config.releaseKeysPath);
    this.journal = new UpdateJournal(config.dataDir);
    this.docker = new Docker(dockerConnection(config.dockerHost));
    this.credentials = new RegistryCredentials(
      options.tokenSource ?? ecrTokenSource({ region: config.awsRegion, endpoint: config.ecrEndpoint }),
    );
    this.desired = new DesiredRelease({
      moduleId: config.moduleId,
      channel: config.channel,
      trustedKeys: this.trustedKeys,
      imageRepos: { core: config.coreImageRepo, telegraf: config.telegrafImageRepo },
      sequences: this.journal,
    });
    const fleetTopic = topics.fleetRelease(config.channel);
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
        { topic: fleetTopic, onMessage: (payload) => this.onRelease('channel', payload) },
        { topic: topics.release(config.moduleId), onMessage: (payload) => this.onRelease('pin', payload) },
        {
          topic: topics.status(config.moduleId, 'core'),
          onMessage: (payload) => this.coreStatus.offer(payload),
        },
      ],
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
        containers: new ManagedContainers(this.docker, 'updater', config.managedBy),
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
    const goodbyeMs = Math.min(1500, deadlineMs / 4);
    await settleWithin(this.queue, deadlineMs - goodbyeMs);
    await this.link.stop(goodbyeMs);
  }

  /** Brings every managed app to its desired release (what POST /check and new releases trigger). */
  check(): Promise<void> {
    if (this.checkRequested) return this.queue.then(() => undefined);
    this.checkRequested = true;
    return this.serialized(async () => {
      this.checkRequested = false;
      const targets = this.releaseTargets();
      for (const [app, manager] of this.managers) {
        const state = this.journal.app(app);
        const target = targets[app] ?? (state.current ? undefined : this.installedImage(app));
        if (!target || state.pending || target.image === state.current?.image) continue;
        if (state.failedImages.includes(target.image)) continue;
        const result = await manager.install(target);
        this.lastResult = { result, version: target.version, ts: Date.now() };
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
    const targets = this.desired.targets();
    return {
      state: 'online',
      version: this.options.version,
      current: apps.core?.current,
      target: targets.core,
      phase: apps.core?.phase ?? 'idle',
      lastResult: this.lastResult,
      ts: Date.now(),
      apps,
      release: {
        source: targets.source,
        sequence: targets.release?.sequence,
        channel: targets.release?.channel,
        outsideRollout: targets.outsideRollout,
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

  private onRelease(source: ReleaseSource, payload: Buffer): void {
    const verdict = this.desired.offer(source, payload);
    if (verdict.kind === 'rejected') {
      this.emit(
        'release.rejected',
        'warning',
        `refused a ${source} release: ${verdict.code}: ${verdict.message}`,
        {
          source,
          code: verdict.code,
          sequence: verdict.sequence,
        },
      );
      return;
    }
    if (verdict.kind === 'unchanged') return;
    if (verdict.kind === 'accepted') {
      const p = verdict.payload;
      this.emit(
        'release.accepted',
        'info',
        `${source} release ${p.app} ${p.version} (sequence ${p.sequence}, rollout ${p.rollout.percent}%)`,
        {
          source,
          version: p.version,
          image: p.image,
          sequence: p.sequence,
          inRollout: this.desired.targets().source !== null,
        },
      );
    } else {
      this.emit('release.cleared', 'info', `the ${source} release was cleared`, { source });
    }
    this.publishStatus();
    void this.check();
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
    this.options.log?.(`[${severity}] ${type}: ${message}`);
    if (type !== 'download.progress') {
      const app = (data as { app?: ManagedAppId } | undefined)?.app ?? 'core';
      this.journal.record({ ts: event.ts, app, type, message, data: data as Record<string, unknown> });
    }
    this.link.publishEvent(event);
    for (const listener of this.listeners) listener(event);
  };

  private publishStatus(): void {
    this.link.publishStatus();
  }

  /**
   * The targets of the accepted release. Today's release names the core and Telegraf; the tunnel's
   * and the updater's images are read from the same signed payload's `tunnel` and `updater` fields
   * until the fleet release (#14) names every app, each checked against its trusted repository.
   */
  private releaseTargets(): ReleaseTargets {
    const { config } = this.options;
    const desired = this.desired.targets();
    const targets: ReleaseTargets = { core: desired.core, telegraf: desired.telegraf };
    const named = desired.release as { tunnel?: ReleaseRef; updater?: ReleaseRef; app?: string } | undefined;
    const repos = { tunnel: config.tunnelImageRepo, updater: config.updaterImageRepo };
    for (const app of ['tunnel', 'updater'] as const) {
      const ref = named?.[app];
      const repo = repos[app];
      if (ref && repo && ref.image.startsWith(`${repo}@sha256:`)) {
        targets[app] = { version: ref.version, image: ref.image };
      }
    }
    return targets;
  }

  /** The image tools/base installed for `app`, run until a release names one. */
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
    try {
      const info = await this.docker.getContainer(name).inspect();
      if (info.Config.Labels?.[LABEL_APP]) return;
      await this.docker.getContainer(name).remove({ force: true });
      this.emit('reconcile.removed', 'warning', `removed the ${app} container a tools/base unit started`, {
        app,
        container: info.Id,
      });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  private createPuller(app: ManagedAppId): ImagePuller {
    const { config } = this.options;
    return new ImagePuller({
      docker: this.docker,
      credentials: this.credentials,
      diskReserveBytes: config.diskReserveBytes,
      dockerDataRoot: config.dockerDataRoot,
      retryForMs: config.pullRetryMs,
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
    const containers = new ManagedContainers(this.docker, app, config.managedBy);
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
      emit: this.emit,
      setPhase: (phase, target) => {
        this.phases.set(app, { phase, target });
        this.publishStatus();
      },
      healthGate: (containerId, spec) => {
        const port = httpPortOf(spec.env, config.coreHttpPort);
        return runHealthGate({
          containers,
          containerId,
          deadlineMs: config.healthTimeoutMs,
          healthUrl: app === 'core' ? `http://127.0.0.1:${port}/health` : undefined,
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

function dockerConnection(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}
