import { defineConfig } from 'tsup';
import { appBuildOptions } from '../../tsup.app.config';

// Kept as modules of their own: i2c-bus (a native addon) and aedes (loaded only for the embedded
// broker). @fastify/swagger-ui is bundled (unbundled, it and its @fastify/static and yaml were ~240
// modules loaded at start, yaml a second time), but serves the files of its installed folder.
export default defineConfig(() =>
  appBuildOptions(process.cwd(), {
    bundleDependenciesExcept: ['i2c-bus', 'aedes'],
    ownFolderAtRunTime: ['@fastify/swagger-ui'],
  }),
);
