import {
  AppLink,
  createEvent,
  ProtocolError,
  topics,
  TunnelCloseRequest,
  TunnelOpenRequest,
  validate,
  type ErrorCode,
  type MqttConnection,
  type TunnelOpenResult,
} from '@growoff/protocol';
import type { AuditEvent, TunnelSupervisor } from './tunnel-supervisor';

export interface TunnelMqttOptions {
  connection: MqttConnection;
  moduleId: string;
  version: string;
  bastion: string;
  /** How long an open request waits for the tunnel to come up before answering `connecting`. */
  openAnswerTimeoutMs: number;
  /** Also given every event published (the audit trail's durable copy, e.g. telemetry). */
  record?: (event: AuditEvent & { ts: number }) => void;
}

type Answer =
  { ok: true; result: unknown } | { ok: false; code: ErrorCode; message: string; details?: unknown };

/**
 * The tunnel on the app link: the retained `tunnel/status` (will `offline`) with the tunnel's
 * snapshot, `tunnel/req/{open,close}` answered per the contract, and audit events on `events`.
 */
export class TunnelMqtt {
  private readonly link: AppLink;

  private constructor(
    private readonly supervisor: TunnelSupervisor,
    private readonly options: TunnelMqttOptions,
  ) {
    this.link = new AppLink({
      connection: options.connection,
      app: 'tunnel',
      moduleId: options.moduleId,
      version: options.version,
      clientId: `growoff-tunnel-${options.moduleId}-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriodMs: 2000,
      statusFields: (state) =>
        state === 'online' ? { bastion: options.bastion, ...this.supervisor.snapshot } : {},
      request: (method, body) => this.serve(method, body),
      onRejected: ({ topic, target, error }) => this.rejected(topic, target, error),
      log: (line) => console.error(`[tunnel] ${line}`),
    });
  }

  /**
   * Connects in the background and keeps reconnecting: the tunnel (always-on above all) must not
   * depend on the broker being reachable.
   */
  static start(supervisor: TunnelSupervisor, options: TunnelMqttOptions): TunnelMqtt {
    const api = new TunnelMqtt(supervisor, options);
    api.link.start();
    supervisor.on('status', () => api.link.publishStatus());
    supervisor.on('audit', (event) => api.publishEvent(event));
    return api;
  }

  /** Resolves once subscribed and the status is published (tests wait for this). */
  ready(): Promise<void> {
    return this.link.ready();
  }

  /** Publishes `offline` (the same as the will) and disconnects, within `deadlineMs` whatever the broker does. */
  stop(deadlineMs: number): Promise<void> {
    return this.link.stop(deadlineMs);
  }

  private publishEvent(event: AuditEvent): void {
    const stamped = { ...event, ts: Date.now() };
    console.log(`[tunnel] ${event.severity} ${event.type}: ${event.message}`);
    this.options.record?.(stamped);
    this.link.publishEvent(stamped);
  }

  private rejected(
    topic: string,
    method: string,
    error: { code: ErrorCode; message: string; details?: unknown },
  ) {
    this.publishEvent(
      createEvent('command.rejected', `tunnel/req/${method}: ${error.message}`, {
        topic,
        code: error.code,
        details: error.details,
      }),
    );
  }

  private async serve(method: string, body: Record<string, unknown>): Promise<unknown> {
    let answer: Answer;
    if (method === 'open') answer = await this.open(body);
    else if (method === 'close') answer = await this.close(body);
    else
      answer = {
        ok: false,
        code: 'UNKNOWN_METHOD',
        message: `the tunnel has no method "${method}" (open, close)`,
      };
    if (answer.ok) return answer.result;
    const error = new ProtocolError(answer.code, answer.message, answer.details);
    this.rejected(topics.request(this.options.moduleId, 'tunnel', method), method, error);
    throw error;
  }

  private async open(value: unknown): Promise<Answer> {
    const checked = validate(TunnelOpenRequest, value);
    if (!checked.ok)
      return {
        ok: false,
        code: 'INVALID_MESSAGE',
        message: 'not a valid open request',
        details: checked.errors,
      };
    const outcome = this.supervisor.open(checked.value.ttlSeconds, checked.value.reason);
    const snapshot = await this.supervisor.settled(this.options.openAnswerTimeoutMs);
    if (snapshot.tunnel === 'error') {
      return {
        ok: false,
        code: 'UNAVAILABLE',
        message: snapshot.reason ?? 'the tunnel failed',
        details: { code: snapshot.errorCode },
      };
    }
    const result: TunnelOpenResult & { reason?: string } = {
      tunnel: snapshot.tunnel,
      remotePort: snapshot.remotePort ?? this.supervisor.remotePort,
      expiresAt: snapshot.expiresAt,
      ttlSeconds: outcome.ttlSeconds,
      capped: outcome.capped,
    };
    return { ok: true, result };
  }

  private async close(value: unknown): Promise<Answer> {
    const checked = validate(TunnelCloseRequest, value);
    if (!checked.ok)
      return {
        ok: false,
        code: 'INVALID_MESSAGE',
        message: 'not a valid close request',
        details: checked.errors,
      };
    const closed = await this.supervisor.close(checked.value.reason ?? 'close requested');
    if (!closed)
      return {
        ok: false,
        code: 'CONFLICT',
        message: 'the tunnel is always on by configuration (GROWOFF_TUNNEL_ALWAYS_ON)',
      };
    return { ok: true, result: { tunnel: 'closed' } };
  }
}
