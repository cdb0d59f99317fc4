import type { Hal, Reading, SensorInfo } from '@growoff/hal';
import type { Feature, SensorSnapshot } from '../core-types';
import type { EventBus } from '../event-bus';
import type { StateStore } from './state-store';
import { raiseEvent } from './events';

export interface SamplerOptions {
  /** Overrides every sensor's own interval (tests, benches). */
  intervalMs?: number;
  /** A read slower than this is abandoned and recorded as a timeout. */
  readTimeoutMs?: number;
  /** The software calibration (offset and scale) applied to every good value. */
  adjust?: (sensorId: string, value: number) => number;
}

/**
 * One sampling loop per sensor, each at the sensor's own interval. A read never overlaps the
 * previous one of the same sensor; a hung read becomes a `timeout` sample instead of a silent gap.
 */
export class Sampler implements Feature {
  readonly name = 'sampler';
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** A HAL read abandoned by its timeout but still running: the sensor's next read waits for it. */
  private readonly inflight = new Map<string, Promise<Reading>>();
  private stopped = true;

  constructor(
    private readonly hal: Hal,
    private readonly store: StateStore,
    private readonly bus: EventBus,
    private readonly options: SamplerOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    for (const sensor of this.hal.sensors()) void this.loop(sensor);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async loop(sensor: SensorInfo): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    await this.sampleOnce(sensor);
    if (this.stopped) return;
    const interval = this.options.intervalMs ?? sensor.intervalMs;
    const wait = Math.max(0, interval - (Date.now() - started));
    const timer = setTimeout(() => void this.loop(sensor), wait);
    timer.unref();
    this.timers.set(sensor.id, timer);
  }

  /** Reads one sensor now and records the sample. */
  async sampleOnce(sensor: SensorInfo): Promise<SensorSnapshot> {
    const timeoutMs = this.options.readTimeoutMs ?? Math.max(2000, sensor.intervalMs * 2);
    const reading = await withTimeout(this.read(sensor.id), timeoutMs, sensor);
    const snapshot: SensorSnapshot = {
      id: sensor.id,
      value:
        reading.quality === 'ok' && reading.value !== null
          ? (this.options.adjust?.(sensor.id, reading.value) ?? reading.value)
          : null,
      unit: reading.unit,
      quality: reading.quality,
      ts: reading.ts,
      ...(reading.error === undefined ? {} : { error: reading.error }),
      ...(reading.compensation === undefined ? {} : { compensation: reading.compensation }),
    };
    const previous = this.store.reading(sensor.id);
    this.store.setReading(snapshot);
    this.bus.emit('reading', snapshot);
    this.qualityEvents(previous, snapshot);
    return snapshot;
  }

  /** One HAL read per sensor at a time: a read still running from before is awaited, not doubled. */
  private read(id: string): Promise<Reading> {
    const running = this.inflight.get(id);
    if (running) return running;
    const read = this.hal.read(id).finally(() => this.inflight.delete(id));
    this.inflight.set(id, read);
    return read;
  }

  private qualityEvents(previous: SensorSnapshot | undefined, now: SensorSnapshot): void {
    const wasOk = previous?.quality === 'ok';
    if (now.quality !== 'ok' && (previous === undefined || wasOk)) {
      raiseEvent(
        this.bus,
        'sensor.lost',
        'warning',
        `sensor ${now.id} is not delivering good readings (${now.quality})`,
        {
          sensor: now.id,
          quality: now.quality,
          error: now.error,
        },
      );
    } else if (now.quality === 'ok' && previous !== undefined && !wasOk) {
      raiseEvent(this.bus, 'sensor.restored', 'info', `sensor ${now.id} delivers good readings again`, {
        sensor: now.id,
      });
    }
  }
}

/** A sample that carries why there is no value: a failed read never becomes a number. */
function failedReading(sensor: SensorInfo, quality: 'timeout' | 'unavailable', error: string): Reading {
  return { sensorId: sensor.id, value: null, unit: sensor.unit, quality, ts: Date.now(), ageMs: 0, error };
}

/** The HAL's reading, or a failed one when it throws or gives no answer within `ms`; never rejects. */
function withTimeout(p: Promise<Reading>, ms: number, sensor: SensorInfo): Promise<Reading> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve(failedReading(sensor, 'timeout', `no answer within ${ms} ms`)),
      ms,
    );
    p.then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (e: unknown) => {
        clearTimeout(timer);
        resolve(failedReading(sensor, 'unavailable', (e as Error).message));
      },
    );
  });
}
