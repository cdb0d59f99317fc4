import { codedError, isCodedError, type CodedError } from './coded-error';
import { errorCodeInfo, isRegisteredErrorCode } from './error-registry';
import type { ErrorBody } from './messages/request-response';

/** A refusal by the web framework itself, before any handler ran (Fastify's error shape). */
interface FrameworkError {
  message?: string;
  code?: unknown;
  statusCode?: number;
  validation?: { instancePath?: string; message?: string }[];
  validationContext?: string;
}

/**
 * The coded error a REST server answers for any thrown value: a registered coded error as it is,
 * a schema refusal as INVALID_MESSAGE, another 4xx of the framework (unparsable body, wrong media
 * type, too large) as BAD_JSON or INVALID_MESSAGE, and everything else as a generic INTERNAL.
 */
export function restErrorOf(error: unknown): CodedError {
  if (isCodedError(error) && isRegisteredErrorCode(error.code)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  if (Array.isArray(e.validation)) {
    return codedError(
      'INVALID_MESSAGE',
      `invalid request ${e.validationContext ?? ''}`.trim(),
      e.validation.map((v) => ({ path: v.instancePath, message: v.message })),
    );
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    const shape = e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 413;
    return codedError(shape ? 'INVALID_MESSAGE' : 'BAD_JSON', e.message ?? 'bad request');
  }
  return codedError('INTERNAL', 'internal error');
}

/**
 * The status and `{error: {code, message, details?}}` body of the contract, the status from the
 * registry; a code the registry does not know (a cast slipped through) answers 500 INTERNAL.
 */
export function restErrorReply(error: CodedError): { status: number; body: { error: ErrorBody } } {
  const { code, status } = errorCodeInfo(error.code);
  const message = code === error.code ? error.message : 'internal error';
  const { details } = error;
  return {
    status,
    body: {
      error: details === undefined || code !== error.code ? { code, message } : { code, message, details },
    },
  };
}
