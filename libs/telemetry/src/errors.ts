import { CodedError } from '@growoff/protocol';

export type TelemetryErrorCode =
  | 'TELEMETRY_BAD_OPTION'
  | 'TELEMETRY_QUEUE_IO'
  | 'TELEMETRY_SINK_UNREACHABLE'
  | 'TELEMETRY_SINK_REFUSED'
  | 'TELEMETRY_CLOSED';

/** Every failure this library reports carries one of these codes and a message fit for an operator. */
export class TelemetryError extends CodedError<TelemetryErrorCode> {
  override readonly name = 'TelemetryError';

  constructor(code: TelemetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, undefined, options);
  }
}

export function isTelemetryError(value: unknown): value is TelemetryError {
  return value instanceof TelemetryError;
}
