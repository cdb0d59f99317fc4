import mqtt, { type MqttClient } from 'mqtt';
import { parseTopic, TOPIC_ROOT } from '@growoff/protocol';
import { FleetSimError } from './fleet-sim-error';

export interface UpdaterStatusSeen {
  state?: string;
  current?: { version?: string };
  target?: { version?: string };
  phase?: string;
  lastResult?: { result?: string; version?: string };
  /** When the observer received it (ms epoch). */
  receivedAt: number;
}

export interface ReadingTimeliness {
  /** Live readings received (retained ones at subscribe are not counted). */
  received: number;
  /** Readings that arrived later than their interval after their `ts`, or after a gap over 1.5 intervals. */
  late: number;
  maxLatencyMs: number;
  /** The longest gap between two readings of one sensor, as a multiple of its interval. */
  maxGapRatio: number;
}

export interface FleetObserverOptions {
  url: string;
  username?: string;
  password?: string;
  moduleIds: readonly string[];
  /** Watch readings against these intervals (sensor id → ms); off when unset. */
  readingIntervals?: Record<string, number>;
}

/**
 * What the cloud sees of a fleet: the retained updater statuses (and optionally the readings) as
 * the broker delivers them. Tests and the bench judge convergence here, not inside the simulator.
 */
export class FleetObserver {
  readonly updaters = new Map<string, UpdaterStatusSeen>();
  messages = 0;
  private readonly modules: Set<string>;
  private readonly lastArrival = new Map<string, number>();
  private readonly timeliness: ReadingTimeliness = { received: 0, late: 0, maxLatencyMs: 0, maxGapRatio: 0 };
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly client: MqttClient,
    private readonly options: FleetObserverOptions,
  ) {
    this.modules = new Set(options.moduleIds);
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
  }

  static async connect(options: FleetObserverOptions): Promise<FleetObserver> {
    const client = await mqtt.connectAsync(options.url, {
      protocolVersion: 5,
      clientId: `fleet-sim-observer-${Math.random().toString(16).slice(2, 10)}`,
      username: options.username,
      password: options.password,
      reconnectPeriod: 0,
    });
    const observer = new FleetObserver(client, options);
    const filters = [`${TOPIC_ROOT}/modules/+/updater/status`];
    if (options.readingIntervals) filters.push(`${TOPIC_ROOT}/modules/+/sensors/+`);
    await client.subscribeAsync(filters, { qos: 0 });
    return observer;
  }

  readings(): ReadingTimeliness {
    return { ...this.timeliness };
  }

  /** Resets the reading counters (e.g. after the fleet's connect burst). */
  resetReadings(): void {
    Object.assign(this.timeliness, { received: 0, late: 0, maxLatencyMs: 0, maxGapRatio: 0 });
  }

  /** Resolves when `done` holds, re-checked on every status received; FLEET_SIM_TIMEOUT after `timeoutMs`. */
  async waitFor(what: string, done: (observer: FleetObserver) => boolean, timeoutMs: number): Promise<void> {
    if (done(this)) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new FleetSimError('FLEET_SIM_TIMEOUT', `${what}: not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Modules whose updater reports `version` installed and idle. */
  installed(version: string): string[] {
    return [...this.updaters.entries()]
      .filter(([, s]) => s.current?.version === version && s.phase === 'idle')
      .map(([id]) => id);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    this.messages++;
    const parsed = parseTopic(topic);
    if (!parsed || !('moduleId' in parsed) || !this.modules.has(parsed.moduleId)) return;
    const now = Date.now();
    if (parsed.kind === 'status' && parsed.app === 'updater') {
      try {
        this.updaters.set(parsed.moduleId, {
          ...(JSON.parse(payload.toString()) as object),
          receivedAt: now,
        });
      } catch {
        return;
      }
    } else if (parsed.kind === 'sensor' && !retained) {
      this.onReading(topic, parsed.sensorId, payload, now);
    } else {
      return;
    }
    for (const check of [...this.waiters]) check();
  }

  private onReading(topic: string, sensorId: string, payload: Buffer, now: number): void {
    const interval = this.options.readingIntervals?.[sensorId];
    if (interval === undefined) return;
    let ts: unknown;
    try {
      ts = (JSON.parse(payload.toString()) as { ts?: unknown }).ts;
    } catch {
      return;
    }
    const t = this.timeliness;
    t.received++;
    const latency = typeof ts === 'number' ? now - ts : Infinity;
    t.maxLatencyMs = Math.max(t.maxLatencyMs, latency);
    const previous = this.lastArrival.get(topic);
    this.lastArrival.set(topic, now);
    const gapRatio = previous === undefined ? 0 : (now - previous) / interval;
    t.maxGapRatio = Math.max(t.maxGapRatio, gapRatio);
    if (latency > interval || gapRatio > 1.5) t.late++;
  }
}
