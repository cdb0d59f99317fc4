import mqtt, { type MqttClient } from 'mqtt';
import {
  signEnvelope,
  topics,
  type FleetPayload,
  type ReleaseApps,
  type ReleaseKeyPair,
} from '@growoff/protocol';

/**
 * Signs and publishes fleet documents (retained, QoS 1) as the release identity, with its own
 * stand-in for the fleet-wide sequence counter: what the simulator's tests and bench/fleet drive a
 * simulated fleet with, independent of the release CLI's options.
 */
export class DocumentPublisher {
  private sequence: number;

  private constructor(
    private readonly client: MqttClient,
    private readonly keys: Pick<ReleaseKeyPair, 'privateKeyPem'>,
    firstSequence: number,
  ) {
    this.sequence = firstSequence - 1;
  }

  /** `url` carries the release identity's credentials (see `urlWithCredentials`). */
  static async connect(
    url: string,
    keys: Pick<ReleaseKeyPair, 'privateKeyPem'>,
    firstSequence = 1,
  ): Promise<DocumentPublisher> {
    const client = await mqtt.connectAsync(url, { clientId: `fleet-sim-publisher-${process.pid}` });
    return new DocumentPublisher(client, keys, firstSequence);
  }

  /** A channel release of `apps` to `percent` of the channel's modules. */
  channel(channel: string, name: string, apps: ReleaseApps, percent = 100): Promise<FleetPayload> {
    return this.publish(topics.fleetRelease(channel), {
      ...this.issued(),
      kind: 'release',
      name,
      apps,
      target: { channel, rollout: { percent } },
    });
  }

  pin(module: string, name: string, apps: ReleaseApps): Promise<FleetPayload> {
    return this.publish(topics.release(module), {
      ...this.issued(),
      kind: 'release',
      name,
      apps,
      target: { module },
    });
  }

  /** The cumulative revocation list. */
  revoke(revoked: Array<{ image: string; name: string; reason: string }>): Promise<FleetPayload> {
    return this.publish(topics.fleetRevocations(), { ...this.issued(), kind: 'revocation', revoked });
  }

  unpin(module: string): Promise<FleetPayload> {
    return this.publish(topics.release(module), { ...this.issued(), kind: 'unpin', module });
  }

  async publish<D extends FleetPayload>(topic: string, doc: D): Promise<D> {
    await this.publishRaw(topic, JSON.stringify(signEnvelope(doc, this.keys)));
    return doc;
  }

  /** Publishes a text as it is, retained (e.g. an old envelope again, to show it is refused). */
  async publishRaw(topic: string, text: string): Promise<void> {
    await this.client.publishAsync(topic, text, { qos: 1, retain: true });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  private issued(): { sequence: number; issuedAt: string } {
    return { sequence: ++this.sequence, issuedAt: new Date().toISOString() };
  }
}
