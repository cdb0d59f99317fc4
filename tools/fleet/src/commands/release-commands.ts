import { writeFileSync } from 'node:fs';
import {
  isValidTopicSegment,
  topics,
  verifyEnvelope,
  type DsseEnvelope,
  type ReleasePayload,
} from '@growoff/protocol';
import { clockOf, nowIso, resolvePath, type CliIo } from '../cli-io';
import { signingKeyOf, trustedKeysOf, type CommonFlags } from '../fleet-config';
import { FleetError } from '../fleet-error';
import type { MqttSession } from '../mqtt-session';
import {
  draftOf,
  hasReleaseDescription,
  percentOf,
  readEnvelopeFile,
  type ReleaseDraft,
  type ReleaseFlags,
} from '../release-source';
import {
  clearRelease,
  nextSequence,
  publishRelease,
  readRetainedRelease,
  sign,
  verifyRetained,
} from '../release-store';

export type SignFlags = CommonFlags & ReleaseFlags & { out?: string; channel?: string; sequence?: string };

/** Completes a draft into a payload; missing essentials are FLEET_USAGE, the rest the schema's job. */
function payloadOf(
  draft: ReleaseDraft,
  fixed: { channel?: string; sequence?: number; issuedAt: string; defaultPercent?: number },
): ReleasePayload {
  if (!draft.version) throw new FleetError('FLEET_USAGE', 'the release needs a version (--version)');
  if (!draft.image)
    throw new FleetError('FLEET_USAGE', 'the release needs an image by digest (--image repo@sha256:…)');
  const percent = draft.rollout?.percent ?? fixed.defaultPercent;
  if (percent === undefined) {
    throw new FleetError('FLEET_USAGE', 'say how far to roll it out (--percent 0..100)');
  }
  const channel = fixed.channel ?? draft.channel;
  if (!channel) throw new FleetError('FLEET_USAGE', 'the release needs a channel (--channel)');
  const sequence = fixed.sequence ?? draft.sequence;
  if (sequence === undefined)
    throw new FleetError('FLEET_USAGE', 'the release needs a sequence (--sequence)');
  return {
    ...draft,
    app: draft.app ?? 'core',
    version: draft.version,
    image: draft.image,
    channel,
    sequence,
    issuedAt: draft.issuedAt ?? fixed.issuedAt,
    rollout: { percent },
  };
}

function integerOf(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new FleetError('FLEET_BAD_OPTION', `${option} must be a positive integer, got '${text}'`);
  }
  return value;
}

/** sign: payload (file and/or flags) → envelope file, offline (no broker). */
export function signCommand(io: CliIo, flags: SignFlags): DsseEnvelope {
  const key = signingKeyOf(io, flags);
  const draft = draftOf(io, flags);
  const payload = payloadOf(draft, {
    channel: flags.channel,
    sequence: flags.sequence === undefined ? undefined : integerOf(flags.sequence, '--sequence'),
    issuedAt: nowIso(io),
  });
  const envelope = sign(payload, key);
  const text = JSON.stringify(envelope, null, 2) + '\n';
  if (flags.out) {
    writeFileSync(resolvePath(io, flags.out), text);
    io.err(
      `signed ${payload.app} ${payload.version} (${payload.channel}, sequence ${payload.sequence}) → ${flags.out}\n`,
    );
  } else {
    io.out(text);
  }
  return envelope;
}

export type PublishFlags = CommonFlags & ReleaseFlags & { channel?: string };

export interface PublishResult {
  topic: string;
  payload: ReleasePayload;
  envelope: DsseEnvelope;
}

/**
 * Puts a release on a topic: a pre-signed --envelope as is (checked against the trusted keys and
 * the retained sequence), or a release built from --payload / flags, signed with the next sequence.
 */
async function putRelease(
  io: CliIo,
  session: MqttSession,
  flags: CommonFlags & ReleaseFlags,
  target: { topic: string; channel: string; defaultPercent?: number; what: string },
): Promise<PublishResult> {
  // The key and the options are checked before anything is read from the broker.
  const source =
    flags.envelope !== undefined
      ? ({ kind: 'envelope', path: flags.envelope } as const)
      : ({ kind: 'draft', key: signingKeyOf(io, flags), draft: draftOf(io, flags) } as const);
  const current = await readRetainedRelease(session, target.topic);
  let envelope: DsseEnvelope;
  let payload: ReleasePayload;
  if (source.kind === 'envelope') {
    if (hasReleaseDescription(flags)) {
      throw new FleetError(
        'FLEET_USAGE',
        '--envelope is already signed: it cannot be combined with release options',
      );
    }
    const signing = flags.key || io.env.GROWOFF_RELEASE_SIGNING_KEY ? signingKeyOf(io, flags) : undefined;
    const keys = trustedKeysOf(io, flags, signing);
    if (keys.length === 0) {
      throw new FleetError(
        'FLEET_USAGE',
        'checking a pre-signed envelope needs the trusted keys (--trusted-keys or GROWOFF_RELEASE_KEYS)',
      );
    }
    envelope = readEnvelopeFile(io, source.path);
    payload = verifyEnvelope(envelope, keys);
    if (payload.channel !== target.channel) {
      throw new FleetError(
        'FLEET_BAD_OPTION',
        `the envelope is for channel '${payload.channel}', not '${target.channel}'`,
      );
    }
    if (payload.sequence <= (current?.sequence ?? 0)) {
      throw new FleetError(
        'FLEET_STALE_SEQUENCE',
        `the envelope's sequence ${payload.sequence} is not above the retained ${current?.sequence}; modules would refuse it`,
      );
    }
  } else {
    payload = payloadOf(source.draft, {
      channel: target.channel,
      sequence: nextSequence(current?.sequence ?? 0, clockOf(io)),
      issuedAt: nowIso(io),
      defaultPercent: target.defaultPercent,
    });
    envelope = sign(payload, source.key);
  }
  await publishRelease(session, target.topic, envelope);
  io.out(
    `${target.what}: ${payload.app} ${payload.version} ${payload.image}\n` +
      `  sequence ${payload.sequence}, rollout ${payload.rollout.percent}%, keyid ${envelope.signatures[0]?.keyid}\n`,
  );
  return { topic: target.topic, payload, envelope };
}

