import type { Telemetry } from '@growoff/telemetry';
import type { Feature } from './core-types';
import type { EventBus } from './event-bus';

/** Sends every sample and every event to telemetry (Telegraf / InfluxDB, durable on disk). */
export class TelemetryBridge implements Feature {
  readonly name = 'telemetry';
  private offs: (() => void)[] = [];

  constructor(
    private readonly telemetry: Telemetry,
    private readonly bus: EventBus,
  ) {}

  start(): void {
    this.offs.push(
      this.bus.on('reading', (r) =>
        this.telemetry.metric({ sensor: r.id, unit: r.unit, value: r.value, quality: r.quality, ts: r.ts }),
      ),
      this.bus.on('event', (e) =>
        this.telemetry.event({
          type: e.type,
          severity: e.severity,
          message: e.message,
          data: e.data,
          ts: e.ts,
        }),
      ),
    );
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }
}
