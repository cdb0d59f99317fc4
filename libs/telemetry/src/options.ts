import { join } from 'node:path';
import { TelemetryError } from './errors';

export type TelemetryApi = 'v1' | 'v2' | 'auto';

export interface TelemetryOptions {
  /** Module id, written as the `module` tag. */
  module: string;
  /** Base URL of Telegraf's influxdb_v2_listener or an InfluxDB; unset → file sink in `dataDir`. */
  url?: string;
  /** Default 'auto': decided by `/ping`'s X-Influxdb-Version header. */
  api?: TelemetryApi;
  /** v2 bucket / v1 database; default 'growoff'. */
  bucket?: string;
  /** v2 organisation (InfluxDB 2 needs it, Telegraf ignores it). */
  org?: string;
  token?: string;
  username?: string;
  password?: string;
  retentionPolicy?: string;
  /** The disk queue lives in `<dataDir>/telemetry-queue`. */
  dataDir: string;
  /** Hard bound of the disk queue; points beyond it are dropped as `queue_full`. Default 64 MiB. */
  maxQueueBytes?: number;
  /** How long points may wait before a batch is sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Lines per request. Default 5000. */
  batchSize?: number;
  /** Fraction of maxQueueBytes at which backpressure starts. Default 0.8. */
  highWaterRatio?: number;
  /** Fraction of maxQueueBytes readings may fill; the rest is kept for events. Default 0.9. */
  readingsRatio?: number;
  /**
   * Interval of fdatasync on the active segment: what a power cut may lose, against SD-card wear
   * (see README). Default 10 000 ms.
   */
  fsyncIntervalMs?: number;
  /** Per-request timeout. Default 10 s. */
  requestTimeoutMs?: number;
}

export interface ResolvedOptions {
  module: string;
  url?: string;
  api: TelemetryApi;
  bucket: string;
  org?: string;
  token?: string;
  username?: string;
  password?: string;
  retentionPolicy?: string;
  dataDir: string;
  queueDir: string;
  maxQueueBytes: number;
  flushIntervalMs: number;
  batchSize: number;
  highWaterRatio: number;
  readingsRatio: number;
  fsyncIntervalMs: number;
  requestTimeoutMs: number;
}

const APIS: readonly TelemetryApi[] = ['v1', 'v2', 'auto'];

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new TelemetryError(
      'TELEMETRY_BAD_OPTION',
      `telemetry option ${name} must be a positive number, got ${value}`,
    );
  }
  return value;
}

function ratio(name: string, value: number | undefined, fallback: number): number {
  const r = positive(name, value, fallback);
  if (r > 1) {
    throw new TelemetryError('TELEMETRY_BAD_OPTION', `telemetry option ${name} must be at most 1, got ${r}`);
  }
  return r;
}

export function resolveOptions(o: TelemetryOptions): ResolvedOptions {
  if (!o.module) throw new TelemetryError('TELEMETRY_BAD_OPTION', 'telemetry option module is required');
  if (!o.dataDir) throw new TelemetryError('TELEMETRY_BAD_OPTION', 'telemetry option dataDir is required');
  const api = o.api ?? 'auto';
  if (!APIS.includes(api)) {
    throw new TelemetryError(
      'TELEMETRY_BAD_OPTION',
      `telemetry option api must be one of ${APIS.join(', ')}, got ${api}`,
    );
  }
  let url: string | undefined;
  if (o.url) {
    let parsed: URL;
    try {
      parsed = new URL(o.url);
    } catch {
      throw new TelemetryError('TELEMETRY_BAD_OPTION', `telemetry option url is not a URL: ${o.url}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TelemetryError(
        'TELEMETRY_BAD_OPTION',
        `telemetry option url must be http or https, got ${o.url}`,
      );
    }
    url = o.url.replace(/\/+$/, '');
  }
  const highWaterRatio = ratio('highWaterRatio', o.highWaterRatio, 0.8);
  const readingsRatio = ratio('readingsRatio', o.readingsRatio, 0.9);
  return {
    module: o.module,
    url,
    api,
    bucket: o.bucket || 'growoff',
    org: o.org,
    token: o.token,
    username: o.username,
    password: o.password,
    retentionPolicy: o.retentionPolicy,
    dataDir: o.dataDir,
    queueDir: join(o.dataDir, 'telemetry-queue'),
    maxQueueBytes: positive('maxQueueBytes', o.maxQueueBytes, 64 * 1024 * 1024),
    flushIntervalMs: positive('flushIntervalMs', o.flushIntervalMs, 1000),
    batchSize: Math.floor(positive('batchSize', o.batchSize, 5000)),
    highWaterRatio,
    readingsRatio,
    fsyncIntervalMs: positive('fsyncIntervalMs', o.fsyncIntervalMs, 10_000),
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 10_000),
  };
}
