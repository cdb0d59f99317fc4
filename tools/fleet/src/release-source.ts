import { readFileSync } from 'node:fs';
import { ReleasePayload, type DsseEnvelope } from '@growoff/protocol';
import { resolvePath, type CliIo } from './cli-io';
import { FleetError } from './fleet-error';

/** The options that describe a release, shared by sign, publish and pin. */
export interface ReleaseFlags {
  payload?: string;
  envelope?: string;
  app?: string;
  version?: string;
  image?: string;
  percent?: string;
  notes?: string;
  'telegraf-image'?: string;
  'telegraf-version'?: string;
}

export const RELEASE_OPTIONS = {
  payload: { type: 'string' },
  envelope: { type: 'string' },
  app: { type: 'string' },
  version: { type: 'string' },
  image: { type: 'string' },
  percent: { type: 'string' },
  notes: { type: 'string' },
  'telegraf-image': { type: 'string' },
  'telegraf-version': { type: 'string' },
} as const;

/** A release being put together: everything but what the command decides (channel, sequence, time). */
export type ReleaseDraft = Partial<ReleasePayload>;

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

/** --payload FILE, then the individual flags on top of it. */
export function draftOf(io: CliIo, flags: ReleaseFlags): ReleaseDraft {
  const draft: ReleaseDraft = {};
  if (flags.payload) {
    const file = readJsonFile(io, flags.payload, 'payload');
    if (file === null || typeof file !== 'object' || Array.isArray(file)) {
      throw new FleetError('FLEET_BAD_FILE', `the payload ${flags.payload} is not a JSON object`);
    }
    Object.assign(draft, file);
  }
  if (flags.app !== undefined) draft.app = flags.app as ReleasePayload['app'];
  if (flags.version !== undefined) draft.version = flags.version;
  if (flags.image !== undefined) draft.image = flags.image;
  if (flags.notes !== undefined) draft.notes = flags.notes;
  if (flags.percent !== undefined) draft.rollout = { percent: percentOf(flags.percent) };
  if (flags['telegraf-image'] !== undefined || flags['telegraf-version'] !== undefined) {
    if (!flags['telegraf-image'] || !flags['telegraf-version']) {
      throw new FleetError('FLEET_USAGE', '--telegraf-image and --telegraf-version go together');
    }
    draft.telegraf = { image: flags['telegraf-image'], version: flags['telegraf-version'] };
  }
  return draft;
}

export function hasReleaseDescription(flags: ReleaseFlags): boolean {
  return [flags.payload, flags.app, flags.version, flags.image].some((v) => v !== undefined);
}

/** A rollout percent 0..100 from an option value. */
export function percentOf(text: string): number {
  const value = Number(text.endsWith('%') ? text.slice(0, -1) : text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new FleetError('FLEET_BAD_OPTION', `--percent must be a number from 0 to 100, got '${text}'`);
  }
  return value;
}
