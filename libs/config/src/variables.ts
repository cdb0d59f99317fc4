import {
  Type,
  type TArray,
  type TBoolean,
  type TInteger,
  type TNumber,
  type TOptional,
  type TSchema,
  type TString,
  type TTransform,
} from '@sinclair/typebox';

/** How a variable's text becomes a value; decides the conversion, the check and the "expected" text. */
export type VariableKind =
  'string' | 'enum' | 'integer' | 'number' | 'boolean' | 'url' | 'seconds' | 'file' | 'path' | 'list';

/** What `parseEnv` needs to know about one environment variable, kept on its schema as `x-env`. */
export interface VariableMeta {
  /** The variable read; `also` are read in order when it is unset (e.g. AWS_DEFAULT_REGION). */
  name: string;
  also?: string[];
  kind: VariableKind;
  /** A secret is never printed: not by `describe()`, not in an error. */
  secret?: boolean;
  /** What a good value looks like, for the error message. */
  expected: string;
  /** `url`: the schemes accepted, without the colon. */
  schemes?: string[];
  /** `file`: a folder is accepted too (e.g. a folder of release keys). */
  folder?: boolean;
  /** `list`: the pattern each comma-separated item must match. */
  itemPattern?: string;
}

export const META = 'x-env';

export interface VariableOptions<T> {
  description?: string;
  secret?: boolean;
  /** Used when the variable is unset or empty (values are trimmed). */
  default?: T;
  /** Without a default: unset is refused (otherwise the field is left out). */
  required?: true;
  /** Other variables read, in order, when this one is unset. */
  also?: string[];
}

/** A variable with a default or required is always present in the config; otherwise it is optional. */
export type Present<S extends TSchema, O> = O extends { default: unknown } | { required: true }
  ? S
  : TOptional<S>;

function variable<S extends TSchema, O extends VariableOptions<unknown>>(
  schema: S,
  meta: Omit<VariableMeta, 'name' | 'also' | 'secret'>,
  name: string,
  options: O | undefined,
): Present<S, O> {
  const o: VariableOptions<unknown> = options ?? {};
  const full: VariableMeta = {
    name,
    ...meta,
    ...(o.also === undefined ? {} : { also: o.also }),
    ...(o.secret ? { secret: true } : {}),
  };
  const described = {
    ...schema,
    [META]: full,
    ...(o.description === undefined ? {} : { description: o.description }),
    ...(o.default === undefined ? {} : { default: o.default }),
  };
  const present = o.default !== undefined || o.required === true;
  return (present ? described : Type.Optional(described)) as Present<S, O>;
}

