import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceGuard, SupervisedBus, type GuardOptions } from './bus/bus-supervisor';
import type { I2cBus } from './bus/i2c-bus';
import { busPath, openRealBus, toBusError, withBusErrors } from './bus/real-bus';
import { scaledClock, systemClock, type Clock } from './clock';
import { Ads1115 } from './drivers/ads1115';
import { Bh1750 } from './drivers/bh1750';
import { Bme280 } from './drivers/bme280';
import type { Driver, OutputDriver, SensorDriver } from './drivers/driver';
import { isOutputDriver, isSensorDriver } from './drivers/driver';
import { Ds18b20 } from './drivers/ds18b20';
import { Ezo, EZO_DEFAULT_COMPENSATION_C } from './drivers/ezo';
import { Mcp23017 } from './drivers/mcp23017';
import { Pca9685 } from './drivers/pca9685';
import { Scd4x, SCD4X_MEASUREMENT_INTERVAL_MS } from './drivers/scd4x';
import { Sht3x } from './drivers/sht3x';
import { HalError, messageOf, qualityOf } from './errors';
import { DEFAULT_PROFILE } from './profile/default-profile';
import {
  parseProfile,
  type ActuatorSpec,
  type DeviceSpec,
  type HardwareProfile,
  type SensorSpec,
} from './profile/profile';
import { buildSimulation, type Simulation } from './sim/simulation';
import type {
  ActuatorCommand,
  ActuatorInfo,
  ActuatorState,
  Compensation,
  DeviceProbe,
  Hal,
  HalHealth,
  HalOptions,
  Quality,
  Reading,
  SensorInfo,
} from './types';
import { fsW1Bus, DEFAULT_W1_ROOT, type W1Bus } from './w1/w1-bus';
import {
  EZO_EC_ACTIONS,
  EZO_PH_ACTIONS,
  SCD4X_ACTIONS,
  type CalibrationAction,
} from './drivers/probe-calibration';

/** Longest one I2C transaction may hold the bus (clock ms). */
const TRANSACTION_TIMEOUT_MS = 250;
/** Largest difference (0..1) between a written output level and its read-back that still confirms it. */
const READBACK_TOLERANCE = 0.01;
/** Identical consecutive values needed (besides the profile's stuckAfterMs) to call a sensor stuck. */
const STUCK_MIN_REPEATS = 10;

interface SensorEntry {
  spec: SensorSpec;
  driver: SensorDriver;
  guard: DeviceGuard;
  /** The driver's read of this sensor's channel: the operation its guard runs, made once. */
  readChannel: () => Promise<number>;
  lastValue?: number;
  /** Clock time the value last changed, and how many reads since gave the same value (stuck check). */
  changedAt?: number;
  repeats: number;
  /** The last reading if it was good, for temperature compensation of other sensors. */
  lastGood?: Reading;
}

interface ActuatorEntry {
  spec: ActuatorSpec;
  driver: OutputDriver;
  guard: DeviceGuard;
}

function makeDriver(profile: HardwareProfile, d: DeviceSpec, bus: I2cBus, w1: W1Bus, clock: Clock): Driver {
  const address = d.address ?? 0;
  switch (d.type) {
    case 'sht3x':
      return new Sht3x(d.name, bus, address, clock);
    case 'bme280':
      return new Bme280(d.name, bus, address, clock);
    case 'ads1115':
      return new Ads1115(d.name, bus, address, clock);
    case 'scd4x':
      return new Scd4x(d.name, bus, address, clock);
    case 'ezo-ph':
      return new Ezo(d.name, 'ph', bus, address, clock);
    case 'ezo-ec':
      return new Ezo(d.name, 'ec', bus, address, clock);
    case 'bh1750':
      return new Bh1750(d.name, bus, address, clock);
    case 'ds18b20':
      return new Ds18b20(d.name, w1, d.w1Id!);
    case 'pca9685':
      return new Pca9685(d.name, bus, address, clock, d.frequencyHz);
    case 'mcp23017': {
      const outputs = profile.actuators.filter((a) => a.device === d.name).map((a) => a.output);
      const activeLow = profile.sensors
        .filter((s) => s.device === d.name && s.polarity === 'active-low')
        .map((s) => s.channel);
      return new Mcp23017(d.name, bus, address, outputs, activeLow);
    }
  }
}

