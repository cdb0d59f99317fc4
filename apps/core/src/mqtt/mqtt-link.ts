import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import {
  ActuatorCommand,
  ProtocolError,
  errorResponse,
  okResponse,
  parseJsonPayload,
  parseTopic,
  topics,
  validate,
  type StatusMessage,
} from '@growoff/protocol';
import type { Feature, SensorSnapshot } from '../core-types';
import type { EventBus } from '../event-bus';
import type { StateStore } from '../state/state-store';
import type { UpdateLock } from '../control/update-lock';
import { asProtocolError, type CommandService } from '../commands';

export interface MqttLinkOptions {
  url: string;
  moduleId: string;
  version: string;
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  reconnectPeriodMs?: number;
  /** Events kept while the broker is away, oldest dropped first beyond this. */
  maxQueuedEvents?: number;
}

const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * The core's MQTT side: retained status (with an `offline` will), retained sensor and actuator
 * states, events, `set` commands and requests. While the broker is away the core keeps working;
 * events wait in a bounded queue and retained state is republished on reconnect.
 */
export class MqttLink implements Feature {
  readonly name = 'mqtt';
  private client?: MqttClient;
  private readonly offs: (() => void)[] = [];
  private readonly queued: { topic: string; payload: string }[] = [];
  private droppedEvents = 0;

  constructor(
    private readonly o: MqttLinkOptions,
    private readonly bus: EventBus,
    private readonly store: StateStore,
    private readonly commands: CommandService,
    private readonly lock: UpdateLock,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  stats(): { connected: boolean; queuedEvents: number; droppedEvents: number } {
    return { connected: this.connected, queuedEvents: this.queued.length, droppedEvents: this.droppedEvents };
  }

  start(): void {
    const { moduleId } = this.o;
    const options: IClientOptions = {
      protocolVersion: this.o.protocolVersion,
      clientId: `growoff-core-${moduleId}`,
      clean: true,
      reconnectPeriod: this.o.reconnectPeriodMs ?? 1000,
      connectTimeout: 5000,
      keepalive: 30,
      resubscribe: false,
      queueQoSZero: false,
      will: {
        topic: topics.status(moduleId, 'core'),
        payload: Buffer.from(JSON.stringify(this.status('offline'))),
        qos: 1,
        retain: true,
      },
      ...(this.o.username === undefined ? {} : { username: this.o.username }),
      ...(this.o.password === undefined ? {} : { password: this.o.password }),
      ...(this.o.caFile === undefined ? {} : { ca: readFileSync(this.o.caFile) }),
      ...(this.o.certFile === undefined ? {} : { cert: readFileSync(this.o.certFile) }),
      ...(this.o.keyFile === undefined ? {} : { key: readFileSync(this.o.keyFile) }),
    };
    const client = connect(this.o.url, options);
    this.client = client;
    // Connection errors are expected during outages; mqtt.js keeps reconnecting.
    client.on('error', () => undefined);
    client.on('connect', () => void this.onConnect());
    client.on('message', (topic, payload, packet) => void this.onMessage(topic, payload, packet));
    this.offs.push(
      this.bus.on('reading', (r) => this.publishReading(r)),
      this.bus.on('actuator', (a) =>
        this.publishRetained(topics.actuator(moduleId, a.id), { ...a.state, ts: a.ts }, 0),
      ),
      this.bus.on('event', (e) => this.publishEvent(JSON.stringify(e))),
      this.bus.on('updateLock', () =>
        this.publishRetained(topics.status(moduleId, 'core'), this.status('online'), 1),
      ),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await client
        .publishAsync(topics.status(this.o.moduleId, 'core'), JSON.stringify(this.status('offline')), {
          qos: 1,
          retain: true,
        })
        .catch(() => undefined);
    }
    await client.endAsync(!client.connected).catch(() => undefined);
  }

  status(state: 'online' | 'offline'): StatusMessage {
    return { state, version: this.o.version, ts: Date.now(), updateLock: this.lock.state() };
  }

  private async onConnect(): Promise<void> {
    const client = this.client;
    if (!client) return;
    (client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined)?.setNoDelay?.(true);
    const { moduleId } = this.o;
    try {
      await client.subscribeAsync({
        [topics.allActuatorSets(moduleId)]: { qos: 1 },
        [topics.allRequests(moduleId, 'core')]: { qos: 1 },
      });
    } catch {
      // The connection dropped while subscribing; the next connect does it again.
      return;
    }
    this.publishRetained(topics.status(moduleId, 'core'), this.status('online'), 1);
    // The console shows the updater's and tunnel's retained status; a broker that refuses these
    // reads costs the console that view, never the core its commands.
    client
      .subscribeAsync({
        [topics.status(moduleId, 'updater')]: { qos: 0 },
        [topics.status(moduleId, 'tunnel')]: { qos: 0 },
      })
      .catch(() => undefined);
    for (const r of this.store.readings()) this.publishReading(r);
    for (const [id, a] of this.store.actuatorEntries()) {
      this.publishRetained(topics.actuator(moduleId, id), { ...a.state, ts: a.ts }, 0);
    }
    while (this.queued.length > 0 && client.connected) {
      const next = this.queued.shift()!;
      client.publish(next.topic, next.payload, { qos: 1 });
    }
  }

  private publishReading(r: SensorSnapshot): void {
    this.publishRetained(
      topics.sensor(this.o.moduleId, r.id),
      { value: r.value, unit: r.unit, quality: r.quality, ts: r.ts },
      0,
    );
  }

  /**
   * Retained state is not queued: the latest is republished on reconnect, so QoS 0 loses nothing that
   * matters. QoS 1 here would make Mosquitto (TCP_NODELAY off by default) send its PUBACK and the next
   * command back to back, and Nagle plus delayed ACK would hold each command ~40 ms.
   */
  private publishRetained(topic: string, payload: unknown, qos: 0 | 1): void {
    if (!this.client?.connected) return;
    this.client.publish(topic, JSON.stringify(payload), { qos, retain: true });
  }

  private publishEvent(payload: string): void {
    const topic = topics.events(this.o.moduleId);
    if (this.client?.connected) {
      this.client.publish(topic, payload, { qos: 1 });
      return;
    }
    this.queued.push({ topic, payload });
    if (this.queued.length > (this.o.maxQueuedEvents ?? 1000)) {
      this.queued.shift();
      this.droppedEvents++;
    }
  }

  private async onMessage(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.kind === 'fleetRelease' || parsed.moduleId !== this.o.moduleId) return;
    if (parsed.kind === 'status') {
      if (parsed.app === 'updater' || parsed.app === 'tunnel') {
        this.bus.emit('appStatus', { app: parsed.app, payload, ts: Date.now() });
      }
      return;
    }
    const props = packet.properties;
    const replyTo = props?.responseTopic;
    const correlationData = props?.correlationData;
    if (parsed.kind === 'actuatorSet') {
      const reply = replyTo === undefined ? undefined : { topic: replyTo, correlationData };
      await this.handle(`set ${parsed.actuatorId}`, payload, reply, async (body) => {
        const cmd = validate(ActuatorCommand, body);
        if (!cmd.ok) {
          throw this.early(
            `set ${parsed.actuatorId}`,
            new ProtocolError('INVALID_MESSAGE', 'invalid actuator command', cmd.errors),
          );
        }
        const { id: _id, ...rest } = cmd.value;
        return this.commands.execute('set_actuator', { ...rest, actuator: parsed.actuatorId }, 'mqtt');
      });
    } else if (parsed.kind === 'request' && parsed.app === 'core') {
      const reply = {
        topic: replyTo ?? topics.response(this.o.moduleId, 'core', parsed.method),
        correlationData,
      };
      await this.handle(parsed.method, payload, reply, (body) => {
        const { id: _id, ...params } = body as Record<string, unknown>;
        return this.commands.execute(parsed.method, params, 'mqtt');
      });
    }
  }

