import { HalError } from '../errors';

export const DEVICE_TYPES = [
  'sht3x',
  'bme280',
  'scd4x',
  'ezo-ph',
  'ezo-ec',
  'ads1115',
  'bh1750',
  'ds18b20',
  'pca9685',
  'mcp23017',
] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export interface DeviceSpec {
  name: string;
  type: DeviceType;
  /** I2C address (every type but ds18b20). */
  address?: number;
  /** 1-Wire id such as 28-00000a1b2c3d (ds18b20). */
  w1Id?: string;
  /** PWM frequency (pca9685). */
  frequencyHz?: number;
}

export interface SensorSpec {
  id: string;
  device: string;
  /** The device's channel: e.g. temperature, humidity, co2, ph, ec, illuminance, ain0, gpb0. */
  channel: string;
  unit: string;
  intervalMs: number;
  min?: number;
  max?: number;
  /** A value unchanged this long is reported 'stale' (noisy analog quantities only). */
  stuckAfterMs?: number;
  /** A temperature sensor id whose last good value compensates this one (EZO pH/EC). */
  compensateWith?: string;
  /** Linear conversion of a raw channel (ads1115 volts): value = raw * scale + offset. */
  scale?: number;
  offset?: number;
  /** Simulation only: the cabinet quantity this channel sees (ads1115, mcp23017 inputs). */
  simulate?: string;
  /**
   * A digital input's wiring (mcp23017 pins, pulled up): `active-low` (the default) means the
   * contact closes to ground when active, so a cut wire reads inactive (fail-safe for a float
   * switch: open circuit = low water); `active-high` reads a cut wire as active.
   */
  polarity?: 'active-low' | 'active-high';
  /** °C sent as compensation when `compensateWith` has no fresh `ok` reading (EZO pH/EC). */
  compensationDefault?: number;
}

export interface ActuatorSpec {
  id: string;
  kind: 'switch' | 'dimmer';
  device: string;
  /** pca9685 ch0..ch15, mcp23017 gpa0..gpb7. */
  output: string;
  /** Simulation only: which cabinet input it drives (light, fan, pump); defaults to the id. */
  simulate?: 'light' | 'fan' | 'pump';
}

/** The reservoir level input the pump interlock watches, and the value below which it is low. */
export interface WaterLevelRole {
  sensor: string;
  /** Low water below this value, in the sensor's unit (bool: 0.5, %: 10 unless given; cm, V: required). */
  lowBelow: number;
}

/**
 * What each input and output is for: interlocks and control loops bind to roles, not ids.
 * A role left out of a profile binds to the actuator or sensor of the role's default id, if any.
 */
export interface ProfileRoles {
  pump?: string;
  light?: string;
  fan?: string;
  /** The reservoir level inputs: the pump runs only while every one of them says there is water. */
  waterLevels: WaterLevelRole[];
}

export interface HardwareProfile {
  name: string;
  i2cBus: number;
  devices: DeviceSpec[];
  sensors: SensorSpec[];
  actuators: ActuatorSpec[];
  roles: ProfileRoles;
}

/** The ids each role binds to when a profile does not say. */
export const DEFAULT_ROLE_IDS = {
  pump: 'pump',
  light: 'light',
  fan: 'fan',
  waterLevel: 'water_level',
} as const;

/** Default low-water thresholds for units where one is obvious; other units must give `lowBelow`. */
const DEFAULT_LOW_BELOW: Record<string, number> = { bool: 0.5, '%': 10 };

/** Valid addresses per device type, from each datasheet's address pins. */
const ADDRESSES: Record<Exclude<DeviceType, 'ds18b20'>, number[]> = {
  sht3x: [0x44, 0x45],
  bme280: [0x76, 0x77],
  scd4x: [0x62],
  'ezo-ph': range(0x01, 0x7f),
  'ezo-ec': range(0x01, 0x7f),
  ads1115: [0x48, 0x49, 0x4a, 0x4b],
  bh1750: [0x23, 0x5c],
  pca9685: range(0x40, 0x7f),
  mcp23017: range(0x20, 0x27),
};

const MCP_PINS = [...'ab'].flatMap((p) => Array.from({ length: 8 }, (_, i) => `gp${p}${i}`));

export const SENSOR_CHANNELS: Record<DeviceType, string[]> = {
  sht3x: ['temperature', 'humidity'],
  bme280: ['temperature', 'humidity', 'pressure'],
  scd4x: ['co2', 'temperature', 'humidity'],
  'ezo-ph': ['ph'],
  'ezo-ec': ['ec'],
  ads1115: ['ain0', 'ain1', 'ain2', 'ain3'],
  bh1750: ['illuminance'],
  ds18b20: ['temperature'],
  pca9685: [],
  mcp23017: MCP_PINS,
};

