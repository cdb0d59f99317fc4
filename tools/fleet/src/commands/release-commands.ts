import { writeFileSync } from 'node:fs';
import {
  installFloorOf,
  isValidTopicSegment,
  topics,
  verifyEnvelope,
  type DsseEnvelope,
  type FleetPayload,
  type ReleaseApps,
  type ReleaseDocument,
} from '@growoff/protocol';
import { nowIso, resolvePath, type CliIo } from '../cli-io';
import { signingKeyOf, trustedKeysOf } from '../fleet-config';
import {
  asRelease,
  describeApps,
  fleetContext,
  recordRelease,
  type FleetContext,
  type StoreFlags,
} from '../fleet-context';
import { FleetError } from '../fleet-error';
import type { MqttSession } from '../mqtt-session';
import {
  draftOf,
  hasReleaseDescription,
  percentOf,
  readEnvelopeFile,
  releaseNameOf,
  type ReleaseFlags,
} from '../release-source';
import { ReleaseStore } from '../release-store';
import { readRetainedDocument, sign, signAndPublish } from '../signed-documents';

export type ReleaseCommandFlags = StoreFlags & ReleaseFlags & { release?: string };
export type PublishFlags = ReleaseCommandFlags & { channel?: string };
export type PinFlags = ReleaseCommandFlags & { module?: string };
export type RolloutFlags = StoreFlags & { channel?: string; percent?: string; force?: boolean };
export type SignFlags = ReleaseCommandFlags & {
  out?: string;
  channel?: string;
  module?: string;
  sequence?: string;
};

