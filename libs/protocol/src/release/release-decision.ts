import { createHash } from 'node:crypto';
import { decodeBase64, DsseEnvelope } from './dsse';
import {
  imageMatchesRevoked,
  RELEASE_APPS,
  type FleetPayload,
  type ReleaseApp,
  type ReleaseDocument,
  type ReleaseImage,
  type RevokedRelease,
} from './fleet-documents';
import { verifyEnvelope } from './release-envelope';
import { isReleaseError, type ReleaseErrorCode } from './release-error';
import { trustedKeyFromPem, type TrustedKey } from './release-keys';
import { inRollout } from './rollout';
import { Value } from '@sinclair/typebox/value';

/**
 * Where a document came from. Each retained topic has its slot: `channel` (the fleet channel the
 * module follows), `pin` (the module's own release topic: a pin or an unpin), `revocations`, `keys`.
 */
export type DocumentSlot = 'channel' | 'pin' | 'revocations' | 'keys';
export const DOCUMENT_SLOTS: readonly DocumentSlot[] = ['channel', 'pin', 'revocations', 'keys'];

/** The document a slot accepted last: its sequence, the SHA-256 of its signed payload bytes, the payload. */
export interface AcceptedDocument {
  sequence: number;
  digest: string;
  document: FleetPayload;
}

/** What the decision keeps across restarts, in ONE record (the updater's journal). */
export interface DecisionState {
  /**
   * The lowest sequence accepted at all (inclusive): the installer writes it at install time, it is
   * raised never lowered. A document below it is REPLAYED whatever its slot.
   */
  floor: number;
  slots: Partial<Record<DocumentSlot, AcceptedDocument>>;
  /** Every revoked image ever accepted (a union: revocations are never undone). */
  revoked: RevokedRelease[];
}

/** Durable storage of the decision's state; `save` must be atomic (all of the state or none). */
export interface DecisionStore {
  load(): DecisionState | undefined;
  save(state: DecisionState): void;
}

/** Keeps the state in memory (the fleet simulator, tests). */
export class MemoryDecisionStore implements DecisionStore {
  private state?: DecisionState;
  load(): DecisionState | undefined {
    return this.state && structuredClone(this.state);
  }
  save(state: DecisionState): void {
    this.state = structuredClone(state);
  }
}

/** Why a document was refused: the envelope's verification codes plus the binding and replay checks. */
export type DecisionRejectionCode =
  | ReleaseErrorCode
  /** Sequence not above the slot's accepted one, or below the floor. */
  | 'REPLAYED'
  /** A channel release for another channel than the module follows. */
  | 'WRONG_CHANNEL'
  /** A pin or unpin for another module. */
  | 'WRONG_MODULE'
  /** A document that does not belong on its topic: a channel release as a pin, a pin on a channel, … */
  | 'WRONG_TARGET'
  /** A release naming an image outside the module's configured repository for that app. */
  | 'IMAGE_REPO_MISMATCH'
  /** A release naming a revoked image. */
  | 'REVOKED';

export type DecisionVerdict =
  | { kind: 'accepted'; slot: DocumentSlot; document: FleetPayload }
  | { kind: 'unchanged'; slot: DocumentSlot }
  | {
      kind: 'rejected';
      slot: DocumentSlot;
      code: DecisionRejectionCode;
      message: string;
      sequence?: number;
    };

export type ReleaseRef = ReleaseImage;

export interface ReleaseTargets {
  /** Which release decides: the module's pin, the channel's, or none. */
  source: 'pin' | 'channel' | null;
  release?: ReleaseDocument;
  /** What each app named by the deciding release should run; apps it leaves out are left as they are. */
  apps: Partial<Record<ReleaseApp, ReleaseRef>>;
  /** Apps whose target image is revoked: withheld from `apps`. */
  revokedApps?: ReleaseApp[];
  /** Set when the channel has a release this module is outside the rollout of. */
  outsideRollout?: { percent: number };
}

export interface ReleaseDecisionOptions {
  moduleId: string;
  channel: string;
  /** The keys from configuration (the installer's); an accepted key-set replaces them. */
  trustedKeys: readonly TrustedKey[];
  /** The installer's floor (inclusive): documents with a lower sequence are refused. */
  installFloor?: number;
  /** The repository each managed app's images must come from; apps without one are not checked. */
  imageRepos?: Partial<Record<ReleaseApp, string>>;
  store?: DecisionStore;
}

