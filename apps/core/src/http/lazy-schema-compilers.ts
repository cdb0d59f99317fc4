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
 * the defaults' own; a schema Ajv or fast-json-stringify refuses would fail that route's first
 * request instead of the start (the route tests call every route).
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
    ),
  };
  // Fastify types a validator as Ajv's whole ValidateFunction; it calls it and reads `errors`, no more.
  return factories as unknown as CompilersFactory;
}

/**
 * A factory with the real one's signature whose compiler hands out `wrap`ped stand-ins; the real
 * factory is loaded, and the real compiler built, when the first stand-in is first called.
 */
function lazyFactory<F>(load: () => Factory<F>, wrap: (compile: () => F) => F): Factory<F> {
  let real: Factory<F> | undefined;
  return (externalSchemas, options) => {
    let compiler: CompilerOf<F> | undefined;
    const compilerNow = () => (compiler ??= (real ??= load())(externalSchemas, options));
    return (routeSchema) => wrap(() => compilerNow()(routeSchema));
  };
}
