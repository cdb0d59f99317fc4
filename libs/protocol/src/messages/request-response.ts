import { Type, type Static } from '@sinclair/typebox';
import { REGISTERED_ERROR_CODES, type RegisteredErrorCode } from '../error-registry';
import { MessageId } from './common';

/** `{app}/req/{method}`: method parameters as properties, with an optional `id`. */
export const Request = Type.Object(
  { id: Type.Optional(MessageId) },
  { $id: 'Request', additionalProperties: true },
);
export type Request = Static<typeof Request>;

/** A registered code; the table itself (status, retryable, description) is `ErrorCode.json`. */
const ErrorCodeField = Type.Union(
  REGISTERED_ERROR_CODES.map((c) => Type.Literal(c)),
  { description: 'a code of the error code registry (ErrorCode.json)' },
);

export const ErrorBody = Type.Object(
  {
    code: ErrorCodeField,
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const OkResponse = Type.Object(
  { id: Type.Optional(MessageId), ok: Type.Literal(true), result: Type.Unknown() },
  { $id: 'OkResponse' },
);
export const ErrorResponse = Type.Object(
  { id: Type.Optional(MessageId), ok: Type.Literal(false), error: ErrorBody },
  { $id: 'ErrorResponse' },
);
export const Response = Type.Union([OkResponse, ErrorResponse], { $id: 'Response' });
export type OkResponse<T = unknown> = { id?: string | number; ok: true; result: T };
export type ErrorResponse = Static<typeof ErrorResponse>;
export type Response<T = unknown> = OkResponse<T> | ErrorResponse;

export function okResponse<T>(id: string | number | undefined, result: T): OkResponse<T> {
  return id === undefined ? { ok: true, result } : { id, ok: true, result };
}

export function errorResponse(
  id: string | number | undefined,
  code: RegisteredErrorCode,
  message: string,
  details?: unknown,
): ErrorResponse {
  const error: ErrorBody = details === undefined ? { code, message } : { code, message, details };
  return id === undefined ? { ok: false, error } : { id, ok: false, error };
}