/**
 * The one release decision of the fleet: what a module runs, from the signed documents on its
 * retained topics. Used by the updater and by the fleet simulator, so the bench measures what the
 * modules run. Rules:
 * - every document is verified against the trusted keys (an accepted key-set replaces them);
 * - binding: a channel release must name this module's channel, a pin or unpin this module;
 * - replay: accepted when its sequence is at least the floor and above its slot's accepted one;
 *   the identical accepted document again is `unchanged`; anything else is REPLAYED;
 * - the pin overrides the channel; an unpin clears it; a channel release applies only inside its
 *   rollout percent; revoked images are never a target;
 * - a refusal changes nothing; an empty (cleared) retained message is ignored.
 */
export class ReleaseDecision {
  private state: DecisionState;
  private keys: readonly TrustedKey[];
  private readonly store: DecisionStore;

  constructor(private readonly options: ReleaseDecisionOptions) {
    this.store = options.store ?? new MemoryDecisionStore();
    const loaded = this.store.load() ?? { floor: 1, slots: {}, revoked: [] };
    const state: DecisionState = {
      floor: Math.max(loaded.floor, options.installFloor ?? 1, 1),
      slots: { ...loaded.slots },
      revoked: [...loaded.revoked],
    };
    // A channel release of another channel (the module was moved) no longer binds this module.
    const channelDoc = state.slots.channel?.document;
    if (channelDoc && !(channelDoc.kind === 'release' && this.isForChannel(channelDoc))) {
      delete state.slots.channel;
    }
    this.state = state;
    this.keys = this.keysOf(state) ?? options.trustedKeys;
    if (state.floor !== loaded.floor || state.slots.channel !== loaded.slots.channel) this.store.save(state);
  }

  /** The keys documents are verified against now. */
  get trustedKeys(): readonly TrustedKey[] {
    return this.keys;
  }

  get floor(): number {
    return this.state.floor;
  }

  get snapshot(): Readonly<DecisionState> {
    return this.state;
  }

  /** Whether an image (`repo@sha256:…`) is revoked. */
  isRevoked(image: string): boolean {
    return this.state.revoked.some((r) => imageMatchesRevoked(image, r.image));
  }

  /** Takes the payload of a retained message on the slot's topic. */
  offer(slot: DocumentSlot, message: Buffer | string): DecisionVerdict {
    if (message.length === 0) return { kind: 'unchanged', slot };
    const accepted = this.state.slots[slot];
    const digest = payloadDigest(message);
    if (accepted && digest === accepted.digest) return { kind: 'unchanged', slot };

    let document: FleetPayload;
    try {
      document = verifyEnvelope(message, this.keys);
    } catch (error) {
      if (isReleaseError(error)) return reject(slot, error.code, error.message);
      throw error;
    }
    const { sequence } = document;
    const binding = this.bindingError(slot, document);
    if (binding) return reject(slot, binding.code, binding.message, sequence);

    const above = Math.max(this.state.floor - 1, accepted?.sequence ?? 0);
    if (sequence <= above) {
      const why =
        accepted && accepted.sequence >= this.state.floor
          ? `not above the ${slot} document already accepted (${accepted.sequence})`
          : `below this module's floor ${this.state.floor}`;
      return reject(slot, 'REPLAYED', `sequence ${sequence} is ${why}`, sequence);
    }

    const next: DecisionState = structuredClone(this.state);
    next.slots[slot] = { sequence, digest: digest!, document };
    if (document.kind === 'revocation') {
      for (const r of document.revoked) {
        if (!next.revoked.some((known) => known.image === r.image)) next.revoked.push(r);
      }
    }
    let keys = this.keys;
    if (document.kind === 'key-set') {
      try {
        keys = document.keys.map((pem, i) => trustedKeyFromPem(pem, `key-set ${sequence} #${i + 1}`));
      } catch (error) {
        if (isReleaseError(error)) return reject(slot, error.code, error.message, sequence);
        throw error;
      }
    }
    this.store.save(next);
    this.state = next;
    this.keys = keys;
    return { kind: 'accepted', slot, document };
  }

  /** What the module should run now. */
  targets(): ReleaseTargets {
    const pin = this.state.slots.pin?.document;
    if (pin?.kind === 'release') return this.targetsOf('pin', pin);
    const channel = this.state.slots.channel?.document;
    if (channel?.kind !== 'release' || !('channel' in channel.target)) return { source: null, apps: {} };
    const { percent } = channel.target.rollout;
    if (!inRollout(this.options.moduleId, percent)) {
      return { source: null, apps: {}, outsideRollout: { percent } };
    }
    return this.targetsOf('channel', channel);
  }

