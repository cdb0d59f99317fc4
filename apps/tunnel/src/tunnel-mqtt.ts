import {
  createEvent,
  errorResponse,
  isValidTopicSegment,
  okResponse,
  parseJsonPayload,
  parseTopic,
  topics,
  TunnelCloseRequest,
  TunnelOpenRequest,
  validate,
  mqttClientOptions,
  type ErrorCode,
  type MqttConnection,
  type TunnelOpenResult,
  type TunnelStatus,
} from '@growoff/protocol';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { AuditEvent, TunnelSnapshot, TunnelSupervisor } from './tunnel-supervisor';

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
 * The tunnel's MQTT side: the retained `tunnel/status` (will `offline`), `tunnel/req/{open,close}`
 * answered per the contract, and audit events on `events`.
 */
export class TunnelMqtt {
  private markSubscribed!: () => void;
  private readonly subscribed = new Promise<void>((resolve) => (this.markSubscribed = resolve));

  private constructor(
    private readonly client: MqttClient,
    private readonly supervisor: TunnelSupervisor,
    private readonly options: TunnelMqttOptions,
  ) {}

  /**
   * Connects in the background and keeps reconnecting: the tunnel (always-on above all) must not
   * depend on the broker being reachable.
   */
  static start(supervisor: TunnelSupervisor, options: TunnelMqttOptions): TunnelMqtt {
    const statusTopic = topics.status(options.moduleId, 'tunnel');
    const will: TunnelStatus = { state: 'offline', version: options.version, ts: Date.now() };
    const client = mqtt.connect(options.connection.url, {
      ...mqttClientOptions(options.connection),
      clientId: `growoff-tunnel-${options.moduleId}-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 2000,
      will: { topic: statusTopic, payload: Buffer.from(JSON.stringify(will)), retain: true, qos: 1 },
    });
    const api = new TunnelMqtt(client, supervisor, options);
    client.on('message', (topic, payload, packet) => void api.onRequest(topic, payload, packet));
    client.on('connect', () => void api.onConnected());
    client.on('error', (error) => console.error(`[tunnel] MQTT: ${error.message}`));
    supervisor.on('status', (snapshot) => api.publishStatus(snapshot));
    supervisor.on('audit', (event) => api.publishEvent(event));
    return api;
  }

  /** Resolves once subscribed and the status is published (tests wait for this). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /** Publishes `offline` (the same as the will) and disconnects. */
  async stop(): Promise<void> {
    if (!this.client.connected) {
      await this.client.endAsync(true);
      return;
    }
    const offline: TunnelStatus = { state: 'offline', version: this.options.version, ts: Date.now() };
    await this.client.publishAsync(topics.status(this.options.moduleId, 'tunnel'), JSON.stringify(offline), {
      retain: true,
      qos: 1,
    });
    await this.client.endAsync();
  }

  private async onConnected(): Promise<void> {
    try {
      await this.client.subscribeAsync(topics.allRequests(this.options.moduleId, 'tunnel'), { qos: 1 });
    } catch (error) {
      console.error(`[tunnel] MQTT: cannot subscribe to requests: ${(error as Error).message}`);
      return;
    }
    this.publishStatus(this.supervisor.snapshot);
    this.markSubscribed();
  }

  private publishStatus(snapshot: TunnelSnapshot): void {
    const status: TunnelStatus = {
      state: 'online',
      version: this.options.version,
      ts: Date.now(),
      bastion: this.options.bastion,
      ...snapshot,
    };
    this.client.publish(topics.status(this.options.moduleId, 'tunnel'), JSON.stringify(status), {
      retain: true,
      qos: 1,
    });
  }

  private publishEvent(event: AuditEvent): void {
    const stamped = { ...event, ts: Date.now() };
    console.log(`[tunnel] ${event.severity} ${event.type}: ${event.message}`);
    this.options.record?.(stamped);
    this.client.publish(topics.events(this.options.moduleId), JSON.stringify(stamped), { qos: 1 });
  }

  private async onRequest(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsedTopic = parseTopic(topic);
    const method = parsedTopic?.kind === 'request' ? parsedTopic.method : topic;
    const parsed = parseJsonPayload(payload);
    const id = parsed.ok ? requestId(parsed.value) : undefined;
    let answer: Answer;
    if (!parsed.ok) {
      answer = { ok: false, code: 'BAD_JSON', message: 'the request is not JSON' };
    } else if (method === 'open') {
      answer = await this.open(parsed.value);
    } else if (method === 'close') {
      answer = await this.close(parsed.value);
    } else {
      answer = {
        ok: false,
        code: 'UNKNOWN_METHOD',
        message: `the tunnel has no method "${method}" (open, close)`,
      };
    }
    if (!answer.ok) {
      this.publishEvent(
        createEvent('command.rejected', `tunnel/req/${method}: ${answer.message}`, {
          topic,
          code: answer.code,
          details: answer.details,
        }),
      );
    }
    const body = answer.ok
      ? okResponse(id, answer.result)
      : errorResponse(id, answer.code, answer.message, answer.details);
    const responseTopic = packet.properties?.responseTopic;
    const correlationData = packet.properties?.correlationData;
    if (responseTopic) {
      this.client.publish(responseTopic, JSON.stringify(body), {
        qos: 1,
        properties: correlationData ? { correlationData } : {},
      });
    } else if (isValidTopicSegment(method)) {
      this.client.publish(topics.response(this.options.moduleId, 'tunnel', method), JSON.stringify(body), {
        qos: 1,
      });
    }
    // Otherwise there is no reply path: a 3.1.1 request for a method no res/ topic level can name.
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

function requestId(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null || !('id' in value)) return undefined;
  const id = (value as { id: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