  /**
   * Parses, runs and answers one message. Failures before the command path (too big, not JSON,
   * not an object) are rejected here with the same event the command path raises.
   */
  private async handle(
    target: string,
    payload: Buffer,
    reply: { topic: string; correlationData?: Buffer } | undefined,
    run: (body: Record<string, unknown>) => Promise<unknown>,
  ): Promise<void> {
    let id: string | number | undefined;
    let response;
    try {
      if (payload.length > MAX_PAYLOAD_BYTES) {
        throw this.early(
          target,
          new ProtocolError('INVALID_MESSAGE', `payload larger than ${MAX_PAYLOAD_BYTES} bytes`),
        );
      }
      const json = parseJsonPayload(payload);
      if (!json.ok)
        throw this.early(target, new ProtocolError('BAD_JSON', 'payload is not valid UTF-8 JSON'));
      const body = json.value;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw this.early(target, new ProtocolError('INVALID_MESSAGE', 'payload must be a JSON object'));
      }
      const rawId = (body as Record<string, unknown>).id;
      if (typeof rawId === 'string' || typeof rawId === 'number') id = rawId;
      response = okResponse(id, await run(body as Record<string, unknown>));
    } catch (e) {
      const error = asProtocolError(e);
      response = errorResponse(id, error.code, error.message, error.details);
    }
    if (!reply || !this.client) return;
    const options =
      this.o.protocolVersion === 5 && reply.correlationData !== undefined
        ? { qos: 1 as const, properties: { correlationData: reply.correlationData } }
        : { qos: 1 as const };
    this.client.publish(reply.topic, JSON.stringify(response), options, () => undefined);
  }

  private early(target: string, error: ProtocolError): ProtocolError {
    this.commands.rejected('mqtt', target, error);
    return error;
  }
}
