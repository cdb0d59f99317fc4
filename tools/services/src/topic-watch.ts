import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** A test client that keeps the latest JSON payload of each topic it watches and awaits a matching one. */
export class TopicWatch {
  private readonly latest = new Map<string, Record<string, unknown>>();
  private readonly waiters = new Set<() => void>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      this.latest.set(topic, JSON.parse(payload.toString()) as Record<string, unknown>);
      for (const wake of [...this.waiters]) wake();
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<TopicWatch> {
    return new TopicWatch(
      await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...options }),
    );
  }

  async watch(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  last(topic: string): Record<string, unknown> | undefined {
    return this.latest.get(topic);
  }

  /** Resolves when the topic's latest payload matches; rejects when `abort` settles first. */
  waitFor(
    topic: string,
    match: (payload: Record<string, unknown>) => boolean,
    abort?: Promise<unknown>,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const payload = this.latest.get(topic);
        if (payload === undefined || !match(payload)) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
      void abort?.then((why) => {
        this.waiters.delete(check);
        reject(new Error(`stopped waiting for ${topic}: ${String(why)}`));
      });
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