/** Per device type: a measurement can take longer than the default operation timeout. */
function guardOptions(d: DeviceSpec): Partial<GuardOptions> {
  // SCD4x: stop (500 ms) plus up to two 5 s measurement periods after (re)start.
  return d.type === 'scd4x' ? { operationTimeoutMs: 3 * SCD4X_MEASUREMENT_INTERVAL_MS } : {};
}

/** A bus whose every transaction fails with the error that kept it from opening. */
function unopenedBus(error: HalError): I2cBus {
  const fail = () => Promise.reject(error);
  return {
    i2cRead: fail,
    i2cWrite: fail,
    readByte: fail,
    writeByte: fail,
    readWord: fail,
    writeWord: fail,
    readI2cBlock: fail,
    writeI2cBlock: fail,
    sendByte: fail,
    receiveByte: fail,
    scan: fail,
    close: () => Promise.resolve(),
  };
}

/**
 * The reading that ends a read of `entry`, as one object literal of a fixed shape (sensorId, unit,
 * compensation?, value, quality, ts, ageMs, error?): spreading a shared base into each reading cost
 * more than the bus transaction. It becomes the sensor's last good reading if it is `ok`.
 */
function readingOf(
  entry: SensorEntry,
  compensation: Compensation | undefined,
  value: number | null,
  quality: Quality,
  ts: number,
  ageMs: number,
  error?: string,
): Reading {
  const { id: sensorId, unit } = entry.spec;
  const reading: Reading =
    compensation === undefined
      ? { sensorId, unit, value, quality, ts, ageMs }
      : { sensorId, unit, compensation, value, quality, ts, ageMs };
  if (error !== undefined) reading.error = error;
  // Only the latest reading counts as good: a failure after it retires it (e.g. for compensation).
  entry.lastGood = quality === 'ok' ? reading : undefined;
  return reading;
}

/**
 * Opens the hardware of a profile. Never throws for missing or faulty hardware: a missing
 * /dev/i2c-N shows as 'unavailable' readings whose error names the bus.
 */
