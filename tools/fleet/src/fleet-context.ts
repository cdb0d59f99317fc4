import type { ReleaseApps, ReleaseDocument, TrustedKey } from '@growoff/protocol';
import { nowIso, type CliIo } from './cli-io';
import { signingKeyOf, trustedKeysOf, type CommonFlags, type SigningKey } from './fleet-config';
import { FleetError } from './fleet-error';
import { headCommit, tagRelease } from './git-tags';
import type { MqttSession } from './mqtt-session';
import { ReleaseStore, type StoredRelease } from './release-store';

export interface StoreFlags extends CommonFlags {
  store?: string;
  'no-git-tag'?: boolean;
}

export const STORE_OPTIONS = {
  store: { type: 'string' },
  'no-git-tag': { type: 'boolean' },
} as const;

/** What a command that signs documents works with: the broker, the store, the key and the trusted keys. */
export interface FleetContext {
  io: CliIo;
  session: MqttSession;
  store: ReleaseStore;
  key: SigningKey;
  /** What retained documents must verify against: the modules' keys and the signing key's public half. */
  keys: TrustedKey[];
  issuedAt: string;
}

export function fleetContext(io: CliIo, session: MqttSession, flags: StoreFlags): FleetContext {
  const key = signingKeyOf(io, flags);
  return {
    io,
    session,
    store: ReleaseStore.open(io, flags),
    key,
    keys: trustedKeysOf(io, flags, key),
    issuedAt: nowIso(io),
  };
}

/** The release a retained channel document names, if it is a verified release. */
export function asRelease(payload: unknown): ReleaseDocument | undefined {
  return (payload as { kind?: string } | undefined)?.kind === 'release'
    ? (payload as ReleaseDocument)
    : undefined;
}

/** Every image a release names. */
export function imagesOf(apps: ReleaseApps): string[] {
  return Object.values(apps).map((a) => a!.image);
}

/**
 * Records a release under its name in the store (and tags the commit in git): a name means one set
 * of images, so the same name with another digest for any app is refused (FLEET_RELEASE_EXISTS).
 */
export function recordRelease(
  context: FleetContext,
  flags: StoreFlags,
  release: Pick<StoredRelease, 'name' | 'apps'> & Partial<StoredRelease>,
): StoredRelease {
  const existing = context.store.release(release.name);
  if (existing) {
    for (const [app, image] of Object.entries(release.apps)) {
      const before = existing.apps[app as keyof ReleaseApps];
      if (before && before.image !== image!.image) {
        throw new FleetError(
          'FLEET_RELEASE_EXISTS',
          `${release.name} already names ${app} ${before.image}; a release name is never reused for other images (cut a new candidate)`,
        );
      }
    }
  }
  let commit = release.commit ?? existing?.commit;
  if (!flags['no-git-tag']) {
    commit ??= headCommit(context.io);
    const result = tagRelease(context.io, release.name, commit);
    context.io.out(
      `git tag ${release.name} → ${commit.slice(0, 12)}${result === 'already' ? ' (already there)' : ''}\n`,
    );
  }
  const merged: StoredRelease = {
    name: release.name,
    apps: { ...existing?.apps, ...release.apps },
    commit,
    createdAt: existing?.createdAt ?? context.issuedAt,
    pinned: [...new Set([...(existing?.pinned ?? []), ...(release.pinned ?? [])])],
    channels: [...new Set([...(existing?.channels ?? []), ...(release.channels ?? [])])],
    promotedFrom: release.promotedFrom ?? existing?.promotedFrom,
  };
  context.store.saveRelease(merged);
  return merged;
}

export function describeApps(apps: ReleaseApps): string {
  return Object.entries(apps)
    .map(([app, a]) => `  ${app.padEnd(8)} ${a!.version.padEnd(12)} ${a!.image}`)
    .join('\n');
}