export interface PublishResult {
  topic: string;
  payload: FleetPayload;
  envelope: DsseEnvelope;
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

/** Module ids from --module (comma-separated for several). */
export function modulesOf(flags: { module?: string }): string[] {
  if (!flags.module) throw new FleetError('FLEET_USAGE', '--module is required');
  const ids = flags.module.split(',').map((m) => m.trim());
  for (const id of ids) {
    if (!isValidTopicSegment(id)) {
      throw new FleetError('FLEET_BAD_OPTION', `--module is not a module id (one topic level), got '${id}'`);
    }
  }
  return ids;
}

/**
 * The name and apps a command releases: a stored release (--release NAME) or one described by
 * the options (--name and the apps). Checked before anything is read from the broker.
 */
function releaseOf(
  context: FleetContext,
  flags: ReleaseCommandFlags,
): { name: string; apps: Partial<ReleaseApps>; notes?: string; stored: boolean } {
  if (flags.release !== undefined) {
    if (hasReleaseDescription(flags)) {
      throw new FleetError(
        'FLEET_USAGE',
        '--release names a stored release: it cannot be combined with app options',
      );
    }
    const name = releaseNameOf(flags.release, '--release');
    const stored = context.store.release(name);
    if (!stored) throw new FleetError('FLEET_NO_RELEASE', `the release store has no release ${name}`);
    return { name, apps: stored.apps, notes: flags.notes, stored: true };
  }
  const draft = draftOf(context.io, flags);
  if (Object.keys(draft.apps).length === 0) {
    throw new FleetError('FLEET_USAGE', 'say which release: --release NAME, or --name and the apps it sets');
  }
  return { name: releaseNameOf(draft.name), apps: draft.apps, notes: draft.notes, stored: false };
}

/**
 * publish --channel C --percent P: the channel's release. Apps the release does not name are
 * carried over from the channel's current release, so a Telegraf-only release keeps the core.
 */
export async function publishCommand(
  io: CliIo,
  session: MqttSession,
  flags: PublishFlags,
): Promise<PublishResult> {
  const channel = channelOf(flags, true)!;
  const topic = topics.fleetRelease(channel);
  if (flags.envelope !== undefined) return publishEnvelope(io, session, flags, channel, topic);
  const context = fleetContext(io, session, flags);
  const release = releaseOf(context, flags);
  if (flags.percent === undefined)
    throw new FleetError('FLEET_USAGE', 'say how far to roll it out (--percent 0..100)');
  const percent = percentOf(flags.percent);
  return publishToChannel(context, flags, { ...release, channel, percent });
}

/** Signs a channel release (apps carried over from the channel's current one) and records it. */
export async function publishToChannel(
  context: FleetContext,
  flags: StoreFlags,
  release: {
    name: string;
    apps: Partial<ReleaseApps>;
    notes?: string;
    channel: string;
    percent: number;
    promotedFrom?: string;
    commit?: string;
  },
): Promise<PublishResult> {
  const topic = topics.fleetRelease(release.channel);
  const current = await readRetainedDocument(context.session, topic, context.keys);
  const previous = asRelease(current?.payload);
  const carried = Object.keys(previous?.apps ?? {}).filter((app) => !(app in release.apps));
  const apps = { ...previous?.apps, ...release.apps } as ReleaseApps;
  recordRelease(context, flags, {
    name: release.name,
    apps: release.apps as ReleaseApps,
    channels: [release.channel],
    promotedFrom: release.promotedFrom,
    commit: release.commit,
  });
  const { payload, envelope } = await signAndPublish(
    context,
    topic,
    {
      kind: 'release',
      name: release.name,
      apps,
      target: { channel: release.channel, rollout: { percent: release.percent } },
      ...(release.notes ? { notes: release.notes } : {}),
    },
    current?.sequence ?? 0,
  );
  context.io.out(
    `published ${release.name} to channel ${release.channel} at ${release.percent}% (sequence ${payload.sequence})\n` +
      `${describeApps(apps)}\n` +
      (carried.length > 0 ? `  (${carried.join(', ')} carried over from ${previous!.name})\n` : ''),
  );
  return { topic, payload, envelope };
}

/** A pre-signed envelope, published as is once it verifies and would not be refused as a replay. */
async function publishEnvelope(
  io: CliIo,
  session: MqttSession,
  flags: ReleaseCommandFlags,
  channel: string,
  topic: string,
): Promise<PublishResult> {
  if (hasReleaseDescription(flags) || flags.release !== undefined) {
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
  const envelope = readEnvelopeFile(io, flags.envelope!);
  const payload = verifyEnvelope(envelope, keys);
  const release = asRelease(payload);
  if (!release || !('channel' in release.target) || release.target.channel !== channel) {
    throw new FleetError('FLEET_BAD_OPTION', `the envelope is not a release for channel '${channel}'`);
  }
  const current = await readRetainedDocument(session, topic, keys);
  if (payload.sequence <= (current?.sequence ?? 0)) {
    throw new FleetError(
      'FLEET_STALE_SEQUENCE',
      `the envelope's sequence ${payload.sequence} is not above the retained ${current?.sequence}; modules would refuse it`,
    );
  }
  await session.publish(topic, JSON.stringify(envelope), true);
  io.out(`published ${release.name} to channel ${channel} (pre-signed, sequence ${payload.sequence})\n`);
  return { topic, payload, envelope };
}

/** pin --module ID[,ID]: a release for those modules only, overriding their channel. */
export async function pinCommand(io: CliIo, session: MqttSession, flags: PinFlags): Promise<PublishResult[]> {
  const modules = modulesOf(flags);
  const context = fleetContext(io, session, flags);
  const release = releaseOf(context, flags);
  return pinModules(context, flags, release, modules);
}

export async function pinModules(
  context: FleetContext,
  flags: StoreFlags,
  release: { name: string; apps: Partial<ReleaseApps>; notes?: string },
  modules: string[],
): Promise<PublishResult[]> {
  recordRelease(context, flags, { name: release.name, apps: release.apps as ReleaseApps, pinned: modules });
  const results: PublishResult[] = [];
  for (const module of modules) {
    const topic = topics.release(module);
    const current = await readRetainedDocument(context.session, topic, context.keys);
    const { payload, envelope } = await signAndPublish(
      context,
      topic,
      {
        kind: 'release',
        name: release.name,
        apps: release.apps as ReleaseApps,
        target: { module },
        ...(release.notes ? { notes: release.notes } : {}),
      },
      current?.sequence ?? 0,
    );
    context.io.out(`pinned module ${module} to ${release.name} (sequence ${payload.sequence})\n`);
    results.push({ topic, payload, envelope });
  }
  context.io.out(`${describeApps(release.apps as ReleaseApps)}\n`);
  return results;
}

/** unpin --module ID[,ID]: a signed unpin, retained, so a module offline now takes it when it is back. */
export async function unpinCommand(
  io: CliIo,
  session: MqttSession,
  flags: StoreFlags & { module?: string },
): Promise<PublishResult[]> {
  const modules = modulesOf(flags);
  const context = fleetContext(io, session, flags);
  const results: PublishResult[] = [];
  for (const module of modules) {
    const topic = topics.release(module);
    const current = await readRetainedDocument(session, topic, context.keys);
    const { payload, envelope } = await signAndPublish(
      context,
      topic,
      { kind: 'unpin', module },
      current?.sequence ?? 0,
    );
    io.out(`unpinned module ${module}: it follows its channel again (sequence ${payload.sequence})\n`);
    results.push({ topic, payload, envelope });
  }
  return results;
}

/**
 * rollout --channel C --percent P: the channel's release again, re-signed at P% with the next
 * sequence. 0 pauses the spread (modules that updated stay); another narrowing needs --force.
 */
export async function rolloutCommand(
  io: CliIo,
  session: MqttSession,
  flags: RolloutFlags,
): Promise<PublishResult> {
  const channel = channelOf(flags, true)!;
  if (flags.percent === undefined) throw new FleetError('FLEET_USAGE', '--percent is required');
  const percent = percentOf(flags.percent);
  const context = fleetContext(io, session, flags);
  const topic = topics.fleetRelease(channel);
  const current = await readRetainedDocument(session, topic, context.keys);
  if (!current) throw new FleetError('FLEET_NO_RELEASE', `channel ${channel} has no release to roll out`);
  const previous = asRelease(current.payload);
  if (!previous || !('channel' in previous.target)) {
    throw new FleetError(
      'FLEET_NO_RELEASE',
      `the release on channel ${channel} does not verify with the trusted keys (${current.error?.message ?? 'not a channel release'}); publish a new one`,
    );
  }
  const before = previous.target.rollout.percent;
  if (percent < before && percent !== 0 && !flags.force) {
    throw new FleetError(
      'FLEET_ROLLOUT_NARROWING',
      `channel ${channel} is at ${before}%; narrowing to ${percent}% does not downgrade modules (pass --force to do it anyway, or 0 to pause)`,
    );
  }
  const { payload, envelope } = await signAndPublish(
    context,
    topic,
    { ...withoutSequence(previous), target: { channel, rollout: { percent } } },
    current.sequence,
  );
  io.out(
    `rolled out ${previous.name} on channel ${channel}: ${before}% → ${percent}% (sequence ${payload.sequence})\n`,
  );
  return { topic, payload, envelope };
}

function withoutSequence(release: ReleaseDocument): Omit<ReleaseDocument, 'sequence' | 'issuedAt'> {
  const { sequence: _sequence, issuedAt: _issuedAt, ...rest } = release;
  return rest;
}

/** sign: a release document offline (no broker), for a channel or a module, into a file or stdout. */
export function signCommand(io: CliIo, flags: SignFlags): DsseEnvelope {
  const key = signingKeyOf(io, flags);
  const draft = draftOf(io, flags);
  if (Object.keys(draft.apps).length === 0)
    throw new FleetError('FLEET_USAGE', 'the release needs at least one app');
  const name = releaseNameOf(draft.name);
  const channel = channelOf(flags, false);
  if ((channel === undefined) === (flags.module === undefined)) {
    throw new FleetError(
      'FLEET_USAGE',
      'say where the release goes: --channel C --percent P, or --module ID',
    );
  }
  let target: ReleaseDocument['target'];
  if (channel !== undefined) {
    if (flags.percent === undefined)
      throw new FleetError('FLEET_USAGE', 'say how far to roll it out (--percent 0..100)');
    target = { channel, rollout: { percent: percentOf(flags.percent) } };
  } else {
    target = { module: modulesOf(flags)[0]! };
  }
  const sequence =
    flags.sequence === undefined
      ? ReleaseStore.open(io, flags).next()
      : integerOf(flags.sequence, '--sequence');
  const payload: ReleaseDocument = {
    kind: 'release',
    sequence,
    issuedAt: nowIso(io),
    name,
    apps: draft.apps as ReleaseApps,
    target,
    ...(draft.notes ? { notes: draft.notes } : {}),
  };
  const envelope = sign(payload, key);
  const text = JSON.stringify(envelope, null, 2) + '\n';
  if (flags.out) {
    writeFileSync(resolvePath(io, flags.out), text);
    io.err(`signed ${name} (sequence ${sequence}) → ${flags.out}\n`);
  } else {
    io.out(text);
  }
  return envelope;
}

/**
 * floor --channel C: the replay floor the base installer writes for a new module of channel C —
 * the lowest sequence of the documents it must still accept (the channel's release, the
 * revocation list, the key set, as retained now), or the counter's next number when none is.
 */
export async function floorCommand(
  io: CliIo,
  session: MqttSession,
  flags: StoreFlags & { channel?: string },
): Promise<number> {
  const channel = channelOf(flags, true)!;
  const store = ReleaseStore.open(io, flags);
  const keys = trustedKeysOf(
    io,
    flags,
    flags.key || io.env.GROWOFF_RELEASE_SIGNING_KEY ? signingKeyOf(io, flags) : undefined,
  );
  const current: FleetPayload[] = [];
  for (const topic of [topics.fleetRelease(channel), topics.fleetRevocations(), topics.fleetKeys()]) {
    const document = await readRetainedDocument(session, topic, keys);
    if (document?.payload) current.push(document.payload);
  }
  const floor = current.length > 0 ? installFloorOf(current) : store.sequence() + 1;
  io.out(`${floor}\n`);
  return floor;
}

function integerOf(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new FleetError('FLEET_BAD_OPTION', `${option} must be a positive integer, got '${text}'`);
  }
  return value;
}
