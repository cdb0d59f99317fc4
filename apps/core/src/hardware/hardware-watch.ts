import type { DeviceProbe, Hal } from '@growoff/hal';
import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import { raiseEvent } from '../state/events';

interface GatedLoop {
  feature: Feature;
  devices: string[];
  running: boolean;
  /** Stopped with the core: a late retry must not start it again. */
  stopped: boolean;
}

export interface HardwareHealth {
  /** Devices that did not come up (a missing bus or chip), with why. */
  missing: { device: string; error: string }[];
  /** Control loops kept off because a device they drive is missing. */
  loopsOff: string[];
}

/**
 * Missing hardware must not keep the core from starting: the devices that do not come up are
 * named in health, the control loops that drive them stay off, and they are probed again in the
 * background; a loop starts once all of its devices are back.
 */
export class HardwareWatch implements Feature {
  readonly name = 'hardware';
  private readonly missing = new Map<string, string>();
  private readonly loops: GatedLoop[] = [];
  private timer?: NodeJS.Timeout;
  private retrying = false;
  private probing?: Promise<DeviceProbe[]>;

  constructor(
    private readonly hal: Hal,
    private readonly bus: EventBus,
    private readonly retryMs = 10_000,
  ) {}

  /**
   * Starts probing every device now; `start` takes this probe's result instead of probing then.
   * Bringing chips up takes time (an SCD4x needs 500 ms after being stopped) the core can spend
   * starting its other parts.
   */
  probeAhead(): void {
    this.probing ??= this.hal.probe();
    this.probing.catch(() => undefined); // `start` gets the error; a core that fails before it, not
  }

  async start(): Promise<void> {
    const probing = this.probing ?? this.hal.probe();
    this.probing = undefined;
    for (const p of await probing) if (!p.ok) this.missing.set(p.device, p.error ?? 'unavailable');
    if (this.missing.size > 0) {
      const { missing, loopsOff } = this.health();
      raiseEvent(
        this.bus,
        'hardware.missing',
        'critical',
        `running degraded: ${missing.map((m) => `${m.device} (${m.error})`).join('; ')}`,
        { missing, loopsOff },
      );
    }
    this.timer = setInterval(() => void this.retry(), this.retryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A control loop that runs only while the devices of its actuators (by id) are present. */
  gate(feature: Feature, actuatorIds: (string | undefined)[]): Feature {
    const devices = this.hal
      .actuators()
      .filter((a) => actuatorIds.includes(a.id))
      .map((a) => a.device);
    const loop: GatedLoop = { feature, devices, running: false, stopped: false };
    this.loops.push(loop);
    return {
      name: feature.name,
      start: () => this.startIfPresent(loop),
      stop: async () => {
        loop.stopped = true;
        if (!loop.running) return;
        loop.running = false;
        await feature.stop();
      },
    };
  }

  health(): HardwareHealth {
    return {
      missing: [...this.missing].map(([device, error]) => ({ device, error })),
      loopsOff: this.loops
        .filter((l) => l.devices.some((d) => this.missing.has(d)))
        .map((l) => l.feature.name),
    };
  }

  private async startIfPresent(loop: GatedLoop): Promise<void> {
    if (loop.running || loop.stopped || loop.devices.some((d) => this.missing.has(d))) return;
    loop.running = true;
    await loop.feature.start();
  }

  private async retry(): Promise<void> {
    if (this.retrying || this.missing.size === 0) return;
    this.retrying = true;
    try {
      for (const p of await this.hal.probe([...this.missing.keys()])) {
        if (!p.ok) {
          this.missing.set(p.device, p.error ?? 'unavailable');
          continue;
        }
        this.missing.delete(p.device);
        raiseEvent(this.bus, 'hardware.restored', 'info', `${p.device} is back`, { device: p.device });
      }
      for (const loop of this.loops) await this.startIfPresent(loop);
    } catch (e) {
      raiseEvent(this.bus, 'hardware.error', 'error', `hardware retry failed: ${(e as Error).message}`);
    } finally {
      this.retrying = false;
    }
  }
}
