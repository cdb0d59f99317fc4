export type {
  Quality,
  Reading,
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
export { HalError, type HalErrorCode } from './errors';
export { DEFAULT_PROFILE } from './profile/default-profile';
export {
  parseProfile,
  DEVICE_TYPES,
  type HardwareProfile,
  type DeviceSpec,
  type DeviceType,
  type SensorSpec,
  type ActuatorSpec,
} from './profile/profile';
export type { I2cBus } from './bus/i2c-bus';
