import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  ReleaseDecision,
  topics,
  type DocumentSlot,
  type ReleaseRef,
  type TrustedKey,
} from '@growoff/protocol';
import type { SimSensor } from './sim-profile';

export type UpdatePhase = 'idle' | 'downloading' | 'installing' | 'health-check';

export interface SimulatedModuleOptions {
  url: string;
  moduleId: string;
  /** MQTT credentials (the fleet broker's ACL: username = module id). */
  password?: string;
  channel: string;
  trustedKeys: readonly TrustedKey[];
  /** The installer's release floor (default 1: none). */
  releaseFloor?: number;
  /** The core version the module runs at start. */
  version: string;
  image: string;
  sensors: readonly SimSensor[];
  /** Simulated image download time, drawn uniformly from [min, max]. */
  downloadMs: readonly [number, number];
  installMs: number;
  /** Called on every change worth redrawing or counting. */
  onEvent?: (event: ModuleEvent) => void;
}

export type ModuleEvent =
  | { type: 'reading' }
  | { type: 'phase'; phase: UpdatePhase }
  | { type: 'installed'; version: string }
  | { type: 'rejected'; code: string };

export interface ModuleSnapshot {
  moduleId: string;
  connected: boolean;
  current: string;
  phase: UpdatePhase;
}

const UPDATER_VERSION = '0.1.0';

/**
 * One simulated module speaking the core's and the updater's MQTT protocol over two real
 * connections (as on a device, where they are separate containers): retained `core/status` and
 * `updater/status` with an `offline` will each, retained readings at the profile's rates, and
 * release handling through the updater's own `ReleaseDecision` (libs/protocol) — verify, bind,
 * replay floor, pin, rollout, revocation — then a simulated download and install, and the report.
 */
export class SimulatedModule {
  private core?: MqttClient;
  private updater?: MqttClient;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly decision: ReleaseDecision;
  private current: { version: string; image: string };
  /** What it ran before, newest last: where a revoked image rolls back to, as the updater does. */
  private readonly ran: ReleaseRef[] = [];
  private target: ReleaseRef | null = null;
  private readonly slots: ReadonlyMap<string, DocumentSlot>;
  private phase: UpdatePhase = 'idle';
  private lastResult?: { result: 'installed'; version: string; ts: number };
  private installing = false;
  private stopped = false;

  constructor(private readonly options: SimulatedModuleOptions) {
    this.decision = new ReleaseDecision({
      moduleId: options.moduleId,
      channel: options.channel,
      trustedKeys: options.trustedKeys,
      installFloor: options.releaseFloor,
    });
    this.slots = new Map<string, DocumentSlot>([
      [topics.fleetKeys(), 'keys'],
      [topics.fleetRevocations(), 'revocations'],
      [topics.fleetRelease(options.channel), 'channel'],
      [topics.release(options.moduleId), 'pin'],
    ]);
    this.current = { version: options.version, image: options.image };
  }

  get moduleId(): string {
    return this.options.moduleId;
  }

  snapshot(): ModuleSnapshot {
    return {
      moduleId: this.options.moduleId,
      connected: Boolean(this.core?.connected && this.updater?.connected),
      current: this.current.version,
      phase: this.phase,
    };
  }

  async start(): Promise<void> {
    this.core = await this.connect('core');
    await this.publishCoreStatus();
    this.updater = await this.connect('updater');
    this.updater.on('message', (topic, payload) => this.onRelease(topic, payload));
    await this.publishUpdaterStatus();
    await this.updater.subscribeAsync([...this.slots.keys()], { qos: 1 });
    for (const sensor of this.options.sensors) this.scheduleReadings(sensor);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all([this.core?.endAsync(true), this.updater?.endAsync(true)]);
  }

