import { CodedError } from './coded-error';
import type { RegisteredErrorCode } from './error-registry';

/**
 * The error codes of the contract: every error response and every `command.rejected`
 * event carries one of these, so a client can branch on it without parsing messages.
 */
export const ErrorCode = {
  /** The payload is not JSON (or not UTF-8). */
  BAD_JSON: 'BAD_JSON',
  /** JSON, but not the shape the topic or endpoint expects. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** A request names a method the app does not offer. */
  UNKNOWN_METHOD: 'UNKNOWN_METHOD',
  UNKNOWN_SENSOR: 'UNKNOWN_SENSOR',
  UNKNOWN_ACTUATOR: 'UNKNOWN_ACTUATOR',
  /** A safety interlock refused the command; the message says which and why. */
  INTERLOCK: 'INTERLOCK',
  /** The pump used its run budget (maxRunSeconds within runWindowSeconds) and rests; details say until when. */
  PUMP_RESTING: 'PUMP_RESTING',
  /** The command conflicts with the current state (e.g. a cycle already running). */
  CONFLICT: 'CONFLICT',
  /** A device or dependency needed to answer is not available right now. */
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
} as const satisfies Record<string, RegisteredErrorCode>;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** An error that reaches a client as `{code, message, details?}`, with one of the contract's codes. */
export class ProtocolError extends CodedError<ErrorCode> {
  override readonly name = 'ProtocolError';
}

export function isProtocolError(value: unknown): value is ProtocolError {
  return value instanceof ProtocolError;
}
