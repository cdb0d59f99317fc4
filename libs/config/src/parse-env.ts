import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { codedError, type CodedError } from '@growoff/protocol';
import {
  OptionalKind,
  Type,
  type StaticDecode,
  type TObject,
  type TProperties,
  type TSchema,
} from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { META, type VariableMeta } from './variables';

export type Env = Record<string, string | undefined>;

/** One refused variable: what was expected and, unless secret, what was given. */
export interface ConfigIssue {
  variable: string;
  expected: string;
  /** The value given, as printed (masked URL); absent for a secret or an unset variable. */
  got?: string;
  /** A required variable that is not set. */
  missing?: true;
}

export type ConfigInvalid = CodedError<'CONFIG_INVALID'> & { details: { issues: ConfigIssue[] } };

export interface ParseOptions<T> {
  /** Relative file and folder paths are resolved against this; default process.cwd(). */
  cwd?: string;
  /** Checks across variables, after each is valid on its own; the issues join the one error. */
  refine?: (config: T) => ConfigIssue[];
}

/** What `parseEnv` keeps on the config it returns, out of sight of its enumerable fields. */
const PARSED = Symbol('growoff.config.parsed');

interface Parsed {
  /** The start-up line: `NAME=value …`, secrets as `***`. */
  description: string;
  ignored: IgnoredVariable[];
}

/** A suggestion is at most this many edits from the name set. */
const MAX_EDITS = 2;

/** The family of names whose unread members are reported: a typo there silently keeps a default. */
const PREFIX = /^GROWOFF_/i;

/**
 * GrowOff variables that other programs read from an app's environment, so an app never reports
 * them: the images' healthcheck (`tools/images/stage/healthcheck.mjs`) and the workspace's test
 * services, whose file `npm test` passes to every app it starts.
 */
export const READ_ELSEWHERE: readonly string[] = [
  'GROWOFF_HEALTHCHECK_MS',
  'GROWOFF_SERVICES_FILE',
  'GROWOFF_SERVICES_DIR',
];

/** A set GrowOff variable that the app does not read, with the declared name it most likely meant. */
export interface IgnoredVariable {
  variable: string;
  suggestion?: string;
}

/** Declares an app's environment: variables (from `./variables`) and sections (nested objects of them). */
export function defineEnv<P extends TProperties>(properties: P): TObject<P> {
  return Type.Object(properties);
}

function metaOf(schema: TSchema): VariableMeta | undefined {
  return (schema as Record<string, unknown>)[META] as VariableMeta | undefined;
}

/** A URL as printed: its password (if any) masked; undefined when it does not parse. */
export function maskUrl(raw: string): string | undefined {
  try {
    const parsed = new URL(raw);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return undefined;
  }
}

function shown(meta: VariableMeta, raw: string): string | undefined {
  if (meta.secret) return undefined;
  if (meta.kind === 'url') return maskUrl(raw);
  return raw;
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** The text of a variable as its JSON value (before bounds and transforms), or undefined if it is not one. */
function convert(meta: VariableMeta, raw: string, cwd: string): unknown {
  switch (meta.kind) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
    case 'number':
    case 'seconds':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
    case 'boolean': {
      const lower = raw.toLowerCase();
      return TRUE.includes(lower) ? true : FALSE.includes(lower) ? false : undefined;
    }
    case 'url': {
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
      if (scheme === undefined || !meta.schemes?.includes(scheme) || maskUrl(raw) === undefined)
        return undefined;
      return raw;
    }
    case 'file':
    case 'path':
      return resolve(cwd, raw);
    case 'list':
      return raw.split(',').map((item) => item.trim());
    default:
      return raw;
  }
}

/** Why a file variable's path cannot be used, or undefined when it can. */
function unreadable(meta: VariableMeta, path: string): string | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile() && !(meta.folder && stat.isDirectory())) {
      return meta.folder ? 'is neither a file nor a folder' : 'is not a file';
    }
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
  }
}

interface Reading {
  /** The variables' values as JSON (seconds in seconds), ready for Value.Decode. */
  value: Record<string, unknown>;
  /** `NAME=value` of every variable with a value, secrets masked, in declaration order. */
  printed: string[];
}

function readObject(
  schema: TObject,
  env: Env,
  cwd: string,
  issues: ConfigIssue[],
  reading: Reading['printed'],
) {
  const value: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const meta = metaOf(property);
    if (meta === undefined) {
      if ((property as TSchema).type === 'object') {
        value[key] = readObject(property as TObject, env, cwd, issues, reading);
      }
      continue;
    }
    const read = readVariable(property, meta, env, cwd, issues);
    if (read === undefined) continue;
    value[key] = read.value;
    reading.push(`${read.name}=${meta.secret ? '***' : read.printed}`);
  }
  return value;
}

