import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import {
  AppLink,
  createEvent,
  describeError,
  loadTrustedKeys,
  ReleaseDecision,
  settleWithin,
  topics,
  type DocumentSlot,
  type FleetPayload,
  type RegisteredEvent,
} from '@growoff/protocol';
import type { UpdaterConfig } from './config/updater-config';
import { ImagePuller } from './engine/image-puller';
import { httpPortOf, ManagedContainers } from './engine/managed-containers';
import { AppManager, type EmitEvent, type Phase } from './install/app-manager';
import { CoreStatusWatch } from './install/core-status-watch';
import { runHealthGate } from './install/health-gate';
import { lockRemainingMs, readUpdateLock } from './install/update-lock';
import {
  UpdateJournal,
  type ContainerSpec,
  type ManagedAppId,
  type ReleaseRef,
} from './journal/update-journal';
import { readReleaseFloor } from './release/release-floor';
import { ecrTokenSource, RegistryCredentials, type TokenSource } from './registry/ecr-credentials';

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
}

/**
 * The updater: follows the signed releases on MQTT, keeps the core (and Telegraf) at them through
 * the AppManagers, and reports on MQTT and its REST API. One operation runs at a time.
 */
export class Updater {
  readonly journal: UpdateJournal;
  private readonly docker: Docker;
  private readonly credentials: RegistryCredentials;
  private readonly decision: ReleaseDecision;
  private readonly managers = new Map<ManagedAppId, AppManager>();
  private readonly phases = new Map<ManagedAppId, { phase: Phase; target?: ReleaseRef }>();
  private readonly coreStatus = new CoreStatusWatch();
  private readonly link: AppLink;
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private lastResult?: UpdaterStatus['lastResult'];
  private checkRequested = false;
  private probationQueued = false;
  private stopped = false;
  private readonly listeners = new Set<(event: UpdaterEvent) => void>();

  constructor(private readonly options: UpdaterOptions) {
    const { config } = options;
    const trustedKeys = loadTrustedKeys(config.releaseKeysPath);
    const installFloor = readReleaseFloor(config.releaseFloorFile ?? join(config.dataDir, 'release-floor'));
    this.journal = new UpdateJournal(config.dataDir);
    this.docker = new Docker(dockerConnection(config.dockerHost));
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
      imageRepos: { core: config.coreImageRepo, telegraf: config.telegrafImageRepo },
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
      clientId: `growoff-updater-${config.moduleId}-${process.pid}`,
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
      onRejected: ({ target, error }) =>
        this.emit('command.rejected', 'warning', `updater/req/${target}: ${error.message}`, {
          target,
          code: error.code,
        }),
      log: (line) => options.log?.(`[warning] ${line}`),
    });
    this.managers.set('core', this.createManager('core', config.coreImageRepo));
    if (config.telegrafImageRepo)
      this.managers.set('telegraf', this.createManager('telegraf', config.telegrafImageRepo));
  }

  async start(): Promise<void> {
    const { config } = this.options;
    await this.serialized(async () => {
      for (const manager of this.managers.values()) await manager.reconcile();
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
      const targets = this.decision.targets().apps;
      for (const [app, manager] of this.managers) {
        this.rememberGood(app);
        const state = this.journal.app(app);
        if (state.pending) continue;
        const running = state.current;
        let target = targets[app];
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
        const result = await manager.install(target);
        this.lastResult = { result, version: target.version, ts: Date.now() };
        this.publishStatus();
      }
    });
  }

  status(): UpdaterStatus {
    const apps: UpdaterStatus['apps'] = {};
    for (const app of this.managers.keys()) {
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
    return {
      state: 'online',
      version: this.options.version,
      current: apps.core?.current,
      target: targets.apps.core,
      phase: apps.core?.phase ?? 'idle',
      lastResult: this.lastResult,
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
        const targets = this.decision.targets();
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
            inRollout: targets.release === doc,
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

  private createManager(app: ManagedAppId, imageRepo: string): AppManager {
    const { config } = this.options;
    const containers = new ManagedContainers(this.docker, app, config.managedBy);
    const baseName = app === 'core' ? config.coreContainerName : config.telegrafContainerName;
    const puller = new ImagePuller({
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
    const core = app === 'core';
    const firstInstallSpec = (): ContainerSpec => ({
      name: baseName,
      env: core && config.coreEnvFile ? readEnvFile(config.coreEnvFile) : [],
      binds: core ? config.coreVolumes : [],
      devices: core ? config.coreDevices.map(deviceMapping) : [],
      networkMode: 'host',
      labels: {},
      privileged: false,
      groupAdd: core ? config.coreGroups : [],
    });
    return new AppManager({
      app,
      journal: this.journal,
      containers,
      puller,
      imageRepo,
      firstInstallSpec,
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

/** KEY=VALUE lines; blank lines and # comments skipped. */
export function readEnvFile(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && l.includes('='));
}

/** `/dev/i2c-1` or `/dev/host:/dev/container` as the engine's device mapping (read and write). */
function deviceMapping(device: string): ContainerSpec['devices'][number] {
  const [onHost, inContainer = onHost] = device.split(':') as [string, string?];
  return { PathOnHost: onHost, PathInContainer: inContainer, CgroupPermissions: 'rwm' };
}
