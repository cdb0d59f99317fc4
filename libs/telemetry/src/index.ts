export { createTelemetry, FILE_SINK_NAME, QUARANTINE_NAME } from './telemetry';
export type { Telemetry, TelemetryStats } from './telemetry';
export { telemetryOptionsFromEnv } from './options';
export type { TelemetryOptions, TelemetryApi } from './options';
export type { MetricInput, EventInput } from './line-protocol';
export { TelemetryError, isTelemetryError } from './errors';
export type { TelemetryErrorCode } from './errors';
