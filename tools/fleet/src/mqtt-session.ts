import { maskUrl } from '@growoff/config';
import { mqttClientOptions, type MqttConnection } from '@growoff/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { FleetError } from './fleet-error';

export interface MqttSessionOptions {
  connection: MqttConnection;
  /** How long to wait for the broker before FLEET_MQTT_UNREACHABLE. */
  connectTimeoutMs?: number;
  /** Keep reconnecting after a drop (the live status view); one-shot commands fail instead. */
  reconnect?: boolean;
}

/** The window after SUBACK in which a retained message must arrive (MQTT has no "no retained" answer). */
export const RETAINED_WAIT_MS = 400;

/** A connected MQTT client for one CLI command. */
export class MqttSession {
  private constructor(readonly client: MqttClient) {}

  static async connect(options: MqttSessionOptions): Promise<MqttSession> {
    const timeout = options.connectTimeoutMs ?? 5_000;
    const client = mqtt.connect(options.connection.url, {
      ...mqttClientOptions(options.connection),
      clientId: `growoff-fleet-${Math.random().toString(16).slice(2, 10)}`,
      connectTimeout: timeout,
      reconnectPeriod: options.reconnect ? 1_000 : 0,
      clean: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        client.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        client.once('close', () => {
          clearTimeout(timer);
          reject(new Error('connection closed'));
        });
      });
    } catch (error) {
      client.end(true);
      throw new FleetError(
        'FLEET_MQTT_UNREACHABLE',
        `cannot connect to the MQTT broker at ${maskUrl(options.connection.url) ?? '***'}: ${(error as Error).message}`,
      );
    }
    client.removeAllListeners('error');
    client.on('error', () => {});
    return new MqttSession(client);
  }

  /** The retained message on one topic, or null when there is none. */
  async readRetained(topic: string, waitMs = RETAINED_WAIT_MS): Promise<Buffer | null> {
    return new Promise<Buffer | null>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (value: Buffer | null) => {
        clearTimeout(timer);
        this.client.removeListener('message', onMessage);
        this.client.unsubscribe(topic);
        resolve(value);
      };
      const onMessage = (received: string, payload: Buffer, packet: { retain?: boolean }) => {
        if (received === topic && packet.retain) finish(payload.length > 0 ? payload : null);
      };
      this.client.on('message', onMessage);
      this.client.subscribe(topic, { qos: 1 }, (error) => {
        if (error) {
          this.client.removeListener('message', onMessage);
          reject(error);
          return;
        }
        timer = setTimeout(() => finish(null), waitMs);
      });
    });
  }

  /**
   * Every retained message under a filter (e.g. `growoff/v1/fleet/releases/+`), by topic. The
   * broker sends them right after SUBACK; the burst ends when none has come for RETAINED_WAIT_MS.
   */
  async readRetainedAll(filter: string, maxMs = 5_000): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    let last = Date.now();
    const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
      if (!packet.retain || !topicMatches(filter, topic)) return;
      last = Date.now();
      if (payload.length > 0) found.set(topic, payload);
    };
    this.client.on('message', onMessage);
    try {
      await this.client.subscribeAsync(filter, { qos: 1 });
      const start = Date.now();
      // The end of the retained burst has no event of its own.
      while (Date.now() - last < RETAINED_WAIT_MS && Date.now() - start < maxMs) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await this.client.unsubscribeAsync(filter);
    } finally {
      this.client.removeListener('message', onMessage);
    }
    return found;
  }

  /** Publishes (QoS 1) and resolves once the broker has acknowledged it. */
  async publish(topic: string, payload: string | Buffer, retain: boolean): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Whether an MQTT topic matches a filter with `+` and `#` wildcards. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