export async function createHal(o: HalOptions): Promise<Hal> {
  const profile = o.profile ? parseProfile(o.profile) : DEFAULT_PROFILE;
  const busNumber = o.busNumber ?? profile.i2cBus;
  const clock = o.mode === 'sim' ? scaledClock(o.timeScale ?? 1) : systemClock;

  let rawBus: I2cBus;
  let w1: W1Bus;
  let sim: Simulation | undefined;
  let tempRoot: string | undefined;
  if (o.mode === 'sim') {
    const root = o.w1Root ?? (tempRoot = await mkdtemp(join(tmpdir(), 'growoff-hal-w1-')));
    sim = await buildSimulation(profile, clock, root, o.seed ?? 1);
    rawBus = withBusErrors(sim.bus, busNumber);
    w1 = sim.w1.bus();
  } else {
    try {
      rawBus = await openRealBus(busNumber);
    } catch (e) {
      rawBus = unopenedBus(toBusError(e, busNumber));
    }
    w1 = fsW1Bus(o.w1Root ?? DEFAULT_W1_ROOT);
  }
  const supervised = new SupervisedBus(rawBus, busPath(busNumber), clock, {
    transactionTimeoutMs: TRANSACTION_TIMEOUT_MS,
  });

  const guards = new Map<string, DeviceGuard>();
  const drivers = new Map<string, Driver>();
  for (const d of profile.devices) {
    const driver = makeDriver(profile, d, supervised.forDevice(d.name), w1, clock);
    drivers.set(d.name, driver);
    guards.set(d.name, new DeviceGuard(d.name, clock, driver, guardOptions(d)));
  }

  const sensors = new Map<string, SensorEntry>();
  for (const spec of profile.sensors) {
    const driver = drivers.get(spec.device)!;
    if (!isSensorDriver(driver))
      throw new HalError('HAL_PROFILE_INVALID', `hardware profile: ${spec.device} reads nothing`);
    sensors.set(spec.id, {
      spec,
      driver,
      guard: guards.get(spec.device)!,
      readChannel: () => driver.read(spec.channel),
      repeats: 0,
    });
  }
  const actuators = new Map<string, ActuatorEntry>();
  for (const spec of profile.actuators) {
    const driver = drivers.get(spec.device)!;
    if (!isOutputDriver(driver))
      throw new HalError('HAL_PROFILE_INVALID', `hardware profile: ${spec.device} drives nothing`);
    actuators.set(spec.id, { spec, driver, guard: guards.get(spec.device)! });
  }

  let closed = false;
  const toRealMs = (clockMs: number) => Math.round(clockMs * clock.realPerClockMs);

  /**
   * Sends the circuit the temperature to compensate with: a fresh `ok` reading of its source, else
   * the profile's default (never a failed or implausible value); says which one the reading used.
   * Synchronous in the usual case (a fresh source the circuit already has): no promise for it.
   */
  function compensate(entry: SensorEntry): Compensation | undefined | Promise<Compensation | undefined> {
    const source = entry.spec.compensateWith;
    const ezo = entry.driver;
    if (!source || !(ezo instanceof Ezo)) return undefined;
    const ref = sensors.get(source)!;
    // A compensation value older than two of its intervals is refreshed first.
    const fresh = ref.lastGood && Date.now() - ref.lastGood.ts <= 2 * ref.spec.intervalMs;
    return fresh
      ? compensateWith(entry, ezo, ref.lastGood!)
      : read(source).then((r) => compensateWith(entry, ezo, r));
  }

  function compensateWith(
    entry: SensorEntry,
    ezo: Ezo,
    reading: Reading,
  ): Compensation | Promise<Compensation | undefined> {
    const measured = reading.quality === 'ok' && reading.value !== null;
    const celsius = measured
      ? reading.value!
      : (entry.spec.compensationDefault ?? EZO_DEFAULT_COMPENSATION_C);
    const compensation: Compensation = {
      celsius: Number(celsius.toFixed(1)),
      source: measured ? 'measured' : 'default',
    };
    const current = ezo.compensationTemperature();
    const told = current !== undefined && !(Math.abs(current - celsius) >= 0.1);
    if (told) return compensation;
    return entry.guard
      .run(() => ezo.setTemperature(celsius))
      .then(
        () => compensation,
        // The circuit keeps what it had (its factory 25 °C if never set): say so.
        (): Compensation => ({
          celsius: ezo.compensationTemperature() ?? EZO_DEFAULT_COMPENSATION_C,
          source: 'previous',
        }),
      );
  }

  function read(sensorId: string): Promise<Reading> {
    if (closed) return Promise.reject(new HalError('HAL_CLOSED', 'the HAL is closed'));
    const entry = sensors.get(sensorId);
    if (!entry)
      return Promise.reject(
        new HalError('HAL_UNKNOWN_SENSOR', `no sensor ${sensorId} in profile ${profile.name}`),
      );
    return measure(entry);
  }

  async function measure(entry: SensorEntry): Promise<Reading> {
    const sensorId = entry.spec.id;
    const { spec } = entry;
    let compensation: Compensation | undefined;
    try {
      if (spec.compensateWith) {
        const pending = compensate(entry);
        compensation = pending instanceof Promise ? await pending : pending;
      }
      let value = await entry.guard.run(entry.readChannel);
      const ageMs = entry.driver instanceof Scd4x ? toRealMs(entry.driver.ageMs()) : 0;
      if (spec.scale !== undefined || spec.offset !== undefined)
        value = value * (spec.scale ?? 1) + (spec.offset ?? 0);
      const ts = Date.now() - ageMs;
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        return readingOf(
          entry,
          compensation,
          null,
          'range',
          ts,
          ageMs,
          `${sensorId}: ${value} ${spec.unit} is outside ${spec.min ?? '-∞'}..${spec.max ?? '∞'}`,
        );
      }
      const now = clock.now();
      if (entry.lastValue !== value || entry.changedAt === undefined) {
        entry.lastValue = value;
        entry.changedAt = now;
        entry.repeats = 0;
      } else {
        entry.repeats++;
      }
      const unchangedMs = now - entry.changedAt;
      // Both a long time and many reads: a few sparse reads hitting the same quantised value is no fault.
      if (
        spec.stuckAfterMs !== undefined &&
        unchangedMs >= spec.stuckAfterMs &&
        entry.repeats >= STUCK_MIN_REPEATS
      ) {
        // The device answers, but the value has not moved: report it with its true age.
        const age = toRealMs(unchangedMs);
        return readingOf(
          entry,
          compensation,
          value,
          'stale',
          Date.now() - age,
          age,
          `${sensorId}: value unchanged for ${Math.round(unchangedMs / 1000)} s (stuck sensor?)`,
        );
      }
      return readingOf(entry, compensation, value, 'ok', ts, ageMs);
    } catch (e) {
      return readingOf(entry, compensation, null, qualityOf(e), Date.now(), 0, messageOf(e));
    }
  }

  function calibrationActions(entry: SensorEntry): readonly CalibrationAction[] {
    if (entry.driver instanceof Ezo) return entry.driver.kind === 'ph' ? EZO_PH_ACTIONS : EZO_EC_ACTIONS;
    if (entry.driver instanceof Scd4x && entry.spec.channel === 'co2') return SCD4X_ACTIONS;
    return [];
  }

  /** The sensor's calibratable driver, or HAL_BAD_COMMAND naming what it does not take. */
  function calibratable(sensorId: string): { entry: SensorEntry; driver: Ezo | Scd4x } {
    if (closed) throw new HalError('HAL_CLOSED', 'the HAL is closed');
    const entry = sensors.get(sensorId);
    if (!entry) throw new HalError('HAL_UNKNOWN_SENSOR', `no sensor ${sensorId} in profile ${profile.name}`);
    if (
      calibrationActions(entry).length === 0 ||
      !(entry.driver instanceof Ezo || entry.driver instanceof Scd4x)
    )
      throw new HalError('HAL_BAD_COMMAND', `${sensorId} (${entry.spec.device}) takes no device calibration`);
    return { entry, driver: entry.driver };
  }

  function actuator(id: string): ActuatorEntry {
    if (closed) throw new HalError('HAL_CLOSED', 'the HAL is closed');
    const entry = actuators.get(id);
    if (!entry) throw new HalError('HAL_UNKNOWN_ACTUATOR', `no actuator ${id} in profile ${profile.name}`);
    return entry;
  }

  function stateOf(entry: ActuatorEntry, level: number): ActuatorState {
    return entry.spec.kind === 'switch'
      ? { state: level >= 0.5 ? 'on' : 'off' }
      : { level: Math.round(level * 100) };
  }

  function levelOf(entry: ActuatorEntry, cmd: ActuatorCommand): number {
    if ('state' in cmd) {
      if (cmd.state !== 'on' && cmd.state !== 'off') {
        throw new HalError('HAL_BAD_COMMAND', `${entry.spec.id}: state must be on or off`);
      }
      return cmd.state === 'on' ? 1 : 0;
    }
    if (entry.spec.kind === 'switch') {
      throw new HalError('HAL_BAD_COMMAND', `${entry.spec.id} is a switch: send {state: 'on'|'off'}`);
    }
    if (typeof cmd.level !== 'number' || !Number.isFinite(cmd.level) || cmd.level < 0 || cmd.level > 100) {
      throw new HalError('HAL_BAD_COMMAND', `${entry.spec.id}: level must be a number within 0..100`);
    }
    return cmd.level / 100;
  }

  const hal: Hal = {
    sensors(): SensorInfo[] {
      return profile.sensors.map((s) => ({
        id: s.id,
        unit: s.unit,
        intervalMs: s.intervalMs,
        device: s.device,
        ...(s.min !== undefined ? { min: s.min } : {}),
        ...(s.max !== undefined ? { max: s.max } : {}),
        ...(calibrationActions(sensors.get(s.id)!).length > 0
          ? { calibration: calibrationActions(sensors.get(s.id)!) }
          : {}),
      }));
    },
    actuators(): ActuatorInfo[] {
      return profile.actuators.map((a) => ({ id: a.id, kind: a.kind, device: a.device }));
    },
    roles: () => structuredClone(profile.roles),
    async probe(names = [...guards.keys()]): Promise<DeviceProbe[]> {
      if (closed) throw new HalError('HAL_CLOSED', 'the HAL is closed');
      return Promise.all(
        names.map(async (device) => {
          const guard = guards.get(device);
          if (!guard) return { device, ok: false, error: `no device ${device} in profile ${profile.name}` };
          try {
            await guard.run(() => Promise.resolve());
            return { device, ok: true };
          } catch (e) {
            return { device, ok: false, error: messageOf(e) };
          }
        }),
      );
    },
    read,
    async setActuator(id, cmd) {
      const entry = actuator(id);
      const level = levelOf(entry, cmd);
      // A command goes ahead of queued sensor reads on the bus (see SupervisedBus).
      return supervised.urgent(entry.spec.device, () =>
        entry.guard.run(async () => {
          await entry.driver.write(entry.spec.output, level);
          const readBack = await entry.driver.readBack(entry.spec.output);
          // A chip that lost its configuration (a brown-out) takes the write but does not drive it:
          // failing here makes the device guard re-initialise the chip before its next operation.
          if (Math.abs(readBack - level) > READBACK_TOLERANCE) {
            throw new HalError(
              'HAL_DEVICE_ERROR',
              `${id}: ${entry.spec.device} reads back ${readBack} after writing ${level}`,
              { actuator: id, written: level, readBack },
            );
          }
          return stateOf(entry, readBack);
        }),
      );
    },
    async actuatorState(id) {
      const entry = actuator(id);
      const level = await supervised.urgent(entry.spec.device, () =>
        entry.guard.run(() => entry.driver.readBack(entry.spec.output)),
      );
      return stateOf(entry, level);
    },
    async calibrate(sensorId, cmd) {
      const { entry, driver } = calibratable(sensorId);
      if (!calibrationActions(entry).includes(cmd.action))
        throw new HalError('HAL_BAD_COMMAND', `${sensorId} takes no "${cmd.action}" calibration`, {
          actions: calibrationActions(entry),
        });
      const result = await entry.guard.run(() => driver.calibrate(cmd));
      // A new calibration changes the value: the stuck check starts over.
      entry.changedAt = undefined;
      return result;
    },
    async deviceCalibration(sensorId) {
      const { entry, driver } = calibratable(sensorId);
      if (!(driver instanceof Ezo))
        throw new HalError('HAL_BAD_COMMAND', `${sensorId} does not report its calibration`);
      return entry.guard.run(() => driver.calibration());
    },
    health(): HalHealth {
      const devices: HalHealth['devices'] = {};
      for (const [name, guard] of guards) devices[name] = guard.health();
      return { mode: o.mode, buses: { [`i2c-${busNumber}`]: supervised.health() }, devices };
    },
    async close() {
      if (closed) return;
      closed = true;
      await supervised.bus.close().catch(() => undefined);
      // A simulated 1-Wire read still in flight may write into the tree while it goes: retry (ENOTEMPTY).
      if (tempRoot) await rm(tempRoot, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
  if (sim) hal.simulation = sim.control;
  return hal;
}