const OUTPUTS: Partial<Record<DeviceType, string[]>> = {
  pca9685: Array.from({ length: 16 }, (_, i) => `ch${i}`),
  mcp23017: MCP_PINS,
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function invalid(field: string, why: string): never {
  throw new HalError('HAL_PROFILE_INVALID', `hardware profile: ${field} ${why}`, { field });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ID = /^[a-z][a-z0-9_]*$/;

function str(o: Record<string, unknown>, key: string, path: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') invalid(`${path}.${key}`, 'must be a non-empty string');
  if (pattern && !pattern.test(v)) invalid(`${path}.${key}`, `must match ${pattern}`);
  return v;
}

function num(o: Record<string, unknown>, key: string, path: string, required: boolean): number | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) invalid(`${path}.${key}`, 'must be a finite number');
  return v;
}

function list(o: Record<string, unknown>, key: string, prefix = ''): Record<string, unknown>[] {
  const v = o[key];
  if (!Array.isArray(v)) invalid(`${prefix}${key}`, 'must be an array');
  return v.map((item, i) => (isObject(item) ? item : invalid(`${prefix}${key}[${i}]`, 'must be an object')));
}

/** Validates a profile; a wrong one is refused with a HAL_PROFILE_INVALID error naming the field. */
export function parseProfile(json: unknown): HardwareProfile {
  if (!isObject(json)) invalid('(root)', 'must be an object');
  const name = str(json, 'name', '(root)').trim();
  const i2cBus = num(json, 'i2cBus', '(root)', true)!;
  if (!Number.isInteger(i2cBus) || i2cBus < 0) invalid('i2cBus', 'must be a non-negative integer');

  const devices: DeviceSpec[] = [];
  const byName = new Map<string, DeviceSpec>();
  const taken = new Map<number, string>();
  list(json, 'devices').forEach((d, i) => {
    const path = `devices[${i}]`;
    const dname = str(d, 'name', path, /^[a-z][a-z0-9_-]*$/);
    if (byName.has(dname)) invalid(`${path}.name`, `"${dname}" is used twice`);
    const type = str(d, 'type', path) as DeviceType;
    if (!DEVICE_TYPES.includes(type)) invalid(`${path}.type`, `must be one of ${DEVICE_TYPES.join(', ')}`);
    const spec: DeviceSpec = { name: dname, type };
    if (type === 'ds18b20') {
      spec.w1Id = str(d, 'w1Id', path, /^28-[0-9a-f]{12}$/);
    } else {
      const address = num(d, 'address', path, true)!;
      if (!ADDRESSES[type].includes(address)) {
        invalid(`${path}.address`, `0x${address.toString(16)} is not a valid ${type} address`);
      }
      const other = taken.get(address);
      if (other) invalid(`${path}.address`, `0x${address.toString(16)} is already used by ${other}`);
      taken.set(address, dname);
      spec.address = address;
    }
    if (type === 'pca9685') {
      const hz = num(d, 'frequencyHz', path, false);
      if (hz !== undefined && (hz < 24 || hz > 1526))
        invalid(`${path}.frequencyHz`, 'must be within 24..1526 Hz');
      if (hz !== undefined) spec.frequencyHz = hz;
    }
    devices.push(spec);
    byName.set(dname, spec);
  });

  const ids = new Set<string>();
  const usedChannels = new Map<string, string>();
  const sensors: SensorSpec[] = list(json, 'sensors').map((s, i) => {
    const path = `sensors[${i}]`;
    const id = str(s, 'id', path, ID);
    if (ids.has(id)) invalid(`${path}.id`, `"${id}" is used twice`);
    ids.add(id);
    const device = str(s, 'device', path);
    const dev =
      byName.get(device) ?? invalid(`${path}.device`, `"${device}" is not a device of this profile`);
    const channel = str(s, 'channel', path);
    if (!SENSOR_CHANNELS[dev.type].includes(channel)) {
      invalid(
        `${path}.channel`,
        `must be one of ${SENSOR_CHANNELS[dev.type].join(', ') || '(none)'} for ${dev.type}`,
      );
    }
    usedChannels.set(`${device}/${channel}`, id);
    const spec: SensorSpec = {
      id,
      device,
      channel,
      unit: str(s, 'unit', path),
      intervalMs: num(s, 'intervalMs', path, true)!,
    };
    if (spec.intervalMs < 100) invalid(`${path}.intervalMs`, 'must be at least 100');
    for (const key of ['min', 'max', 'stuckAfterMs', 'scale', 'offset'] as const) {
      const v = num(s, key, path, false);
      if (v !== undefined) spec[key] = v;
    }
    if (spec.min !== undefined && spec.max !== undefined && spec.min >= spec.max)
      invalid(`${path}.min`, 'must be below max');
    if (s.compensateWith !== undefined) spec.compensateWith = str(s, 'compensateWith', path, ID);
    if (s.simulate !== undefined) spec.simulate = str(s, 'simulate', path);
    if (s.polarity !== undefined && dev.type !== 'mcp23017')
      invalid(`${path}.polarity`, 'applies to mcp23017 inputs only');
    if (dev.type === 'mcp23017') {
      const polarity = s.polarity ?? 'active-low';
      if (polarity !== 'active-low' && polarity !== 'active-high')
        invalid(`${path}.polarity`, 'must be active-low or active-high');
      spec.polarity = polarity;
    }
    const fallback = num(s, 'compensationDefault', path, false);
    if (fallback !== undefined) {
      if (spec.compensateWith === undefined) invalid(`${path}.compensationDefault`, 'needs compensateWith');
      if (fallback < 0 || fallback > 50) invalid(`${path}.compensationDefault`, 'must be within 0..50 °C');
      spec.compensationDefault = fallback;
    }
    return spec;
  });
  sensors.forEach((s, i) => {
    if (s.compensateWith !== undefined && !ids.has(s.compensateWith)) {
      invalid(`sensors[${i}].compensateWith`, `"${s.compensateWith}" is not a sensor of this profile`);
    }
  });

  const actuatorIds = new Set<string>();
  const actuators: ActuatorSpec[] = list(json, 'actuators').map((a, i) => {
    const path = `actuators[${i}]`;
    const id = str(a, 'id', path, ID);
    if (actuatorIds.has(id)) invalid(`${path}.id`, `"${id}" is used twice`);
    actuatorIds.add(id);
    const kind = str(a, 'kind', path);
    if (kind !== 'switch' && kind !== 'dimmer') invalid(`${path}.kind`, 'must be switch or dimmer');
    const device = str(a, 'device', path);
    const dev =
      byName.get(device) ?? invalid(`${path}.device`, `"${device}" is not a device of this profile`);
    const outputs = OUTPUTS[dev.type] ?? invalid(`${path}.device`, `${dev.type} has no outputs`);
    const output = str(a, 'output', path);
    if (!outputs.includes(output))
      invalid(`${path}.output`, `must be one of ${outputs[0]}..${outputs.at(-1)}`);
    if (kind === 'dimmer' && dev.type !== 'pca9685')
      invalid(`${path}.kind`, `a dimmer needs a pca9685, not ${dev.type}`);
    const shared = usedChannels.get(`${device}/${output}`);
    if (shared) invalid(`${path}.output`, `${output} is already read by sensor ${shared}`);
    usedChannels.set(`${device}/${output}`, id);
    const spec: ActuatorSpec = { id, kind, device, output };
    if (a.simulate !== undefined) {
      const sim = str(a, 'simulate', path);
      if (sim !== 'light' && sim !== 'fan' && sim !== 'pump')
        invalid(`${path}.simulate`, 'must be light, fan or pump');
      spec.simulate = sim;
    }
    return spec;
  });

  return { name, i2cBus, devices, sensors, actuators, roles: parseRoles(json.roles, sensors, actuators) };
}

