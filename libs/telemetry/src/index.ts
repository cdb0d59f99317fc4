export { createTelemetry, FILE_SINK_NAME, QUARANTINE_NAME } from './telemetry';
export type { Telemetry, TelemetryStats } from './telemetry';
export { telemetrySection, telemetryOptionsOf, type TelemetrySection } from './telemetry-env';
export type { TelemetryOptions, TelemetryApi } from './options';
export type { MetricInput, EventInput } from './line-protocol';
export { TelemetryError, isTelemetryError } from './errors';
export type { TelemetryErrorCode } from './errors';
