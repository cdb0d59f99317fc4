import { defineConfig } from 'tsup';
import { appBuildOptions } from '../../tsup.app.config';

// Kept as modules of their own: i2c-bus (a native addon), aedes (loaded only for the embedded
// broker), and Fastify's default schema compilers (Ajv, fast-json-stringify), which Fastify itself
// never loads here: src/http/lazy-schema-compilers.ts loads them at a route's first use.
// @fastify/swagger-ui is bundled (unbundled, it and its @fastify/static and yaml were ~240 modules
// loaded at start, yaml a second time), but serves the files of its installed folder.
// Fastify's server module requires https and http2 as it loads, for servers the core never makes
// (with the link's tls, about 1 MiB of an idle core's RSS): they load if one is ever made.
export default defineConfig(() =>
  appBuildOptions(process.cwd(), {
    bundleDependenciesExcept: [
      'i2c-bus',
      'aedes',
      '@fastify/ajv-compiler',
      '@fastify/fast-json-stringify-compiler',
    ],
    ownFolderAtRunTime: ['@fastify/swagger-ui'],
    builtinsOnFirstUse: { fastify: ['https', 'http2'] },
  }),
);
