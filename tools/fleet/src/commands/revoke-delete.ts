import {
  imageMatchesRevoked,
  RELEASE_APPS,
  TOPIC_ROOT,
  topics,
  type ReleaseApp,
  type RevocationDocument,
  type RevokedRelease,
} from '@growoff/protocol';
import type { CliIo } from '../cli-io';
import { EcrImages } from '../ecr-images';
import { asRelease, fleetContext, type FleetContext, type StoreFlags } from '../fleet-context';
import { FleetError } from '../fleet-error';
import { fleetFilters } from '../fleet-topics';
import type { MqttSession } from '../mqtt-session';
import { releaseNameOf } from '../release-source';
import { readRetainedDocument, readRetainedDocuments, signAndPublish } from '../signed-documents';
import type { PublishResult } from './release-commands';

export type RevokeFlags = StoreFlags & { release?: string; app?: string; reason?: string };

/** The images of a stored release, all or those of --app A[,A]. */
function releaseImages(
  context: FleetContext,
  flags: { release?: string; app?: string },
): { name: string; images: string[] } {
  const name = releaseNameOf(flags.release, '--release');
  const release = context.store.release(name);
  if (!release) throw new FleetError('FLEET_NO_RELEASE', `the release store has no release ${name}`);
  const apps =
    flags.app === undefined ? RELEASE_APPS : (flags.app.split(',').map((a) => a.trim()) as ReleaseApp[]);
  for (const app of apps) {
    if (!RELEASE_APPS.includes(app)) {
      throw new FleetError(
        'FLEET_BAD_OPTION',
        `--app must be among ${RELEASE_APPS.join(', ')}, got '${app}'`,
      );
    }
  }
  const images = apps.flatMap((app) => (release.apps[app] ? [release.apps[app]!.image] : []));
  if (images.length === 0)
    throw new FleetError('FLEET_BAD_OPTION', `${name} names none of ${apps.join(', ')}`);
  return { name, images };
}

/**
 * revoke --release NAME --reason TEXT [--app A]: adds the release's images to the signed,
 * cumulative revocation list. Modules never install them again; one running them rolls back.
 */
export async function revokeCommand(
  io: CliIo,
  session: MqttSession,
  flags: RevokeFlags,
): Promise<PublishResult> {
  if (!flags.reason) throw new FleetError('FLEET_USAGE', '--reason is required: modules report it');
  const context = fleetContext(io, session, flags);
  const { name, images } = releaseImages(context, flags);
  const topic = topics.fleetRevocations();
  const current = await readRetainedDocument(session, topic, context.keys);
  const retained =
    (current?.payload as RevocationDocument | undefined)?.kind === 'revocation'
      ? (current!.payload as RevocationDocument).revoked
      : [];
  const revoked: RevokedRelease[] = [];
  for (const entry of [
    ...retained,
    ...context.store.revocations(),
    ...images.map((image) => ({ image, name, reason: flags.reason! })),
  ]) {
    if (!revoked.some((r) => r.image === entry.image)) revoked.push(entry);
  }
  context.store.saveRevocations(revoked);
  const { payload, envelope } = await signAndPublish(
    context,
    topic,
    { kind: 'revocation', revoked },
    current?.sequence ?? 0,
  );
  io.out(
    `revoked ${name}: ${images.join(', ')}\n` +
      `  the revocation list now holds ${revoked.length} image(s) (sequence ${payload.sequence})\n`,
  );
  const naming = await channelsNaming(context, images);
  if (naming.length > 0) {
    io.out(
      `  channel ${naming.join(', ')} still names it: publish a good release there (modules refuse the revoked image)\n`,
    );
  }
  return { topic, payload, envelope };
}

async function channelsNaming(context: FleetContext, images: string[]): Promise<string[]> {
  const channels = await readRetainedDocuments(context.session, fleetFilters.channels, context.keys);
  return channels
    .filter((c) => {
      const release = asRelease(c.payload);
      return (
        release &&
        Object.values(release.apps).some((a) => images.some((i) => imageMatchesRevoked(a!.image, i)))
      );
    })
    .map((c) => c.topic.slice(`${TOPIC_ROOT}/fleet/releases/`.length));
}

/** Which module runs (or is installing) one of the images, from the updaters' retained statuses. */
async function modulesRunning(session: MqttSession, images: string[]): Promise<string[]> {
  const statuses = await session.readRetainedAll(fleetFilters.statuses('updater'));
  const running: string[] = [];
  for (const [topic, raw] of statuses) {
    let status: { apps?: Record<string, { current?: { image?: string }; target?: { image?: string } }> };
    try {
      status = JSON.parse(raw.toString('utf8')) as typeof status;
    } catch {
      continue;
    }
    const used = Object.values(status.apps ?? {}).flatMap((a) => [a.current?.image, a.target?.image]);
    if (used.some((u) => u !== undefined && images.includes(u))) running.push(topic.split('/')[3]!);
  }
  return running;
}

/**
 * The other stored releases that name one of `images`, which is not revoked. ECR deletes an image
 * with all its tags: a candidate's image is its promoted final's too (`promote` tags the same
 * digest), so deleting the candidate would take the final's image with it. A revoked image is dead
 * wherever it is named.
 */
function releasesSharing(context: FleetContext, name: string, images: string[]): string[] {
  const revoked = context.store.revocations();
  const live = images.filter((i) => !revoked.some((r) => imageMatchesRevoked(i, r.image)));
  return context.store
    .releases()
    .filter((r) => r.name !== name && Object.values(r.apps).some((a) => a && live.includes(a.image)))
    .map((r) => r.name);
}

/**
 * delete --release NAME [--app A]: deletes the release's images from ECR (BatchDeleteImage by
 * digest), refused while a channel or a pin names one of them, a module still runs one, or another
 * stored release names one that is not revoked.
 */
export async function deleteCommand(io: CliIo, session: MqttSession, flags: RevokeFlags): Promise<string[]> {
  const context = fleetContext(io, session, flags);
  const { name, images } = releaseImages(context, flags);
  const channels = await channelsNaming(context, images);
  const pins = (await readRetainedDocuments(session, fleetFilters.pins, context.keys))
    .filter((p) => {
      const release = asRelease(p.payload);
      return release && Object.values(release.apps).some((a) => images.includes(a!.image));
    })
    .map((p) => p.topic.split('/')[3]!);
  const running = await modulesRunning(session, images);
  const users = [
    ...channels.map((c) => `channel ${c}`),
    ...pins.map((m) => `the pin of ${m}`),
    ...running.map((m) => `module ${m} (runs it)`),
    ...releasesSharing(context, name, images).map((r) => `release ${r} (the same image)`),
  ];
  if (users.length > 0) {
    throw new FleetError(
      'FLEET_RELEASE_IN_USE',
      `${name} is still in use: ${users.join(', ')}; nothing was deleted`,
    );
  }
  const ecr = new EcrImages(io);
  try {
    for (const image of images) {
      const result = await ecr.delete(image);
      io.out(`deleted ${image} from ECR${result === 'absent' ? ' (was already gone)' : ''}\n`);
    }
  } finally {
    ecr.close();
  }
  return images;
}
