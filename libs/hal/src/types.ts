import type { HardwareProfile, ProfileRoles } from './profile/profile';
import type { CalibrationAction, CalibrationCommand, DeviceCalibration } from './drivers/probe-calibration';

export type Quality = 'ok' | 'stale' | 'crc' | 'range' | 'timeout' | 'unavailable';

export interface Reading {
  sensorId: string;
  /** null whenever the read failed: a failed read never becomes a number. */
  value: number | null;
  unit: string;
  quality: Quality;
  /** Wall-clock time (ms) the value was measured, or of the failed attempt. */
  ts: number;
  /** How old the value is (ms): 0 for a fresh measurement, larger for a stale one. */
  ageMs: number;
  error?: string;
  /** The temperature a compensated reading (EZO pH/EC) used, and where it came from. */
  compensation?: Compensation;
}

/**
 * `measured`: a fresh `ok` reading of the profile's `compensateWith` sensor; `default`: that
 * sensor had none, so the profile's `compensationDefault`; `previous`: setting it failed, so
 * whatever the circuit kept. Anything but `measured` makes the value less exact.
 */
export interface Compensation {
  celsius: number;
  source: 'measured' | 'default' | 'previous';
}

/** One device's bring-up: ok, or why it is unavailable (e.g. a missing bus or chip). */
export interface DeviceProbe {
  device: string;
  ok: boolean;
  error?: string;
}

export interface SensorInfo {
  id: string;
  unit: string;
  intervalMs: number;
  device: string;
  min?: number;
  max?: number;
  /** The calibration steps the sensor's device takes (EZO probes, SCD4x); absent when it takes none. */
  calibration?: readonly CalibrationAction[];
}

export interface ActuatorInfo {
  id: string;
  kind: 'switch' | 'dimmer';
  device: string;
}

export type ActuatorCommand = { state: 'on' | 'off' } | { level: number };
export type ActuatorState = { state: 'on' | 'off' } | { level: number };

export interface HalOptions {
  mode: 'sim' | 'i2c';
  profile?: HardwareProfile;
  /** Overrides the profile's bus number (/dev/i2c-N). */
  busNumber?: number;
  /** Root of the 1-Wire sysfs tree (default /sys/bus/w1; a temp folder in sim mode). */
  w1Root?: string;
  /** Seed of the simulation's noise, for repeatable runs. */
  seed?: number;
  /** Simulated seconds per real second (sim mode; default 1). Conversion delays shrink with it. */
  timeScale?: number;
}

export type DeviceState = 'ok' | 'degraded' | 'open';

export interface DeviceHealth {
  state: DeviceState;
  errors: number;
  retries: number;
  recoveries: number;
  timeouts: number;
  lastError?: string;
}

export interface BusHealth {
  path: string;
  transactions: number;
  errors: number;
  timeouts: number;
  lastError?: string;
}

export interface HalHealth {
  mode: 'sim' | 'i2c';
  buses: Record<string, BusHealth>;
  devices: Record<string, DeviceHealth>;
}

export type SimFault =
  | 'nack'
  | 'crc'
  | 'stuck'
  | 'slow'
  | 'busy'
  | 'unplugged'
  | 'power-on-85'
  | 'empty-read'
  /** One-shot: the chip's registers return to their power-on values (PCA9685, MCP23017). */
  | 'brownout'
  /** Writes land, but the reads that confirm an output fail (PCA9685, MCP23017). */
  | 'readback-fail'
  | 'zero-read'
  | 'open-circuit';

export interface SimulationControl {
  environment(): Record<string, number>;
  setEnvironment(patch: Record<string, number>): void;
  /**
   * target: a sensor id, an actuator id or a device name of the profile. 'open-circuit' cuts one
   * digital input's wire, so its target is that input's sensor id (e.g. water_level).
   */
  injectFault(target: string, fault: SimFault): void;
  clearFaults(target?: string): void;
  /** Each actuator's output as the simulated chip's registers drive it right now (0..1). */
  outputs(): Record<string, number>;
}

export interface Hal {
  sensors(): SensorInfo[];
  actuators(): ActuatorInfo[];
  /** What each actuator and sensor is for (pump, light, fan, water level): interlocks bind to these. */
  roles(): ProfileRoles;
  /**
   * Brings up the named devices (default all) through their supervisors and says which are
   * unavailable. Never throws for device faults; a device whose circuit is open is retried only
   * once its open period is over.
   */
  probe(devices?: string[]): Promise<DeviceProbe[]>;
  /** Never throws for device faults: the reading's quality says what went wrong. */
  read(sensorId: string): Promise<Reading>;
  /** Returns the state read back from the device's registers. */
  setActuator(id: string, cmd: ActuatorCommand): Promise<ActuatorState>;
  actuatorState(id: string): Promise<ActuatorState>;
  /** One calibration step on the sensor's device; HAL_BAD_COMMAND for a step it does not take. */
  calibrate(sensorId: string, cmd: CalibrationCommand): Promise<DeviceCalibration>;
  /** The device's own account of its calibration (EZO "Cal,?"); HAL_BAD_COMMAND if it keeps none. */
  deviceCalibration(sensorId: string): Promise<DeviceCalibration>;
  health(): HalHealth;
  simulation?: SimulationControl;
  close(): Promise<void>;
}
