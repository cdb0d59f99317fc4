import { describe, expect, it } from 'vitest';
import { codedError, describeError } from './coded-error';
import {
  ERROR_REGISTRY,
  ErrorCodeSchema,
  errorCodeInfo,
  isRegisteredErrorCode,
  REGISTERED_ERROR_CODES,
} from './error-registry';
import { ERROR_CODES, ProtocolError } from './errors';
import { ReleaseError } from './release/release-error';
import { validate } from './messages/validate';

describe('error code registry', () => {
  it('gives every code an HTTP error status, a retryability and a one-line description', () => {
    for (const code of REGISTERED_ERROR_CODES) {
      const { status, retryable, description } = ERROR_REGISTRY[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(typeof retryable, code).toBe('boolean');
      expect(description, code).toMatch(/^\S.*\S$/);
      expect(description, code).not.toContain('\n');
    }
  });

  it('holds every code of the protocol contract', () => {
    for (const code of ERROR_CODES) expect(isRegisteredErrorCode(code), code).toBe(true);
  });

  it('looks a known code up, and answers INTERNAL/500 for an unknown one', () => {
    expect(errorCodeInfo('INTERLOCK')).toMatchObject({ code: 'INTERLOCK', status: 409, retryable: false });
    expect(errorCodeInfo('HAL_TIMEOUT')).toMatchObject({ code: 'HAL_TIMEOUT', status: 504, retryable: true });
    for (const unknown of ['NOPE', 'toString', '__proto__', '', 42, undefined]) {
      expect(errorCodeInfo(unknown), String(unknown)).toMatchObject({ code: 'INTERNAL', status: 500 });
      expect(isRegisteredErrorCode(unknown)).toBe(false);
    }
  });

  it('refuses, at compile time, a code that is not in the registry', () => {
    // @ts-expect-error 'NOT_A_CODE' is not a registered error code
    const e = codedError('NOT_A_CODE', 'x');
    // @ts-expect-error a class narrowed to the contract codes refuses another registered code
    expect(() => new ProtocolError('HAL_TIMEOUT', 'x')).not.toThrow();
    expect(e.code).toBe('NOT_A_CODE');
  });

  it('exports the table as an ErrorCode enum schema', () => {
    expect(validate(ErrorCodeSchema, 'WRONG_CHANNEL').ok).toBe(true);
    expect(validate(ErrorCodeSchema, 'NOPE').ok).toBe(false);
    const entry = ErrorCodeSchema.anyOf.find((s) => s.const === 'DISK_SPACE_LOW');
    expect(entry).toMatchObject({ 'x-http-status': 507, 'x-retryable': true });
  });
});

describe('describeError', () => {
  it('keeps a registered code and the message, never a stack', () => {
    expect(describeError(new ReleaseError('UNSIGNED', 'not signed'))).toEqual({
      code: 'UNSIGNED',
      message: 'not signed',
    });
    expect(describeError(codedError('PULL_FAILED', 'the pull failed'))).toEqual({
      code: 'PULL_FAILED',
      message: 'the pull failed',
    });
  });

  it('says INTERNAL for an uncoded or unregistered error, keeping its message', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(describeError(enoent)).toEqual({ code: 'INTERNAL', message: 'ENOENT: no such file' });
    expect(describeError('plain')).toEqual({ code: 'INTERNAL', message: 'plain' });
    expect(describeError(null)).toEqual({ code: 'INTERNAL', message: 'null' });
    expect(describeError(new Error('boom'), 'FLEET_FAILED')).toEqual({
      code: 'FLEET_FAILED',
      message: 'boom',
    });
  });
});