  private async connect(app: 'core' | 'updater'): Promise<MqttClient> {
    const id = this.options.moduleId;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: `${id}-${app}`,
      username: this.options.password === undefined ? undefined : id,
      password: this.options.password,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 1_000 + Math.floor(Math.random() * 1_000),
      connectTimeout: 30_000,
      will: {
        topic: topics.status(id, app),
        payload: Buffer.from(
          JSON.stringify({
            state: 'offline',
            version: app === 'core' ? this.current.version : UPDATER_VERSION,
            ts: Date.now(),
          }),
        ),
        qos: 1,
        retain: true,
      },
    };
    const client = await mqtt.connectAsync(this.options.url, options);
    client.on('error', () => {});
    return client;
  }

  private async publishCoreStatus(): Promise<void> {
    const body = { state: 'online', version: this.current.version, ts: Date.now() };
    await this.core?.publishAsync(topics.status(this.options.moduleId, 'core'), JSON.stringify(body), {
      qos: 1,
      retain: true,
    });
  }

  private async publishUpdaterStatus(): Promise<void> {
    const body = {
      state: 'online',
      version: UPDATER_VERSION,
      current: this.current,
      ...(this.target ? { target: { version: this.target.version, image: this.target.image } } : {}),
      phase: this.phase,
      ...(this.lastResult ? { lastResult: this.lastResult } : {}),
      ts: Date.now(),
    };
    await this.updater?.publishAsync(topics.status(this.options.moduleId, 'updater'), JSON.stringify(body), {
      qos: 1,
      retain: true,
    });
  }

  private scheduleReadings(sensor: SimSensor): void {
    // A random phase so a fleet started at once does not read in lockstep.
    const first = setTimeout(
      () => {
        void this.publishReading(sensor);
        const every = setInterval(() => void this.publishReading(sensor), sensor.intervalMs);
        this.timers.push(every);
      },
      Math.floor(Math.random() * sensor.intervalMs),
    );
    this.timers.push(first);
  }

  private async publishReading(sensor: SimSensor): Promise<void> {
    if (this.stopped || !this.core?.connected) return;
    const value =
      sensor.spread === 0
        ? sensor.base
        : Number((sensor.base + (Math.random() * 2 - 1) * sensor.spread).toFixed(2));
    const reading = { value, unit: sensor.unit, quality: 'ok', ts: Date.now() };
    this.core.publish(topics.sensor(this.options.moduleId, sensor.id), JSON.stringify(reading), {
      qos: 0,
      retain: true,
    });
    this.options.onEvent?.({ type: 'reading' });
  }

  private onRelease(topic: string, payload: Buffer): void {
    const source = this.slots.get(topic);
    if (!source) return;
    const offer = this.decision.offer(source, payload);
    if (offer.kind === 'rejected') {
      this.options.onEvent?.({ type: 'rejected', code: offer.code });
      this.publishEvent('release.rejected', 'warning', offer.message, { code: offer.code, source });
      return;
    }
    if (offer.kind === 'unchanged') return;
    void this.converge();
  }

  /** Installs the decided target if it differs from what runs; re-decides after each install. */
  private async converge(): Promise<void> {
    if (this.installing || this.stopped) return;
    this.installing = true;
    try {
      for (;;) {
        let target = this.decision.targets().apps.core;
        if (this.decision.isRevoked(this.current.image) && (!target || target.image === this.current.image)) {
          target = this.ran.findLast((r) => !this.decision.isRevoked(r.image));
        }
        if (!target || (target.version === this.current.version && target.image === this.current.image)) {
          if (this.target !== null) {
            this.target = null;
            await this.publishUpdaterStatus();
          }
          return;
        }
        await this.install(target);
        if (this.stopped) return;
      }
    } finally {
      this.installing = false;
    }
  }

  private async install(target: ReleaseRef): Promise<void> {
    this.target = target;
    const [min, max] = this.options.downloadMs;
    await this.enter('downloading');
    const total = 48_000_000;
    await delay(min + Math.random() * (max - min));
    this.publishEvent('update.downloaded', 'info', `pulled ${target.image}`, { bytes: total, total });
    await this.enter('installing');
    await delay(this.options.installMs / 2);
    this.ran.push(this.current);
    this.current = { version: target.version, image: target.image };
    await this.publishCoreStatus();
    await this.enter('health-check');
    await delay(this.options.installMs / 2);
    this.lastResult = { result: 'installed', version: target.version, ts: Date.now() };
    this.target = null;
    this.phase = 'idle';
    await this.publishUpdaterStatus();
    this.publishEvent('update.committed', 'info', `core ${target.version} is healthy`, {
      version: target.version,
    });
    this.options.onEvent?.({ type: 'installed', version: target.version });
  }

  private async enter(phase: UpdatePhase): Promise<void> {
    this.phase = phase;
    this.options.onEvent?.({ type: 'phase', phase });
    await this.publishUpdaterStatus();
  }

  private publishEvent(type: string, severity: string, message: string, data: unknown): void {
    this.updater?.publish(
      topics.events(this.options.moduleId),
      JSON.stringify({ type, severity, message, ts: Date.now(), data }),
      { qos: 0 },
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
