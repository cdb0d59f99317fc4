import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/** A compiled validator as Fastify calls it: true/false, with `errors` set after a false. */
type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;
type CompilerOf<F> = (routeSchema: Record<string, unknown>) => F;
type Factory<F> = (externalSchemas: unknown, options: unknown) => CompilerOf<F>;

// The very modules Fastify loads for its defaults (`@fastify/ajv-compiler`,
// `@fastify/fast-json-stringify-compiler`), resolved from Fastify's own place: the same versions and
// the same code, only later.
const fromFastify = () => createRequire(createRequire(import.meta.url).resolve('fastify'));

/**
 * Fastify's default validator (Ajv) and serializer (fast-json-stringify) factories, each schema
 * compiled on its route's first use instead of at start. Compiling every route's schemas when the
 * server gets ready was most of the REST API's start (Ajv alone takes ~100 ms to load and set up),
 * and a module's QA API is rarely asked at all. Validation, coercion, errors and serialisation are
 * the defaults' own; a schema Ajv or fast-json-stringify refuses fails that route's first request
 * (a 500) instead of the start, which the route tests cover.
 */
export function lazySchemaCompilers(): CompilersFactory {
  const factories: { buildValidator: Factory<Validate>; buildSerializer: Factory<Serialize> } = {
    buildValidator: lazyFactory<Validate>(
      () => (fromFastify()('@fastify/ajv-compiler') as () => Factory<Validate>)(),
      (compile) => {
        let validate: Validate | undefined;
        const lazy: Validate = (data) => (validate ??= compile())(data);
        // Fastify reads the errors of a failed validation from the function it called.
        Object.defineProperty(lazy, 'errors', { get: () => validate?.errors });
        return lazy;
      },
    ),
    buildSerializer: lazyFactory<Serialize>(
      () => (fromFastify()('@fastify/fast-json-stringify-compiler') as () => Factory<Serialize>)(),
      (compile) => {
        let serialize: Serialize | undefined;
        return (data) => (serialize ??= compile())(data);
      },
      (routeSchema) => ({ ...routeSchema, schema: scalarUnionsAsTypeLists(routeSchema.schema) }),
    ),
  };
  // Fastify types a validator as Ajv's whole ValidateFunction; it calls it and reads `errors`, no more.
  return factories as unknown as CompilersFactory;
}

/**
 * A factory with the real one's signature whose compiler hands out `wrap`ped stand-ins; the real
 * factory is loaded, and the real compiler built, when the first stand-in is first called.
 */
function lazyFactory<F>(
  load: () => Factory<F>,
  wrap: (compile: () => F) => F,
  prepare: (routeSchema: Record<string, unknown>) => Record<string, unknown> = (s) => s,
): Factory<F> {
  let real: Factory<F> | undefined;
  return (externalSchemas, options) => {
    let compiler: CompilerOf<F> | undefined;
    const compilerNow = () => (compiler ??= (real ??= load())(externalSchemas, options));
    return (routeSchema) => wrap(() => compilerNow()(prepare(routeSchema)));
  };
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
/** Keywords that say nothing about which values a schema takes (`$id` names it, e.g. SensorQuality). */
const ANNOTATIONS = new Set(['$id', 'title', 'description', 'examples', 'default', '$comment']);

/**
 * The type of a union branch that only names a scalar type (`Type.Number()`, `Type.Null()`) or a
 * scalar constant (`Type.Literal('ok')`), else undefined.
 */
function scalarBranchType(branch: unknown): string | undefined {
  if (typeof branch !== 'object' || branch === null) return undefined;
  const { type, const: constant, ...rest } = branch as Record<string, unknown>;
  if (Object.keys(rest).some((k) => !ANNOTATIONS.has(k))) return undefined;
  const constType =
    constant === undefined
      ? undefined
      : constant === null
        ? 'null'
        : typeof constant === 'number' || typeof constant === 'boolean' || typeof constant === 'string'
          ? typeof constant
          : undefined;
  if (constant !== undefined && constType === undefined) return undefined;
  if (type === undefined) return constType;
  if (typeof type !== 'string' || !SCALAR_TYPES.has(type)) return undefined;
  // `integer` for a number constant, say: the declared type is the one to write it as.
  return constType === undefined || constType === type || (constType === 'number' && type === 'integer')
    ? type
    : undefined;
}

/**
 * A response schema for serialisation only (the OpenAPI document keeps the route's own): every
 * `anyOf` of scalar types and constants — `number | null`, a quality's literals — becomes the
 * list of their types. fast-json-stringify writes a type list with a `typeof` test, but an `anyOf`
 * by running Ajv on the value for each branch, which made it most of `GET /api/v1/sensors`' time.
 * Each value the route's schema accepts is written exactly as before (a literal is the very
 * string it matched); a value of none of the types still fails the request (a type list of one is
 * kept a list for that: fast-json-stringify coerces a value to a lone type).
 */
export function scalarUnionsAsTypeLists(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(scalarUnionsAsTypeLists);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = scalarUnionsAsTypeLists(value);
  const { anyOf, ...siblings } = out;
  if (!Array.isArray(anyOf) || Object.keys(siblings).some((k) => !ANNOTATIONS.has(k))) return out;
  const types = anyOf.map(scalarBranchType);
  if (types.length === 0 || types.some((t) => t === undefined)) return out;
  return { ...siblings, type: [...new Set(types as string[])] };
}
