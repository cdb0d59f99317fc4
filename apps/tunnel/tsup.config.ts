import { defineConfig } from 'tsup';
import { appBuildOptions } from '../../tsup.app.config';

// ssh2 stays a module of its own: it is loaded at the first tunnel only, and carries native addons.
export default defineConfig(() => appBuildOptions(process.cwd(), { bundleDependenciesExcept: ['ssh2'] }));
