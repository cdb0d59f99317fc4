import { createHash } from 'node:crypto';
import {
  inRollout,
  isReleaseError,
  verifyEnvelope,
  type ReleasePayload,
  type TrustedKey,
} from '@growoff/protocol';
import type { AcceptedSequence, ManagedAppId, ReleaseRef } from '../journal/update-journal';

export type ReleaseSource = 'channel' | 'pin';

/** Why an envelope was refused: the protocol's verification codes plus the updater's own checks. */
export type ReleaseRejectionCode =
  | 'UNSIGNED'
  | 'BAD_SIGNATURE'
  | 'UNTRUSTED_KEY'
  | 'MALFORMED'
  | 'BAD_PAYLOAD'
  | 'REPLAYED'
  | 'WRONG_CHANNEL'
  | 'IMAGE_REPO_MISMATCH';

export type ReleaseVerdict =
  | { kind: 'accepted'; payload: ReleasePayload }
  | { kind: 'unchanged' }
  | { kind: 'cleared' }
  | { kind: 'rejected'; code: ReleaseRejectionCode; message: string; sequence?: number };

export interface SequenceStore {
  sequence(source: string): AcceptedSequence | undefined;
  setSequence(source: string, accepted: AcceptedSequence): void;
}

export interface DesiredReleaseOptions {
  moduleId: string;
  channel: string;
  trustedKeys: readonly TrustedKey[];
  imageRepos: Partial<Record<ManagedAppId, string>>;
  sequences: SequenceStore;
}

export interface DesiredTargets {
  source: ReleaseSource | null;
  core?: ReleaseRef;
  telegraf?: ReleaseRef;
  /** The payload that decided the targets, for status and events. */
  release?: ReleasePayload;
  /** Set when the channel has a release this module is outside the rollout of. */
  outsideRollout?: { percent: number };
}

/**
 * What this module should run, from the retained release envelopes: the module's pin overrides the
 * fleet channel, and a channel release applies only when the module's rollout bucket is under its
 * percent. Every envelope is verified against the trusted keys; a replayed (lower sequence) one is
 * refused. Refusals change nothing.
 */
export class DesiredRelease {
  private readonly accepted = new Map<ReleaseSource, ReleasePayload>();

  constructor(private readonly options: DesiredReleaseOptions) {}

  /** Takes the payload of a message on the channel or pin topic (empty: the retained release was cleared). */
  offer(source: ReleaseSource, message: Buffer | string): ReleaseVerdict {
    if (message.length === 0) {
      if (!this.accepted.has(source)) return { kind: 'unchanged' };
      this.accepted.delete(source);
      return { kind: 'cleared' };
    }
    let payload: ReleasePayload;
    try {
      payload = verifyEnvelope(message, this.options.trustedKeys);
    } catch (error) {
      if (isReleaseError(error)) {
        return { kind: 'rejected', code: error.code as ReleaseRejectionCode, message: error.message };
      }
      throw error;
    }
    const sequence = payload.sequence;
    if (source === 'channel' && payload.channel !== this.options.channel) {
      return {
        kind: 'rejected',
        code: 'WRONG_CHANNEL',
        message: `the release is for channel ${payload.channel}, this module follows ${this.options.channel}`,
        sequence,
      };
    }
    const mismatch = this.repoMismatch(payload);
    if (mismatch) return { kind: 'rejected', code: 'IMAGE_REPO_MISMATCH', message: mismatch, sequence };

    const key = this.sequenceKey(source);
    const digest = createHash('sha256').update(JSON.stringify(payload)).digest('hex');
    const last = this.options.sequences.sequence(key);
    if (last && (sequence < last.sequence || (sequence === last.sequence && digest !== last.digest))) {
      return {
        kind: 'rejected',
        code: 'REPLAYED',
        message: `sequence ${sequence} is not above the accepted ${last.sequence}`,
        sequence,
      };
    }
    const known = this.accepted.get(source);
    this.accepted.set(source, payload);
    if (last?.sequence === sequence && known) return { kind: 'unchanged' };
    if (last?.sequence !== sequence) this.options.sequences.setSequence(key, { sequence, digest });
    return { kind: 'accepted', payload };
  }

  targets(): DesiredTargets {
    const pin = this.accepted.get('pin');
    if (pin) return { source: 'pin', release: pin, ...refsOf(pin) };
    const channel = this.accepted.get('channel');
    if (!channel) return { source: null };
    if (!inRollout(this.options.moduleId, channel.rollout.percent)) {
      return { source: null, outsideRollout: { percent: channel.rollout.percent } };
    }
    return { source: 'channel', release: channel, ...refsOf(channel) };
  }

  private sequenceKey(source: ReleaseSource): string {
    return source === 'pin' ? 'pin' : `channel:${this.options.channel}`;
  }

  private repoMismatch(payload: ReleasePayload): string | null {
    const refs = refsOf(payload);
    for (const app of ['core', 'telegraf'] as const) {
      const ref = refs[app];
      const repo = this.options.imageRepos[app];
      if (!ref) continue;
      if (!repo) {
        if (app === 'telegraf') continue;
        return `this module does not manage ${app}`;
      }
      if (!ref.image.startsWith(`${repo}@sha256:`)) {
        return `the ${app} image ${ref.image} is not from the trusted repository ${repo}`;
      }
    }
    return null;
  }
}

function refsOf(payload: ReleasePayload): { core?: ReleaseRef; telegraf?: ReleaseRef } {
  if (payload.app === 'telegraf') return { telegraf: { version: payload.version, image: payload.image } };
  return {
    core: { version: payload.version, image: payload.image },
    telegraf: payload.telegraf
      ? { version: payload.telegraf.version, image: payload.telegraf.image }
      : undefined,
  };
}
