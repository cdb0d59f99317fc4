import { CodedError, ERROR_REGISTRY } from '@growoff/protocol';
import { describe, expect, it } from 'vitest';
import { HalError, isTransient, isValueFault, type HalErrorCode } from './errors';

const CODES: HalErrorCode[] = [
  'HAL_I2C_BUS_MISSING',
  'HAL_I2C_NACK',
  'HAL_I2C_IO',
  'HAL_TIMEOUT',
  'HAL_CRC',
  'HAL_RANGE',
  'HAL_DEVICE_BUSY',
  'HAL_DEVICE_ERROR',
  'HAL_CIRCUIT_OPEN',
  'HAL_W1_MISSING',
  'HAL_W1_EMPTY',
  'HAL_PROFILE_INVALID',
  'HAL_UNKNOWN_SENSOR',
  'HAL_UNKNOWN_ACTUATOR',
  'HAL_BAD_COMMAND',
  'HAL_CLOSED',
];

describe('HalError', () => {
  it('is a CodedError with a registered code, details and its own name', () => {
    const e = new HalError('HAL_CRC', 'crc mismatch', { address: 0x44 });
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toBeInstanceOf(HalError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'HalError', code: 'HAL_CRC', details: { address: 0x44 } });
  });

  it('retries exactly the bus faults the next transaction may clear, as the registry marks them', () => {
    const transient = CODES.filter((c) => isTransient(new HalError(c, 'x')));
    expect(transient).toEqual([
      'HAL_I2C_NACK',
      'HAL_I2C_IO',
      'HAL_TIMEOUT',
      'HAL_CRC',
      'HAL_DEVICE_BUSY',
      'HAL_W1_EMPTY',
    ]);
    for (const c of CODES) expect(ERROR_REGISTRY[c].retryable, c).toBe(transient.includes(c));
    expect(isTransient(Object.assign(new Error('x'), { code: 'HAL_CRC' }))).toBe(false);
    expect(isValueFault(new HalError('HAL_RANGE', 'x'))).toBe(true);
  });
});
