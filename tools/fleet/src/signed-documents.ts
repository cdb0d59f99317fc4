import {
  decodeEnvelopePayload,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type FleetPayload,
  type TrustedKey,
} from '@growoff/protocol';
import type { SigningKey } from './fleet-config';
import type { MqttSession } from './mqtt-session';
import type { ReleaseStore } from './release-store';

/** A retained document as found on the broker: what it claims, and what verifies. */
export interface RetainedDocument {
  topic: string;
  envelope: unknown;
  /** The sequence it claims (unverified); 0 when there is none or it cannot be read. */
  sequence: number;
  /** The payload when it verifies against the keys given, else undefined (see `error`). */
  payload?: FleetPayload;
  error?: Error;
}

export function parseRetained(topic: string, raw: Buffer, keys: TrustedKey[]): RetainedDocument {
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw.toString('utf8'));
  } catch {
    return { topic, envelope: raw.toString('utf8'), sequence: 0, error: new Error('not JSON') };
  }
  const document: RetainedDocument = { topic, envelope, sequence: claimedSequence(envelope) };
  try {
    document.payload = verifyEnvelope(envelope, keys);
  } catch (error) {
    document.error = error as Error;
  }
  return document;
}

export async function readRetainedDocument(
  session: MqttSession,
  topic: string,
  keys: TrustedKey[],
): Promise<RetainedDocument | null> {
  const raw = await session.readRetained(topic);
  return raw ? parseRetained(topic, raw, keys) : null;
}

/** Every retained document under a filter (e.g. all channels), by topic. */
export async function readRetainedDocuments(
  session: MqttSession,
  filter: string,
  keys: TrustedKey[],
): Promise<RetainedDocument[]> {
  const found = await session.readRetainedAll(filter);
  return [...found].map(([topic, raw]) => parseRetained(topic, raw, keys));
}

/** What a command signs: a payload without its number and time, which the store and clock give. */
export type UnsequencedPayload = FleetPayload extends infer P
  ? P extends FleetPayload
    ? Omit<P, 'sequence' | 'issuedAt'>
    : never
  : never;

/**
 * Signs a document with the next number of the fleet counter (above `seen`, what the broker
 * retains on the topic) and retains it on its topic.
 */
export async function signAndPublish(
  context: { session: MqttSession; store: ReleaseStore; key: SigningKey; issuedAt: string },
  topic: string,
  document: UnsequencedPayload,
  seen = 0,
): Promise<{ payload: FleetPayload; envelope: DsseEnvelope }> {
  const payload = {
    ...document,
    sequence: context.store.next(seen),
    issuedAt: context.issuedAt,
  } as FleetPayload;
  const envelope = sign(payload, context.key);
  await context.session.publish(topic, JSON.stringify(envelope), true);
  return { payload, envelope };
}

export function sign(payload: FleetPayload, key: SigningKey): DsseEnvelope {
  return signEnvelope(payload, { privateKeyPem: key.privateKey, keyid: key.keyid });
}

function claimedSequence(envelope: unknown): number {
  try {
    const payload = decodeEnvelopePayload(envelope) as { sequence?: unknown };
    return typeof payload.sequence === 'number' &&
      Number.isSafeInteger(payload.sequence) &&
      payload.sequence > 0
      ? payload.sequence
      : 0;
  } catch {
    return 0;
  }
}