function range(min: number | undefined, max: number | undefined, unit = ''): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}${unit}`;
  if (min !== undefined) return ` of at least ${min}${unit}`;
  if (max !== undefined) return ` of at most ${max}${unit}`;
  return '';
}

/** Free text; `pattern` (with `expected` saying it in words) narrows it. */
export function string<O extends VariableOptions<string>>(
  name: string,
  options?: O & { pattern?: RegExp; expected?: string },
): Present<TString, O> {
  const pattern = options?.pattern?.source;
  return variable(
    Type.String({ minLength: 1, ...(pattern === undefined ? {} : { pattern }) }),
    { kind: 'string', expected: options?.expected ?? (pattern ? `text matching /${pattern}/` : 'text') },
    name,
    options,
  );
}

/** A union of string literals, typed as the words themselves. */
export interface TOneOf<V extends string> extends TSchema {
  static: V;
}

/** One of a fixed set of words. */
export function oneOf<const V extends readonly [string, ...string[]], O extends VariableOptions<V[number]>>(
  name: string,
  values: V,
  options?: O,
): Present<TOneOf<V[number]>, O> {
  const schema = Type.Union(values.map((v) => Type.Literal(v))) as TSchema as TOneOf<V[number]>;
  return variable(schema, { kind: 'enum', expected: `one of ${values.join(', ')}` }, name, options);
}

/** A whole number within bounds. */
export function integer<O extends VariableOptions<number>>(
  name: string,
  options?: O & { min?: number; max?: number },
): Present<TInteger, O> {
  const min = options?.min;
  const max = options?.max;
  return variable(
    Type.Integer({
      ...(min === undefined ? {} : { minimum: min }),
      ...(max === undefined ? {} : { maximum: max }),
    }),
    { kind: 'integer', expected: `a whole number${range(min, max)}` },
    name,
    options,
  );
}

/** A TCP port; `min` 1 refuses 0 (which binds any free port). */
export function port<O extends VariableOptions<number>>(
  name: string,
  options?: O & { min?: number },
): Present<TInteger, O> {
  const min = options?.min ?? 0;
  return variable(
    Type.Integer({ minimum: min, maximum: 65_535 }),
    { kind: 'integer', expected: `a port from ${min} to 65535` },
    name,
    options,
  );
}

/** A decimal number; `above` is an exclusive lower bound. */
export function number<O extends VariableOptions<number>>(
  name: string,
  options?: O & { min?: number; above?: number; max?: number },
): Present<TNumber, O> {
  const { min, above, max } = options ?? {};
  const lower =
    above === undefined
      ? range(min, max)
      : ` above ${above}${max === undefined ? '' : ` and at most ${max}`}`;
  return variable(
    Type.Number({
      ...(min === undefined ? {} : { minimum: min }),
      ...(above === undefined ? {} : { exclusiveMinimum: above }),
      ...(max === undefined ? {} : { maximum: max }),
    }),
    { kind: 'number', expected: `a number${lower}` },
    name,
    options,
  );
}

/** on/off, true/false, yes/no, 1/0. */
export function boolean<O extends VariableOptions<boolean>>(name: string, options?: O): Present<TBoolean, O> {
  return variable(
    Type.Boolean(),
    { kind: 'boolean', expected: 'on or off (true/false, yes/no, 1/0)' },
    name,
    options,
  );
}

/** A URL with one of the given schemes; a password in it is masked wherever it is printed. */
export function url<O extends VariableOptions<string>>(
  name: string,
  options: O & { schemes: readonly string[] },
): Present<TString, O> {
  const schemes = [...options.schemes];
  return variable(
    Type.String({ minLength: 1 }),
    { kind: 'url', schemes, expected: `a URL with scheme ${schemes.join(', ')}` },
    name,
    options,
  );
}

/**
 * A duration given in seconds (fractions allowed), read as milliseconds. Bounds are in seconds;
 * `above` is an exclusive lower bound.
 */
export function seconds<O extends VariableOptions<number>>(
  name: string,
  options?: O & { min?: number; above?: number; max?: number },
): Present<TTransform<TNumber, number>, O> {
  const { min, above, max } = options ?? {};
  const bounds =
    above === undefined
      ? range(min, max, ' s')
      : ` above ${above} s${max === undefined ? '' : ` and at most ${max} s`}`;
  const schema = Type.Transform(
    Type.Number({
      ...(min === undefined ? {} : { minimum: min }),
      ...(above === undefined ? {} : { exclusiveMinimum: above }),
      ...(max === undefined ? {} : { maximum: max }),
    }),
  )
    .Decode((s) => Math.round(s * 1000))
    .Encode((ms) => ms / 1000);
  return variable(schema, { kind: 'seconds', expected: `a number of seconds${bounds}` }, name, options);
}

/**
 * A file the app reads (a CA, a key, a profile…): resolved against the working folder and refused
 * at start when it is missing or unreadable. `folder` accepts a readable folder too.
 */
export function file<O extends VariableOptions<string>>(
  name: string,
  options?: O & { folder?: boolean },
): Present<TString, O> {
  const folder = options?.folder === true;
  return variable(
    Type.String({ minLength: 1 }),
    { kind: 'file', folder, expected: folder ? 'a readable file or folder' : 'a readable file' },
    name,
    options,
  );
}

/** A folder the app creates or writes (e.g. the data dir): resolved against the working folder. */
export function path<O extends VariableOptions<string>>(name: string, options?: O): Present<TString, O> {
  return variable(Type.String({ minLength: 1 }), { kind: 'path', expected: 'a path' }, name, options);
}

/** Comma-separated items, each matching `pattern`; unset is an empty list. */
export function list(
  name: string,
  options: VariableOptions<string[]> & { pattern: RegExp; expected: string },
): TArray<TString> {
  return variable(
    Type.Array(Type.String({ pattern: options.pattern.source })),
    {
      kind: 'list',
      itemPattern: options.pattern.source,
      expected: `comma-separated, each ${options.expected}`,
    },
    name,
    { ...options, default: options.default ?? [] },
  );
}