  private targetsOf(source: 'pin' | 'channel', release: ReleaseDocument): ReleaseTargets {
    const apps: ReleaseTargets['apps'] = {};
    const revokedApps: ReleaseApp[] = [];
    for (const app of RELEASE_APPS) {
      const ref = release.apps[app];
      if (!ref) continue;
      if (this.isRevoked(ref.image)) revokedApps.push(app);
      else apps[app] = { version: ref.version, image: ref.image };
    }
    return { source, release, apps, ...(revokedApps.length > 0 ? { revokedApps } : {}) };
  }

  private bindingError(
    slot: DocumentSlot,
    document: FleetPayload,
  ): { code: DecisionRejectionCode; message: string } | null {
    const { moduleId, channel } = this.options;
    const misplaced = {
      code: 'WRONG_TARGET' as const,
      message: `a ${describe(document)} does not belong on the ${slot} topic`,
    };
    switch (slot) {
      case 'channel':
        if (document.kind !== 'release' || !('channel' in document.target)) return misplaced;
        if (!this.isForChannel(document)) {
          return {
            code: 'WRONG_CHANNEL',
            message: `the release is for channel ${document.target.channel}, this module follows ${channel}`,
          };
        }
        return this.releaseError(document);
      case 'pin': {
        const module =
          document.kind === 'unpin'
            ? document.module
            : document.kind === 'release' && 'module' in document.target
              ? document.target.module
              : undefined;
        if (module === undefined) return misplaced;
        if (module !== moduleId) {
          return {
            code: 'WRONG_MODULE',
            message: `the ${document.kind} is for module ${module}, this is ${moduleId}`,
          };
        }
        return document.kind === 'release' ? this.releaseError(document) : null;
      }
      case 'revocations':
        return document.kind === 'revocation' ? null : misplaced;
      case 'keys':
        return document.kind === 'key-set' ? null : misplaced;
    }
  }

  private releaseError(release: ReleaseDocument): { code: DecisionRejectionCode; message: string } | null {
    for (const app of RELEASE_APPS) {
      const ref = release.apps[app];
      const repo = this.options.imageRepos?.[app];
      if (!ref) continue;
      if (repo && !ref.image.startsWith(`${repo}@sha256:`)) {
        return {
          code: 'IMAGE_REPO_MISMATCH',
          message: `the ${app} image ${ref.image} is not from the trusted repository ${repo}`,
        };
      }
      if (this.isRevoked(ref.image)) {
        return { code: 'REVOKED', message: `the ${app} image ${ref.image} of ${release.name} is revoked` };
      }
    }
    return null;
  }

  private isForChannel(release: ReleaseDocument): boolean {
    return 'channel' in release.target && release.target.channel === this.options.channel;
  }

  private keysOf(state: DecisionState): TrustedKey[] | undefined {
    const doc = state.slots.keys?.document;
    if (doc?.kind !== 'key-set') return undefined;
    return doc.keys.map((pem, i) => trustedKeyFromPem(pem, `key-set ${doc.sequence} #${i + 1}`));
  }
}

function reject(
  slot: DocumentSlot,
  code: DecisionRejectionCode,
  message: string,
  sequence?: number,
): DecisionVerdict {
  return { kind: 'rejected', slot, code, message, ...(sequence === undefined ? {} : { sequence }) };
}

function describe(document: FleetPayload): string {
  if (document.kind !== 'release') return `${document.kind} document`;
  return 'module' in document.target ? 'pin (a release for one module)' : 'channel release';
}

/** SHA-256 (hex) of an envelope's signed payload bytes, or undefined when it is not an envelope. */
export function payloadDigest(message: Buffer | string): string | undefined {
  try {
    const envelope: unknown = JSON.parse(Buffer.from(message).toString('utf8'));
    if (!Value.Check(DsseEnvelope, envelope)) return undefined;
    const body = decodeBase64(envelope.payload);
    return body ? createHash('sha256').update(body).digest('hex') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The floor to give a module installed now: the lowest sequence among the documents currently
 * retained for the fleet (its channel's release, the revocations, the key-set), so the new module
 * accepts them and refuses everything older.
 */
export function installFloorOf(current: ReadonlyArray<Pick<FleetPayload, 'sequence'>>): number {
  return current.length === 0 ? 1 : Math.min(...current.map((d) => d.sequence));
}
