import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { isCodedError } from '../coded-error';
import { isErrorCode, ProtocolError } from '../errors';
import { errorResponse, okResponse, type Response } from '../messages/request-response';
import type { StatusMessage } from '../messages/status';
import { parseJsonPayload } from '../messages/validate';
import { isValidTopicSegment, topics, type AppName } from '../topics';
import { mqttClientOptions } from './client-options';
import type { MqttConnection } from './connection';
import { settleWithin } from './deadline';
import { connectMqtt } from './mqtt-connect';

/** The one payload cap of every request and command, whatever app serves it. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type LinkState = 'online' | 'offline';
export type MessageBody = Record<string, unknown>;

/** A message refused before any app code ran: reported so the app can raise `command.rejected`. */
export interface LinkRejection {
  topic: string;
  /** The method name, or the command and its target (`set light`). */
  target: string;
  error: ProtocolError;
}

/** A command topic family such as the core's `actuators/{id}/set`: answered only with an MQTT 5 reply path. */
export interface CommandRoute {
  /** Names the command in rejections: `set` gives `set light`. */
  name: string;
  /** A subscription filter with exactly one `+`, which stands for the command's target. */
  filter: string;
  run(target: string, body: MessageBody): Promise<unknown> | unknown;
}

/** A plain subscription (releases, another app's status): retained messages welcome, nothing answered. */
export interface WatchedTopic {
  topic: string;
  onMessage(payload: Buffer): void;
}

export interface AppLinkOptions {
  connection: MqttConnection;
  app: AppName;
  moduleId: string;
  version: string;
  /** Default `growoff-{app}-{moduleId}`. */
  clientId?: string;
  /** Default 30 s. */
  keepaliveS?: number;
  /** Default 1000 ms. */
  reconnectPeriodMs?: number;
  /** Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * App-specific fields of the retained status, read at every publish, and once at start for the
   * will (`will` true: what stays true however long the app is gone).
   */
  statusFields?: (state: LinkState, will: boolean) => Record<string, unknown>;
  /**
   * Serves `{app}/req/{method}`; rejects with a ProtocolError (or any CodedError with a contract
   * code) to answer an error. Unset: every request is refused UNKNOWN_METHOD. The handler reports
   * its own refusals; the link reports those it makes itself through `onRejected`.
   */
  request?: (method: string, body: MessageBody) => Promise<unknown> | unknown;
  commands?: CommandRoute[];
  watch?: WatchedTopic[];
  /** After every (re)connect, once subscribed and `online` is out: republish retained state here. */
  onConnected?: () => void;
  onRejected?: (rejection: LinkRejection) => void;
  /** Told when the connection comes up (after `online` is out) and when it is lost. */
  onConnectionChange?: (connected: boolean) => void;
  /** Events kept while the broker is away, oldest dropped first beyond this (default 1000). */
  maxQueuedEvents?: number;
  /** Connection errors (expected while the broker is away). */
  log?: (line: string) => void;
}

interface Route {
  kind: 'request' | 'command';
  levels: string[];
  wildcard: number;
  name: string;
  /** Unset for an app without request methods: every request is then refused UNKNOWN_METHOD. */
  run?: (target: string, body: MessageBody) => Promise<unknown> | unknown;
}

interface ReplyPath {
  topic: string;
  correlationData?: Buffer;
}

/**
 * An app's MQTT side, the same for every app: connects from the one connection section, keeps the
 * retained `{app}/status` (will `offline`, republished at every connect), serves requests and
 * commands through one parse-and-answer path, publishes events (queued while the broker is away)
 * and retained state, and stops within a deadline whatever the broker does.
 *
 * Retained requests and commands are refused, never run. On MQTT 5 the subscriptions ask for
 * Retain As Published, so even one published while we are subscribed arrives flagged; MQTT 3.1.1
 * clears the flag on live delivery, so there only a stored one (delivered at subscribe) is caught.
 */
