import { parseProfile, type HardwareProfile } from './profile';

// Stuck detection only where noise guarantees movement; a DS18B20 in still water (1/16 °C steps) may read the same for long.
const TEN_MINUTES = 600_000;

/**
 * The GrowOff cabinet as built: everything on /dev/i2c-1 plus one DS18B20 in the reservoir.
 * water_level is the reservoir's float switch on the MCP23017: unit 'bool', 1 = water above the float,
 * wired fail-safe (active-low: the contact closes to ground with water above the float, so a cut
 * wire reads 0, low water).
 */
export const DEFAULT_PROFILE: HardwareProfile = parseProfile({
  name: 'growoff-cabinet-v1',
  i2cBus: 1,
  devices: [
    { name: 'sht3x', type: 'sht3x', address: 0x44 },
    { name: 'scd4x', type: 'scd4x', address: 0x62 },
    { name: 'ezo-ph', type: 'ezo-ph', address: 0x63 },
    { name: 'ezo-ec', type: 'ezo-ec', address: 0x64 },
    { name: 'bh1750', type: 'bh1750', address: 0x23 },
    { name: 'ds18b20', type: 'ds18b20', w1Id: '28-00000a1b2c3d' },
    { name: 'pca9685', type: 'pca9685', address: 0x40, frequencyHz: 1000 },
    { name: 'mcp23017', type: 'mcp23017', address: 0x20 },
  ],
  sensors: [
    {
      id: 'air_temperature',
      device: 'sht3x',
      channel: 'temperature',
      unit: '°C',
      intervalMs: 5000,
      min: -10,
      max: 60,
      stuckAfterMs: TEN_MINUTES,
    },
    {
      id: 'air_humidity',
      device: 'sht3x',
      channel: 'humidity',
      unit: '%',
      intervalMs: 5000,
      min: 0,
      max: 100,
      stuckAfterMs: TEN_MINUTES,
    },
    {
      id: 'co2',
      device: 'scd4x',
      channel: 'co2',
      unit: 'ppm',
      intervalMs: 5000,
      min: 0,
      max: 40000,
      stuckAfterMs: TEN_MINUTES,
    },
    {
      id: 'water_temperature',
      device: 'ds18b20',
      channel: 'temperature',
      unit: '°C',
      intervalMs: 10000,
      min: 0,
      max: 50,
    },
    {
      id: 'ph',
      device: 'ezo-ph',
      channel: 'ph',
      unit: 'pH',
      intervalMs: 10000,
      min: 0,
      max: 14,
      stuckAfterMs: TEN_MINUTES,
      compensateWith: 'water_temperature',
      compensationDefault: 20,
    },
    {
      id: 'ec',
      device: 'ezo-ec',
      channel: 'ec',
      unit: 'µS/cm',
      intervalMs: 10000,
      min: 0,
      max: 20000,
      stuckAfterMs: TEN_MINUTES,
      compensateWith: 'water_temperature',
      compensationDefault: 20,
    },
    {
      id: 'light_intensity',
      device: 'bh1750',
      channel: 'illuminance',
      unit: 'lx',
      intervalMs: 5000,
      min: 0,
      max: 65535,
    },
    {
      id: 'water_level',
      device: 'mcp23017',
      channel: 'gpb0',
      unit: 'bool',
      intervalMs: 2000,
      simulate: 'waterLevel',
      polarity: 'active-low',
    },
  ],
  actuators: [
    { id: 'light', kind: 'dimmer', device: 'pca9685', output: 'ch0' },
    { id: 'fan', kind: 'dimmer', device: 'pca9685', output: 'ch1' },
    { id: 'pump', kind: 'switch', device: 'mcp23017', output: 'gpa0' },
  ],
  roles: {
    pump: 'pump',
    light: 'light',
    fan: 'fan',
    waterLevels: [{ sensor: 'water_level', lowBelow: 0.5 }],
  },
});
