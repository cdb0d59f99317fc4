import { CodedError, describeError, ERROR_REGISTRY } from '@growoff/protocol';
import type { Quality } from './types';

export type HalErrorCode =
  | 'HAL_I2C_BUS_MISSING'
  | 'HAL_I2C_NACK'
  | 'HAL_I2C_IO'
  | 'HAL_TIMEOUT'
  | 'HAL_CRC'
  | 'HAL_RANGE'
  | 'HAL_DEVICE_BUSY'
  | 'HAL_DEVICE_ERROR'
  | 'HAL_CIRCUIT_OPEN'
  | 'HAL_W1_MISSING'
  | 'HAL_W1_EMPTY'
  | 'HAL_PROFILE_INVALID'
  | 'HAL_UNKNOWN_SENSOR'
  | 'HAL_UNKNOWN_ACTUATOR'
  | 'HAL_BAD_COMMAND'
  | 'HAL_CLOSED';

export class HalError extends CodedError<HalErrorCode> {
  override readonly name = 'HalError';
  declare readonly details?: Record<string, unknown>;
}

export function isHalError(e: unknown): e is HalError {
  return e instanceof HalError;
}

/** Faults worth another attempt, retryable in the error registry: the next transaction may well succeed. */
export function isTransient(e: unknown): boolean {
  return isHalError(e) && ERROR_REGISTRY[e.code].retryable;
}

/** Faults about the value or the request, not the device: they neither retry nor trip the breaker. */
export function isValueFault(e: unknown): boolean {
  return isHalError(e) && (e.code === 'HAL_RANGE' || e.code === 'HAL_BAD_COMMAND');
}

export function qualityOf(e: unknown): Quality {
  if (!isHalError(e)) return 'unavailable';
  switch (e.code) {
    case 'HAL_CRC':
      return 'crc';
    case 'HAL_RANGE':
      return 'range';
    case 'HAL_TIMEOUT':
    case 'HAL_DEVICE_BUSY':
      return 'timeout';
    default:
      return 'unavailable';
  }
}

export function messageOf(e: unknown): string {
  return describeError(e).message;
}
