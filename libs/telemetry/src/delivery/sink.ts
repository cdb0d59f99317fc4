import type { Lines } from '../queue/lines';

/** The answer of a sink to one request carrying some lines. */
export type SendResult =
  | { kind: 'ok' }
  /** Nothing was judged (unreachable, 5xx, 429, auth): send the same lines again later. */
  | { kind: 'retry'; message: string; retryAfterMs?: number }
  /** The server refused lines of this body (400): split to find them. */
  | { kind: 'reject'; message: string }
  /** The body was too large (413): split it. */
  | { kind: 'too_large'; message: string };

export interface Sink {
  /** e.g. `influxdb-v1 http://127.0.0.1:8086`, `file /data/telemetry.lp`. */
  describe(): string;
  send(lines: Lines, signal: AbortSignal): Promise<SendResult>;
  /**
   * Optional: starts encoding the body of these lines (the same object) ahead of their `send`, while
   * the request before it is in flight. Changes nothing that is sent.
   */
  prepare?(lines: Lines): void;
}
