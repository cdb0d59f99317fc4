import { ProtocolError, type CalibrationRequest, type CalibrationStatus } from '@growoff/protocol';
import { HalError, type CalibrationAction, type Hal } from '@growoff/hal';
import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import { raiseEvent } from '../state/events';
import { CalibrationStore, UNCALIBRATED, type SensorCalibration } from './calibration-store';

const DAY_MS = 86_400_000;
/** How often the reminder looks for probes that came due. */
const DUE_CHECK_MS = 3_600_000;

/** Which earlier points a step replaces (pH datasheet: mid clears low and high; EC: dry starts over). */
const REPLACES: Record<CalibrationAction, readonly string[] | 'all'> = {
  mid: 'all',
  dry: 'all',
  forced: 'all',
  clear: 'all',
  single: ['single', 'low', 'high'],
  low: ['single', 'low', 'high'],
  high: ['high'],
};

/**
 * Sensor calibration: device steps (EZO pH/EC points, SCD4x forced recalibration) through the HAL,
 * and a software offset and scale for any sensor, applied to every reading. Dates are kept in the
 * data dir; a sensor whose interval (module config) has passed since its last calibration is due.
 */
export class CalibrationService implements Feature {
  readonly name = 'calibration';
  private records: Record<string, SensorCalibration> = {};
  private readonly announced = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private off?: () => void;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly hal: Hal,
    private readonly store: CalibrationStore,
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    const { records, corrupt } = await this.store.load();
    this.records = records;
    if (corrupt)
      raiseEvent(
        this.bus,
        'calibration.store_corrupt',
        'warning',
        `unreadable calibration file set aside as ${corrupt}`,
        {
          file: corrupt,
        },
      );
    this.checkDue();
    this.off = this.bus.on('config', () => this.checkDue());
    this.timer = setInterval(() => this.checkDue(), DUE_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.off?.();
    clearInterval(this.timer);
  }

  /** A reading's value with the sensor's software offset and scale applied. */
  adjust(sensor: string, value: number): number {
    const r = this.records[sensor];
    return r ? value * r.scale + r.offset : value;
  }

  async status(sensor: string): Promise<CalibrationStatus> {
    const info = this.sensorInfo(sensor);
    let devicePoints: number | null | undefined;
    if (info.calibration?.includes('clear')) {
      devicePoints = await this.hal.deviceCalibration(sensor).then(
        (d) => d.points,
        () => null,
      );
    }
    return { ...this.statusOf(sensor), ...(devicePoints === undefined ? {} : { devicePoints }) };
  }

  /** One step; changes are serialised so two clients cannot interleave a probe's points. */
  calibrate(sensor: string, req: CalibrationRequest, source: string): Promise<CalibrationStatus> {
    const run = this.chain.then(() => this.step(sensor, req, source));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Raises `calibration.due` once for each sensor that has come due since it was last calibrated. */
  checkDue(): void {
    for (const sensor of Object.keys(this.records)) {
      const s = this.statusOf(sensor);
      if (!s.due) {
        this.announced.delete(sensor);
      } else if (!this.announced.has(sensor)) {
        this.announced.add(sensor);
        raiseEvent(this.bus, 'calibration.due', 'warning', `${sensor} is due for calibration`, {
          sensor,
          calibratedAt: s.calibratedAt,
          dueAt: s.dueAt,
        });
      }
    }
  }

  private sensorInfo(sensor: string) {
    const info = this.hal.sensors().find((s) => s.id === sensor);
    if (!info)
      throw new ProtocolError('UNKNOWN_SENSOR', `no sensor "${sensor}"`, {
        sensors: this.hal.sensors().map((s) => s.id),
      });
    return info;
  }

  private statusOf(sensor: string): CalibrationStatus {
    const r = this.records[sensor] ?? UNCALIBRATED;
    const days = this.config.get().calibration?.intervalDays[sensor];
    const dueAt =
      r.calibratedAt !== null && days !== undefined ? r.calibratedAt + Math.round(days * DAY_MS) : null;
    const info = this.hal.sensors().find((s) => s.id === sensor);
    const actions: string[] = [...(info?.calibration ?? [])];
    if (info?.unit !== 'bool') actions.push('offset');
    if (!actions.includes('clear')) actions.push('clear');
    return {
      sensor,
      points: r.points.map((p) => ({ ...p })),
      calibratedAt: r.calibratedAt,
      dueAt,
      due: dueAt !== null && this.now() >= dueAt,
      offset: r.offset,
      scale: r.scale,
      actions,
    };
  }

  private async step(sensor: string, req: CalibrationRequest, source: string): Promise<CalibrationStatus> {
    const info = this.sensorInfo(sensor);
    const deviceActions = info.calibration ?? [];
    const current = this.records[sensor] ?? UNCALIBRATED;
    const at = this.now();
    let next: SensorCalibration;
    if (req.action === 'offset') {
      // A digital input has nothing to calibrate, and an offset could hide low water from the pump interlock.
      if (info.unit === 'bool')
        throw new ProtocolError(
          'INVALID_MESSAGE',
          `${sensor} is a digital input: it takes no offset or scale`,
        );
      if (req.value === undefined && req.scale === undefined)
        throw new ProtocolError('INVALID_MESSAGE', 'offset needs a value (the offset), a scale, or both');
      next = {
        ...current,
        offset: req.value ?? current.offset,
        scale: req.scale ?? current.scale,
        calibratedAt: at,
      };
    } else if (req.action === 'clear') {
      if (deviceActions.includes('clear')) await this.onDevice(sensor, req);
      next = { ...UNCALIBRATED };
    } else {
      if (!deviceActions.includes(req.action))
        throw new ProtocolError('INVALID_MESSAGE', `${sensor} takes no "${req.action}" calibration`, {
          actions: this.statusOf(sensor).actions,
        });
      await this.onDevice(sensor, req);
      const replaces = REPLACES[req.action];
      const kept = replaces === 'all' ? [] : current.points.filter((p) => !replaces.includes(p.action));
      const point =
        req.value === undefined ? { action: req.action, at } : { action: req.action, value: req.value, at };
      next = { ...current, points: [...kept, point], calibratedAt: at };
    }
    const records = { ...this.records };
    if (next.calibratedAt === null && next.offset === 0 && next.scale === 1) delete records[sensor];
    else records[sensor] = next;
    await this.store.save(records);
    this.records = records;
    this.announced.delete(sensor);
    raiseEvent(this.bus, 'calibration.changed', 'info', `${sensor}: calibration ${req.action} (${source})`, {
      sensor,
      ...req,
      source,
    });
    return this.status(sensor);
  }

  private async onDevice(sensor: string, req: CalibrationRequest): Promise<void> {
    try {
      await this.hal.calibrate(sensor, {
        action: req.action as CalibrationAction,
        ...(req.value === undefined ? {} : { value: req.value }),
      });
    } catch (e) {
      if (e instanceof HalError && e.code === 'HAL_BAD_COMMAND')
        throw new ProtocolError('INVALID_MESSAGE', e.message, e.details);
      if (e instanceof HalError && e.code === 'HAL_UNKNOWN_SENSOR')
        throw new ProtocolError('UNKNOWN_SENSOR', e.message);
      throw new ProtocolError(
        'UNAVAILABLE',
        `${sensor}: the device did not take the calibration (${(e as Error).message})`,
        {
          halCode: e instanceof HalError ? e.code : undefined,
        },
      );
    }
  }
}
