export type {
  Quality,
  Reading,
  Compensation,
  DeviceProbe,
  SensorInfo,
  ActuatorInfo,
  ActuatorCommand,
  ActuatorState,
  HalOptions,
  Hal,
  HalHealth,
  BusHealth,
  DeviceHealth,
  DeviceState,
  SimulationControl,
  SimFault,
} from './types';
export { createHal } from './hal';
export type { CalibrationAction, CalibrationCommand, DeviceCalibration } from './drivers/probe-calibration';
export { HalError, type HalErrorCode } from './errors';
export { DEFAULT_PROFILE } from './profile/default-profile';
export {
  DEFAULT_SENSOR_IDS,
  DEFAULT_ACTUATOR_IDS,
  type DefaultSensorId,
  type DefaultActuatorId,
} from './defaults';
export {
  parseProfile,
  DEVICE_TYPES,
  type HardwareProfile,
  type DeviceSpec,
  type DeviceType,
  type SensorSpec,
  type ActuatorSpec,
  type ProfileRoles,
  type WaterLevelRole,
  DEFAULT_ROLE_IDS,
} from './profile/profile';
export type { I2cBus } from './bus/i2c-bus';

// Building blocks for tools, benchmarks and tests that drive devices below the HAL.
export { scaledClock, systemClock, withTimeout, type Clock } from './clock';
export { withBusErrors, openRealBus } from './bus/real-bus';
export { buildSimulation, SIM_FAULTS, type Simulation } from './sim/simulation';
export { seededRandom } from './sim/random';
export { SimulatedBus } from './sim/simulated-bus';
export { fsW1Bus, type W1Bus } from './w1/w1-bus';
export type { Driver, SensorDriver, OutputDriver } from './drivers/driver';
export { Sht3x } from './drivers/sht3x';
export { Bme280 } from './drivers/bme280';
export { Scd4x } from './drivers/scd4x';
export { Ezo } from './drivers/ezo';
export { Ads1115 } from './drivers/ads1115';
export { Bh1750 } from './drivers/bh1750';
export { Ds18b20 } from './drivers/ds18b20';
export { Pca9685 } from './drivers/pca9685';
export { Mcp23017 } from './drivers/mcp23017';
