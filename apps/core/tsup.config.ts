import { defineConfig } from 'tsup';
import { appBuildOptions } from '../../tsup.app.config';

// Kept as modules of their own: i2c-bus (a native addon), aedes (loaded only for the embedded
// broker) and @fastify/swagger-ui (serves the files of its own package folder).
export default defineConfig(() =>
  appBuildOptions(process.cwd(), { bundleDependenciesExcept: ['i2c-bus', 'aedes', '@fastify/swagger-ui'] }),
);
