import { readFileSync } from 'node:fs';
import {
  isFleetReleaseName,
  RELEASE_APPS,
  type DsseEnvelope,
  type ReleaseApp,
  type ReleaseApps,
} from '@growoff/protocol';
import { resolvePath, type CliIo } from './cli-io';
import { FleetError } from './fleet-error';

/** The options that describe a release's apps: per app, or one app with --app, or a payload file. */
export interface ReleaseFlags {
  payload?: string;
  envelope?: string;
  name?: string;
  app?: string;
  version?: string;
  image?: string;
  percent?: string;
  notes?: string;
  'core-image'?: string;
  'core-version'?: string;
  'telegraf-image'?: string;
  'telegraf-version'?: string;
  'tunnel-image'?: string;
  'tunnel-version'?: string;
  'updater-image'?: string;
  'updater-version'?: string;
}

export const RELEASE_OPTIONS = {
  payload: { type: 'string' },
  envelope: { type: 'string' },
  name: { type: 'string' },
  app: { type: 'string' },
  version: { type: 'string' },
  image: { type: 'string' },
  percent: { type: 'string' },
  notes: { type: 'string' },
  'core-image': { type: 'string' },
  'core-version': { type: 'string' },
  'telegraf-image': { type: 'string' },
  'telegraf-version': { type: 'string' },
  'tunnel-image': { type: 'string' },
  'tunnel-version': { type: 'string' },
  'updater-image': { type: 'string' },
  'updater-version': { type: 'string' },
} as const;

export const RELEASE_USAGE = `RELEASE is --name vX.Y.Z[-rcN] and the apps it sets, each by version and digest:
        --core-version V --core-image REPO@sha256:DIGEST (and --telegraf-, --tunnel-, --updater-),
        or --app APP --version V --image REPO@sha256:DIGEST, or --payload FILE ({"name","apps","notes"})`;

/** A release being put together from the options: its name, apps and notes. */
export interface ReleaseDraft {
  name?: string;
  apps: Partial<ReleaseApps>;
  notes?: string;
}

export function readJsonFile(io: CliIo, path: string, what: string): unknown {
  const full = resolvePath(io, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    throw new FleetError('FLEET_BAD_FILE', `cannot read the ${what} ${full}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FleetError('FLEET_BAD_FILE', `the ${what} ${full} is not JSON`);
  }
}

export function readEnvelopeFile(io: CliIo, path: string): DsseEnvelope {
  return readJsonFile(io, path, 'envelope') as DsseEnvelope;
}

/** --payload FILE, then the per-app options on top of it. */
export function draftOf(io: CliIo, flags: ReleaseFlags): ReleaseDraft {
  const draft: ReleaseDraft = { apps: {} };
  if (flags.payload) {
    const file = readJsonFile(io, flags.payload, 'payload');
    if (file === null || typeof file !== 'object' || Array.isArray(file)) {
      throw new FleetError('FLEET_BAD_FILE', `the payload ${flags.payload} is not a JSON object`);
    }
    const { name, apps, notes } = file as Partial<ReleaseDraft>;
    Object.assign(draft, { name, notes, apps: { ...apps } });
  }
  if (flags.app !== undefined || flags.version !== undefined || flags.image !== undefined) {
    const app = (flags.app ?? 'core') as ReleaseApp;
    if (!RELEASE_APPS.includes(app)) {
      throw new FleetError(
        'FLEET_BAD_OPTION',
        `--app must be one of ${RELEASE_APPS.join(', ')}, got '${app}'`,
      );
    }
    draft.apps[app] = appImage(app, flags.version, flags.image, '--version', '--image');
  }
  for (const app of RELEASE_APPS) {
    const image = flags[`${app}-image`];
    const version = flags[`${app}-version`];
    if (image === undefined && version === undefined) continue;
    draft.apps[app] = appImage(app, version, image, `--${app}-version`, `--${app}-image`);
  }
  if (flags.name !== undefined) draft.name = flags.name;
  if (flags.notes !== undefined) draft.notes = flags.notes;
  return draft;
}

function appImage(
  app: ReleaseApp,
  version: string | undefined,
  image: string | undefined,
  versionFlag: string,
  imageFlag: string,
): { version: string; image: string } {
  if (!version) throw new FleetError('FLEET_USAGE', `the ${app} needs a version (${versionFlag})`);
  if (!image)
    throw new FleetError('FLEET_USAGE', `the ${app} needs an image by digest (${imageFlag} repo@sha256:…)`);
  return { version, image };
}

export function hasReleaseDescription(flags: ReleaseFlags): boolean {
  return (
    [flags.payload, flags.app, flags.version, flags.image].some((v) => v !== undefined) ||
    RELEASE_APPS.some((app) => flags[`${app}-image`] !== undefined || flags[`${app}-version`] !== undefined)
  );
}

/** A fleet release name `vX.Y.Z` or `vX.Y.Z-rcN`, from an option. */
export function releaseNameOf(name: string | undefined, option = '--name'): string {
  if (!name) throw new FleetError('FLEET_USAGE', `${option} vX.Y.Z or vX.Y.Z-rcN is required`);
  if (!isFleetReleaseName(name)) {
    throw new FleetError(
      'FLEET_BAD_OPTION',
      `${option} must be a fleet release name vX.Y.Z or vX.Y.Z-rcN, got '${name}'`,
    );
  }
  return name;
}

/** The final name of a candidate: `v1.3.0-rc2` → `v1.3.0`. */
export function finalNameOf(candidate: string): string {
  const match = /^(v\d+\.\d+\.\d+)-rc\d+$/.exec(candidate);
  if (!match) {
    throw new FleetError('FLEET_BAD_OPTION', `'${candidate}' is not a candidate name (vX.Y.Z-rcN)`);
  }
  return match[1]!;
}

/** A rollout percent 0..100 from an option value. */
export function percentOf(text: string): number {
  const value = Number(text.endsWith('%') ? text.slice(0, -1) : text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new FleetError('FLEET_BAD_OPTION', `--percent must be a number from 0 to 100, got '${text}'`);
  }
  return value;
}