function readVariable(
  schema: TSchema,
  meta: VariableMeta,
  env: Env,
  cwd: string,
  issues: ConfigIssue[],
): { name: string; value: unknown; printed: string } | undefined {
  const names = [meta.name, ...(meta.also ?? [])];
  let name = meta.name;
  let raw: string | undefined;
  for (const candidate of names) {
    const text = env[candidate]?.trim();
    if (text) {
      name = candidate;
      raw = text;
      break;
    }
  }
  const fallback = (schema as { default?: unknown }).default;
  let value: unknown;
  if (raw === undefined) {
    if (fallback === undefined) {
      if ((schema as unknown as Record<symbol, unknown>)[OptionalKind] !== 'Optional') {
        issues.push({ variable: meta.name, expected: meta.expected, missing: true });
      }
      return undefined;
    }
    value = meta.kind === 'file' || meta.kind === 'path' ? resolve(cwd, fallback as string) : fallback;
  } else {
    value = convert(meta, raw, cwd);
    if (value === undefined || !Value.Check(schema, value)) {
      const got = shown(meta, raw);
      issues.push({ variable: name, expected: meta.expected, ...(got === undefined ? {} : { got }) });
      return undefined;
    }
  }
  if (meta.kind === 'file') {
    const why = unreadable(meta, value as string);
    if (why !== undefined) {
      issues.push({ variable: name, expected: meta.expected, got: `${value as string} ${why}` });
      return undefined;
    }
  }
  const printed = Array.isArray(value)
    ? value.join(',')
    : meta.kind === 'url'
      ? (maskUrl(String(value)) ?? '***')
      : String(value);
  return { name, value, printed };
}

/** Every variable name `schema` reads: each variable's own and its `also`, in declaration order. */
function declaredNames(schema: TObject, into: string[] = []): string[] {
  for (const property of Object.values(schema.properties)) {
    const meta = metaOf(property);
    if (meta !== undefined) into.push(meta.name, ...(meta.also ?? []));
    else if ((property as TSchema).type === 'object') declaredNames(property as TObject, into);
  }
  return into;
}

/**
 * The `GROWOFF_*` variables set in `env` that `schema` does not read (nor another program, see
 * READ_ELSEWHERE), sorted, each with the declared name it is closest to (at most MAX_EDITS apart,
 * ignoring case) as a suggestion.
 */
export function ignoredBy(schema: TObject, env: Env): IgnoredVariable[] {
  const declared = declaredNames(schema);
  const known = new Set([...declared, ...READ_ELSEWHERE]);
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && PREFIX.test(name) && !known.has(name))
    .sort()
    .map((variable) => {
      const suggestion = closest(variable.toUpperCase(), declared);
      return suggestion === undefined ? { variable } : { variable, suggestion };
    });
}

/** The candidate fewest edits (insert, delete, substitute, swap of neighbours) from `name`, if at most MAX_EDITS. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_EDITS + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate.toUpperCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Optimal string alignment distance (Levenshtein with transpositions of neighbours); MAX_EDITS + 1,
 * without computing it, when the lengths alone differ by more than MAX_EDITS.
 */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_EDITS) return MAX_EDITS + 1;
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** One line for an ignored variable: `NAME is set but not read by APP (did you mean …?)`. */
export function ignoredText(ignored: IgnoredVariable, app: string): string {
  const hint = ignored.suggestion === undefined ? '' : `; did you mean ${ignored.suggestion}?`;
  return `${ignored.variable} is set but not read by the ${app}, so it has no effect${hint}`;
}

/** One line per issue: `NAME: expected …, got "…"`. */
export function issueText(issue: ConfigIssue): string {
  if (issue.missing) return `${issue.variable} is required (${issue.expected}) but not set`;
  return `${issue.variable}: expected ${issue.expected}${issue.got === undefined ? '' : `, got ${JSON.stringify(issue.got)}`}`;
}

/** The one error of a bad configuration, naming every bad variable; secrets never appear in it. */
export function configInvalid(issues: ConfigIssue[]): ConfigInvalid {
  return codedError('CONFIG_INVALID', `invalid configuration: ${issues.map(issueText).join('; ')}`, {
    issues,
  }) as ConfigInvalid;
}

export function isConfigInvalid(error: unknown): error is ConfigInvalid {
  return (error as { code?: unknown } | null)?.code === 'CONFIG_INVALID';
}

/**
 * Reads `env` (e.g. process.env) against the declared environment: trimmed, empty is unset,
 * defaults filled, files checked readable, transforms applied. Throws one CONFIG_INVALID error
 * listing every bad variable.
 */
export function parseEnv<S extends TObject>(
  schema: S,
  env: Env,
  options: ParseOptions<StaticDecode<S>> = {},
): StaticDecode<S> {
  const issues: ConfigIssue[] = [];
  const printed: string[] = [];
  const value = readObject(schema, env, options.cwd ?? process.cwd(), issues, printed);
  if (issues.length > 0) throw configInvalid(issues);
  const config = Value.Decode(schema, value) as StaticDecode<S>;
  const refined = options.refine?.(config) ?? [];
  if (refined.length > 0) throw configInvalid(refined);
  const parsed: Parsed = { description: printed.join(' '), ignored: ignoredBy(schema, env) };
  Object.defineProperty(config, PARSED, { value: parsed, enumerable: false });
  return config;
}

/**
 * The `GROWOFF_*` variables that were set but not read when `config` was parsed (see `ignoredBy`):
 * an app prints them as warnings at start, since a misspelt name leaves its variable at its default.
 */
export function ignoredVariables(config: object): IgnoredVariable[] {
  return parsedOf(config, 'ignoredVariables').ignored;
}

/** The start-up line of a config read by `parseEnv`: `NAME=value …`, secrets as `***`. */
export function describe(config: object): string {
  return parsedOf(config, 'describe').description;
}

function parsedOf(config: object, caller: string): Parsed {
  const parsed = (config as Record<symbol, Parsed | undefined>)[PARSED];
  if (parsed === undefined) {
    throw codedError('CONFIG_INVALID', `${caller}() takes a configuration read by parseEnv()`);
  }
  return parsed;
}