export function channelOf(flags: { channel?: string }, required: boolean): string | undefined {
  const channel = flags.channel;
  if (channel === undefined) {
    if (required) throw new FleetError('FLEET_USAGE', '--channel is required');
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(channel)) {
    throw new FleetError(
      'FLEET_BAD_OPTION',
      `--channel must be lowercase letters, digits, '.', '_' or '-', got '${channel}'`,
    );
  }
  return channel;
}

function moduleOf(flags: { module?: string }): string {
  if (!flags.module) throw new FleetError('FLEET_USAGE', '--module is required');
  if (!isValidTopicSegment(flags.module)) {
    throw new FleetError(
      'FLEET_BAD_OPTION',
      `--module is not a module id (one topic level), got '${flags.module}'`,
    );
  }
  return flags.module;
}

/** publish --channel C: the channel's retained release, with the next sequence. */
export async function publishCommand(
  io: CliIo,
  session: MqttSession,
  flags: PublishFlags,
): Promise<PublishResult> {
  const channel = channelOf(flags, true)!;
  return putRelease(io, session, flags, {
    topic: topics.fleetRelease(channel),
    channel,
    what: `published to channel ${channel}`,
  });
}

export type PinFlags = PublishFlags & { module?: string };

/** pin --module ID: a retained release for one module that overrides its channel (rollout 100 %). */
export async function pinCommand(io: CliIo, session: MqttSession, flags: PinFlags): Promise<PublishResult> {
  const moduleId = moduleOf(flags);
  const channel = channelOf(flags, false) ?? 'pinned';
  return putRelease(io, session, flags, {
    topic: topics.release(moduleId),
    channel,
    defaultPercent: 100,
    what: `pinned module ${moduleId}`,
  });
}

/** unpin --module ID: clears the module's retained release, so its channel applies again. */
export async function unpinCommand(
  io: CliIo,
  session: MqttSession,
  flags: { module?: string },
): Promise<void> {
  const moduleId = moduleOf(flags);
  await clearRelease(session, topics.release(moduleId));
  io.out(`unpinned module ${moduleId}: it follows its channel again\n`);
}

export type RolloutFlags = CommonFlags & { channel?: string; percent?: string; force?: boolean };

/** rollout --channel C --percent P: re-signs the channel's release wider, with a higher sequence. */
export async function rolloutCommand(
  io: CliIo,
  session: MqttSession,
  flags: RolloutFlags,
): Promise<PublishResult> {
  const channel = channelOf(flags, true)!;
  if (flags.percent === undefined) throw new FleetError('FLEET_USAGE', '--percent is required');
  const percent = percentOf(flags.percent);
  const key = signingKeyOf(io, flags);
  const topic = topics.fleetRelease(channel);
  const current = await readRetainedRelease(session, topic);
  if (!current) throw new FleetError('FLEET_NO_RELEASE', `channel ${channel} has no release to roll out`);
  let previous: ReleasePayload;
  try {
    previous = verifyRetained(current, trustedKeysOf(io, flags, key));
  } catch (error) {
    throw new FleetError(
      'FLEET_NO_RELEASE',
      `the release on channel ${channel} does not verify with the trusted keys (${(error as Error).message}); publish a new one`,
    );
  }
  if (percent < previous.rollout.percent && !flags.force) {
    throw new FleetError(
      'FLEET_ROLLOUT_NARROWING',
      `channel ${channel} is at ${previous.rollout.percent}%; narrowing to ${percent}% does not downgrade modules (pass --force to do it anyway)`,
    );
  }
  const payload: ReleasePayload = {
    ...previous,
    rollout: { percent },
    sequence: nextSequence(Math.max(previous.sequence, current.sequence), clockOf(io)),
    issuedAt: nowIso(io),
  };
  const envelope = sign(payload, key);
  await publishRelease(session, topic, envelope);
  io.out(
    `rolled out ${payload.app} ${payload.version} on channel ${channel}: ${previous.rollout.percent}% → ${percent}% (sequence ${payload.sequence})\n`,
  );
  return { topic, payload, envelope };
}