function parseRoles(json: unknown, sensors: SensorSpec[], actuators: ActuatorSpec[]): ProfileRoles {
  if (json !== undefined && !isObject(json)) invalid('roles', 'must be an object');
  const given = json ?? {};
  const roles: ProfileRoles = { waterLevels: [] };
  for (const role of ['pump', 'light', 'fan'] as const) {
    if (given[role] === undefined) {
      if (actuators.some((a) => a.id === DEFAULT_ROLE_IDS[role])) roles[role] = DEFAULT_ROLE_IDS[role];
      continue;
    }
    const id = str(given, role, 'roles');
    if (!actuators.some((a) => a.id === id))
      invalid(`roles.${role}`, `"${id}" is not an actuator of this profile`);
    roles[role] = id;
  }
  const levels = given.waterLevels;
  if (levels === undefined) {
    // Left out: the default level sensor, if the profile has one.
    const sensor = sensors.find((s) => s.id === DEFAULT_ROLE_IDS.waterLevel);
    if (!sensor) return roles;
    const lowBelow = DEFAULT_LOW_BELOW[sensor.unit];
    if (lowBelow === undefined)
      invalid('roles.waterLevels', `must give lowBelow for ${sensor.id}, a level sensor in ${sensor.unit}`);
    roles.waterLevels = [{ sensor: sensor.id, lowBelow }];
    return roles;
  }
  roles.waterLevels = list(given, 'waterLevels', 'roles.').map((level, i) => {
    const path = `roles.waterLevels[${i}]`;
    const id = str(level, 'sensor', path);
    const sensor =
      sensors.find((s) => s.id === id) ??
      invalid(`${path}.sensor`, `"${id}" is not a sensor of this profile`);
    const lowBelow = num(level, 'lowBelow', path, false) ?? DEFAULT_LOW_BELOW[sensor.unit];
    if (lowBelow === undefined)
      invalid(`${path}.lowBelow`, `is required for a level sensor in ${sensor.unit}`);
    return { sensor: id, lowBelow };
  });
  return roles;
}