export class AppLink {
  private client?: MqttClient;
  private readonly routes: Route[];
  private readonly queued: string[] = [];
  private droppedEvents = 0;
  private stopping?: Promise<void>;
  private wasConnected = false;
  private errorLogged = false;
  private markReady!: () => void;
  private readonly readyOnce = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(private readonly o: AppLinkOptions) {
    this.routes = [
      route('request', topics.allRequests(o.moduleId, o.app), 'req', o.request),
      ...(o.commands ?? []).map((c) => route('command', c.filter, c.name, (t, b) => c.run(t, b))),
    ];
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  stats(): { connected: boolean; queuedEvents: number; droppedEvents: number } {
    return { connected: this.connected, queuedEvents: this.queued.length, droppedEvents: this.droppedEvents };
  }

  /** Resolves once the first connect has subscribed and published `online`. */
  ready(): Promise<void> {
    return this.readyOnce;
  }

  /** Connects in the background and keeps reconnecting: no app may depend on the broker being there. */
  start(): void {
    const { o } = this;
    const options: IClientOptions = {
      ...mqttClientOptions(o.connection),
      clientId: o.clientId ?? `growoff-${o.app}-${o.moduleId}`,
      clean: true,
      keepalive: o.keepaliveS ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 5000,
      resubscribe: false,
      queueQoSZero: false,
      will: {
        topic: this.statusTopic(),
        payload: Buffer.from(JSON.stringify(this.status('offline', true))),
        qos: 1,
        retain: true,
      },
    };
    const client = connectMqtt(o.connection.url, options);
    this.client = client;
    // One line per outage, not one per reconnect attempt: an outage may last hours.
    client.on('error', (error) => {
      if (this.errorLogged) return;
      this.errorLogged = true;
      o.log?.(`MQTT: ${error.message} (retrying every ${options.reconnectPeriod} ms)`);
    });
    client.on('connect', () => {
      this.onConnect(client).catch((error: unknown) =>
        o.log?.(`MQTT: after connect: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
    client.on('close', () => {
      if (this.wasConnected) o.onConnectionChange?.(false);
      this.wasConnected = false;
    });
    client.on('message', (topic, payload, packet) => {
      // Nothing a message carries may crash the app: a failure here is logged, never thrown.
      this.onMessage(topic, payload, packet).catch((error: unknown) =>
        o.log?.(`MQTT: ${topic}: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
  }

  /** The `{app}/status` message: state, version and time, with the app's own fields. */
  status(state: LinkState, will = false): StatusMessage & Record<string, unknown> {
    return { state, version: this.o.version, ts: Date.now(), ...this.o.statusFields?.(state, will) };
  }

  /** The retained `online` status with the app's current fields (while connected; reconnects republish it). */
  publishStatus(): void {
    this.publishRetained(this.statusTopic(), this.status('online'), 1);
  }

  /**
   * Retained state is not queued: the latest is republished on reconnect (`onConnected`), so QoS 0
   * loses nothing that matters. With QoS 1 Mosquitto (TCP_NODELAY off) sends its PUBACK and the next
   * command back to back, and Nagle plus delayed ACK would hold each command ~40 ms.
   */
  publishRetained(topic: string, payload: unknown, qos: 0 | 1 = 0): void {
    if (!this.client?.connected || this.stopping) return;
    this.client.publish(topic, JSON.stringify(payload), { qos, retain: true });
  }

  /** On `events`, QoS 1; kept in a bounded queue while the broker is away. */
  publishEvent(event: unknown): void {
    const payload = JSON.stringify(event);
    if (this.client?.connected && !this.stopping) {
      this.client.publish(topics.events(this.o.moduleId), payload, { qos: 1 });
      return;
    }
    this.queued.push(payload);
    if (this.queued.length > (this.o.maxQueuedEvents ?? 1000)) {
      this.queued.shift();
      this.droppedEvents++;
    }
  }

  /**
   * Publishes `offline` if connected and disconnects; resolves within `deadlineMs` whatever the
   * broker does (connecting, reconnecting, gone mid-publish): past the deadline the socket is dropped,
   * and the broker's will says `offline` instead.
   */
  stop(deadlineMs: number): Promise<void> {
    this.stopping ??= this.shutdown(deadlineMs);
    return this.stopping;
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (!client.connected) {
      client.end(true);
      return;
    }
    const goodbye = (async () => {
      await client.publishAsync(this.statusTopic(), JSON.stringify(this.status('offline')), {
        qos: 1,
        retain: true,
      });
      await client.endAsync();
    })();
    const clean = (await settleWithin(goodbye, deadlineMs)) && client.disconnected;
    if (!clean) {
      // A graceful end already under way ignores a later end(true); dropping the socket ends either.
      client.end(true);
      client.stream?.destroy();
    }
  }

  private statusTopic(): string {
    return topics.status(this.o.moduleId, this.o.app);
  }

  private async onConnect(client: MqttClient): Promise<void> {
    if (this.stopping) return;
    (client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined)?.setNoDelay?.(true);
    const v5 = this.o.connection.protocolVersion === 5;
    // Retain As Published (MQTT 5): a retained request arrives flagged even while we are subscribed.
    const command = v5 ? { qos: 1 as const, rap: true } : { qos: 1 as const };
    const filters: Record<string, { qos: 1; rap?: boolean }> = {};
    for (const r of this.routes) filters[r.levels.join('/')] = command;
    for (const w of this.o.watch ?? []) filters[w.topic] = { qos: 1 };
    try {
      await client.subscribeAsync(filters);
    } catch (error) {
      // The connection dropped while subscribing; the next connect does it again.
      this.o.log?.(`MQTT: cannot subscribe: ${(error as Error).message}`);
      return;
    }
    this.publishStatus();
    this.o.onConnected?.();
    while (this.queued.length > 0 && client.connected) {
      client.publish(topics.events(this.o.moduleId), this.queued.shift()!, { qos: 1 });
    }
    this.wasConnected = true;
    this.errorLogged = false;
    this.o.onConnectionChange?.(true);
    this.markReady();
  }

  private async onMessage(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    if (this.stopping) return;
    const watched = this.o.watch?.find((w) => w.topic === topic);
    if (watched) {
      watched.onMessage(payload);
      return;
    }
    const levels = topic.split('/');
    const r = this.routes.find(
      (x) => x.levels.length === levels.length && x.levels.every((l, i) => l === '+' || l === levels[i]),
    );
    if (!r) return;
    const target = levels[r.wildcard]!;
    const response = await this.answer(r, topic, target, payload, packet.retain);
    const reply = this.replyPath(r, target, packet);
    if (!reply || !this.client) return;
    const correlation =
      reply.correlationData === undefined ? {} : { properties: { correlationData: reply.correlationData } };
    this.client.publish(reply.topic, JSON.stringify(response), { qos: 1, ...correlation }, () => undefined);
  }

  /** Parses, checks, runs and answers one request or command. */
  private async answer(
    r: Route,
    topic: string,
    target: string,
    payload: Buffer,
    retained: boolean,
  ): Promise<Response> {
    const kind = r.kind === 'request' ? 'request' : 'command';
    let id: string | number | undefined;
    const refuse = (error: ProtocolError): Response => {
      this.o.onRejected?.({ topic, target: r.kind === 'request' ? target : `${r.name} ${target}`, error });
      return errorResponse(id, error.code, error.message, error.details);
    };
    if (payload.length > MAX_REQUEST_BYTES) {
      return refuse(
        new ProtocolError('INVALID_MESSAGE', `payload larger than ${MAX_REQUEST_BYTES} bytes`, {
          maxBytes: MAX_REQUEST_BYTES,
        }),
      );
    }
    const json = parseJsonPayload(payload);
    if (!json.ok) return refuse(new ProtocolError('BAD_JSON', 'payload is not valid UTF-8 JSON'));
    const body = json.value;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return refuse(new ProtocolError('INVALID_MESSAGE', 'payload must be a JSON object'));
    }
    const rawId = (body as MessageBody).id;
    if (typeof rawId === 'string' || typeof rawId === 'number') id = rawId;
    if (retained) {
      return refuse(
        new ProtocolError('INVALID_MESSAGE', `a retained ${kind} is never executed; publish it unretained`),
      );
    }
    if (!isValidTopicSegment(target) || !r.run) {
      return refuse(
        r.kind === 'request'
          ? unknownMethod(this.o.app, target)
          : new ProtocolError('INVALID_MESSAGE', `"${target}" is not a valid ${r.name} target`),
      );
    }
    try {
      return okResponse(id, await r.run(target, body as MessageBody));
    } catch (e) {
      const error = asProtocolError(e);
      return errorResponse(id, error.code, error.message, error.details);
    }
  }

  /** MQTT 5: the request's response topic; requests without one: the 3.1.1 `{app}/res/{method}`. */
  private replyPath(r: Route, target: string, packet: IPublishPacket): ReplyPath | undefined {
    const v5 = this.o.connection.protocolVersion === 5;
    const responseTopic = v5 ? packet.properties?.responseTopic : undefined;
    if (responseTopic !== undefined) {
      // A wildcard or empty topic is not publishable: the broker would drop our connection for it.
      if (responseTopic === '' || /[+#\0]/.test(responseTopic)) return undefined;
      return { topic: responseTopic, correlationData: packet.properties?.correlationData };
    }
    if (r.kind !== 'request' || !isValidTopicSegment(target)) return undefined;
    return { topic: topics.response(this.o.moduleId, this.o.app, target) };
  }
}

function route(kind: Route['kind'], filter: string, name: string, run: Route['run']): Route {
  const levels = filter.split('/');
  const wildcard = levels.indexOf('+');
  if (wildcard < 0 || levels.lastIndexOf('+') !== wildcard || levels.includes('#')) {
    throw new ProtocolError('INVALID_MESSAGE', `route filter "${filter}" must have exactly one "+"`);
  }
  return { kind, levels, wildcard, name, run };
}

function unknownMethod(app: AppName, method: string): ProtocolError {
  return isValidTopicSegment(method)
    ? new ProtocolError('UNKNOWN_METHOD', `the ${app} has no method "${method}"`)
    : new ProtocolError(
        'UNKNOWN_METHOD',
        `"${method}" is not a valid method name (1-64 of A-Z a-z 0-9 _ . -)`,
        {
          method,
        },
      );
}

/** What a handler threw, as the contract's error: its own code if it has one, else INTERNAL. */
function asProtocolError(e: unknown): ProtocolError {
  if (e instanceof ProtocolError) return e;
  if (isCodedError(e) && isErrorCode(e.code)) return new ProtocolError(e.code, e.message, e.details);
  return new ProtocolError('INTERNAL', 'internal error while handling the message');
}
