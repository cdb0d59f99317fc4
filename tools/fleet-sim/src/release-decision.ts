import {
  inRollout,
  isReleaseError,
  verifyEnvelope,
  type ReleasePayload,
  type TrustedKey,
} from '@growoff/protocol';

export type ReleaseSource = 'channel' | 'pin';

export type Offer =
  | { kind: 'accepted'; payload: ReleasePayload }
  | { kind: 'unchanged' }
  | { kind: 'cleared' }
  | { kind: 'rejected'; code: string; message: string };

export interface ReleaseTarget {
  version: string;
  image: string;
  source: ReleaseSource;
}

/**
 * What the updater decides from the retained releases, as apps/updater does: every envelope verified
 * against the trusted keys, a lower sequence refused as a replay, the module's pin over the channel,
 * and a channel release only inside its rollout percent.
 */
export class ReleaseDecision {
  private readonly accepted = new Map<ReleaseSource, ReleasePayload>();
  private readonly lastSequence = new Map<ReleaseSource, number>();

  constructor(
    private readonly moduleId: string,
    private readonly channel: string,
    private readonly trustedKeys: readonly TrustedKey[],
  ) {}

  offer(source: ReleaseSource, message: Buffer): Offer {
    if (message.length === 0) {
      return this.accepted.delete(source) ? { kind: 'cleared' } : { kind: 'unchanged' };
    }
    let payload: ReleasePayload;
    try {
      payload = verifyEnvelope(message, this.trustedKeys);
    } catch (error) {
      if (isReleaseError(error)) return { kind: 'rejected', code: error.code, message: error.message };
      throw error;
    }
    if (source === 'channel' && payload.channel !== this.channel) {
      return {
        kind: 'rejected',
        code: 'WRONG_CHANNEL',
        message: `the release is for channel ${payload.channel}, this module follows ${this.channel}`,
      };
    }
    const last = this.lastSequence.get(source) ?? 0;
    if (payload.sequence < last) {
      return {
        kind: 'rejected',
        code: 'REPLAYED',
        message: `sequence ${payload.sequence} is below the accepted ${last}`,
      };
    }
    if (payload.sequence === last && this.accepted.has(source)) return { kind: 'unchanged' };
    this.lastSequence.set(source, payload.sequence);
    this.accepted.set(source, payload);
    return { kind: 'accepted', payload };
  }

  target(): ReleaseTarget | null {
    const pin = this.accepted.get('pin');
    if (pin) return { version: pin.version, image: pin.image, source: 'pin' };
    const channel = this.accepted.get('channel');
    if (!channel || !inRollout(this.moduleId, channel.rollout.percent)) return null;
    return { version: channel.version, image: channel.image, source: 'channel' };
  }
}
