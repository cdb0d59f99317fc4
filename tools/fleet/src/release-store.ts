import {
  decodeEnvelopePayload,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type ReleasePayload,
  type TrustedKey,
} from '@growoff/protocol';
import type { SigningKey } from './fleet-config';
import type { MqttSession } from './mqtt-session';

/** What is retained on a release topic now. */
export interface RetainedRelease {
  envelope: unknown;
  /** The sequence it claims (unverified), 0 when there is none or it cannot be read. */
  sequence: number;
}

export async function readRetainedRelease(
  session: MqttSession,
  topic: string,
): Promise<RetainedRelease | null> {
  const raw = await session.readRetained(topic);
  if (!raw) return null;
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw.toString('utf8'));
  } catch {
    return { envelope: raw.toString('utf8'), sequence: 0 };
  }
  return { envelope, sequence: claimedSequence(envelope) };
}

/**
 * The next sequence for a topic: the time in milliseconds, or one above whatever is retained there
 * (verified or not) if that is higher. Time-based, because modules remember the highest sequence
 * per source: after an unpin clears a pin topic, or a broker loses its retained messages, a count
 * restarting at 1 would be refused as a replay, while the clock has moved on.
 */
export function nextSequence(previous: number, now: Date): number {
  return Math.max(previous + 1, now.getTime());
}

export function verifyRetained(current: RetainedRelease, keys: TrustedKey[]): ReleasePayload {
  return verifyEnvelope(current.envelope, keys);
}

export function sign(payload: ReleasePayload, key: SigningKey): DsseEnvelope {
  return signEnvelope(payload, { privateKeyPem: key.privateKey, keyid: key.keyid });
}

export async function publishRelease(
  session: MqttSession,
  topic: string,
  envelope: DsseEnvelope,
): Promise<void> {
  await session.publish(topic, JSON.stringify(envelope), true);
}

/** An empty retained message removes the retained release (MQTT's way to clear a topic). */
export async function clearRelease(session: MqttSession, topic: string): Promise<void> {
  await session.publish(topic, Buffer.alloc(0), true);
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
