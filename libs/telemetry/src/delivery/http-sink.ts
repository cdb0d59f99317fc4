import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { PRECISION } from '../line-protocol';
import type { TelemetryApi } from '../options';
import type { Lines } from '../queue/lines';
import { parseRetryAfter } from './backoff';
import type { SendResult, Sink } from './sink';

const gzip = promisify(gzipCallback);

export interface HttpSinkOptions {
  url: string;
  api: TelemetryApi;
  bucket: string;
  org?: string;
  token?: string;
  username?: string;
  password?: string;
  retentionPolicy?: string;
  requestTimeoutMs: number;
}

/** A 400 that names lines (not a bad request as a whole) is worth splitting the batch for. */
const LINE_ERROR =
  /partial write|unable to parse|parse error|field type conflict|points beyond retention|line \d+|"code":\s*"invalid"|invalid (field|tag|measurement|timestamp|number|boolean)/i;

/**
 * Writes to InfluxDB 1.x `/write` (db, rp, precision, basic auth) or to the v2 write API
 * `/api/v2/write` (bucket, org, precision, token) — Telegraf's influxdb_v2_listener on a module.
 * `auto` asks `/ping` once: a 1.x version header means v1, anything else v2.
 */
export class HttpSink implements Sink {
  private api: 'v1' | 'v2' | undefined;
  /** Bodies compressed ahead of their send (see prepare), by the lines they carry. */
  private readonly bodies = new WeakMap<Lines, Promise<Buffer>>();

  constructor(private readonly o: HttpSinkOptions) {
    this.api = o.api === 'auto' ? undefined : o.api;
  }

  describe(): string {
    return `${this.api ? `influxdb-${this.api}` : 'auto'} ${this.o.url}`;
  }

  /** The API in use, once known. */
  resolvedApi(): 'v1' | 'v2' | undefined {
    return this.api;
  }

  private async detect(signal: AbortSignal): Promise<'v1' | 'v2' | string> {
    const headers = this.authHeaders();
    try {
      const ping = await fetch(`${this.o.url}/ping`, { headers, signal: this.timeout(signal) });
      await ping.body?.cancel();
      const version = ping.headers.get('x-influxdb-version');
      if (ping.ok && version) return /^v?1\./.test(version) ? 'v1' : 'v2';
      // Telegraf's influxdb_v2_listener has no /ping; it answers /api/v2/ready.
      const ready = await fetch(`${this.o.url}/api/v2/ready`, { headers, signal: this.timeout(signal) });
      await ready.body?.cancel();
      if (ready.ok) return 'v2';
      return `cannot tell the InfluxDB API at ${this.o.url}: /ping answered ${ping.status} without a version`;
    } catch (err) {
      return `cannot reach ${this.o.url}: ${describeFetchError(err)}`;
    }
  }

  private timeout(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, AbortSignal.timeout(this.o.requestTimeoutMs)]);
  }

  private authHeaders(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.o.token) headers.authorization = `Token ${this.o.token}`;
    else if (this.o.username !== undefined) {
      const basic = Buffer.from(`${this.o.username}:${this.o.password ?? ''}`).toString('base64');
      headers.authorization = `Basic ${basic}`;
    }
    return headers;
  }

  private writeUrl(api: 'v1' | 'v2'): string {
    const params = new URLSearchParams();
    if (api === 'v1') {
      params.set('db', this.o.bucket);
      if (this.o.retentionPolicy) params.set('rp', this.o.retentionPolicy);
      params.set('precision', PRECISION);
      return `${this.o.url}/write?${params}`;
    }
    params.set('bucket', this.o.bucket);
    if (this.o.org) params.set('org', this.o.org);
    params.set('precision', PRECISION);
    return `${this.o.url}/api/v2/write?${params}`;
  }

  /** Compresses the body in the thread pool while the request before it is in flight. */
  prepare(lines: Lines): void {
    // A failure shows when send compresses the lines again itself.
    this.bodies.set(
      lines,
      compress(lines).catch(() => compress(lines)),
    );
  }

  async send(lines: Lines, signal: AbortSignal): Promise<SendResult> {
    if (!this.api) {
      const detected = await this.detect(signal);
      if (detected !== 'v1' && detected !== 'v2') return { kind: 'retry', message: detected };
      this.api = detected;
    }
    const body = await (this.bodies.get(lines) ?? compress(lines));
    let res: Response;
    try {
      res = await fetch(this.writeUrl(this.api), {
        method: 'POST',
        headers: {
          ...this.authHeaders(),
          'content-type': 'text/plain; charset=utf-8',
          'content-encoding': 'gzip',
        },
        body,
        signal: this.timeout(signal),
      });
    } catch (err) {
      return { kind: 'retry', message: `cannot reach ${this.o.url}: ${describeFetchError(err)}` };
    }
    const text = res.ok ? '' : await res.text().catch(() => '');
    if (res.ok) {
      await res.body?.cancel();
      return { kind: 'ok' };
    }
    const message = `${this.o.url} answered ${res.status}: ${errorText(text, res.headers)}`;
    if (res.status === 400 && LINE_ERROR.test(text)) return { kind: 'reject', message };
    if (res.status === 413) return { kind: 'too_large', message };
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return retryAfterMs === undefined ? { kind: 'retry', message } : { kind: 'retry', message, retryAfterMs };
  }
}

/** The request body: the lines, each ended by a newline, gzip level 1. */
function compress(lines: Lines): Promise<Buffer> {
  return gzip(lines.body, { level: 1 });
}

function errorText(body: string, headers: Headers): string {
  const fromHeader = headers.get('x-influxdb-error');
  let text = body;
  try {
    const parsed = JSON.parse(body) as { error?: string; message?: string };
    text = parsed.error ?? parsed.message ?? body;
  } catch {
    // plain text body
  }
  return (text || fromHeader || '').replace(/\s+/g, ' ').slice(0, 300);
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  if (e.name === 'AbortError') return 'aborted';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
