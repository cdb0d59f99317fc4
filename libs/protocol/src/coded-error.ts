import { isRegisteredErrorCode, type RegisteredErrorCode } from './error-registry';

/**
 * The one coded error of the workspace. Every error that reaches a client, a log line or an event
 * carries a `code` from the registry (`error-registry.ts`), which says its HTTP status and whether
 * a retry may help. Package-specific error classes extend this one; none extends `Error` directly.
 */
export class CodedError<C extends RegisteredErrorCode = RegisteredErrorCode> extends Error {
  override name = 'CodedError';

  constructor(
    readonly code: C,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The factory: a coded error without a class of its own. */
export function codedError<C extends RegisteredErrorCode>(
  code: C,
  message: string,
  details?: unknown,
  options?: { cause?: unknown },
): CodedError<C> {
  return new CodedError(code, message, details, options);
}

export function isCodedError(value: unknown): value is CodedError {
  return value instanceof CodedError;
}

/**
 * A one-line account of any thrown value for events, logs and answers, never a stack: the error's
 * registered code (`fallback`, INTERNAL by default, for anything else, e.g. a Node `ENOENT`, whose
 * message names it) and its message.
 */
export function describeError(
  error: unknown,
  fallback: RegisteredErrorCode = 'INTERNAL',
): { code: RegisteredErrorCode; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: isRegisteredErrorCode(code) ? code : fallback,
    message: error instanceof Error ? error.message : String(error),
  };
}
