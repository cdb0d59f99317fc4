import { defineConfig } from 'tsup';
import { appBuildOptions } from '../../tsup.app.config';

// TypeBox is bundled too: its ESM build is some 270 small files, and resolving and loading them one
// by one took about 200 ms of the core's start (CPU profile of the built entry); bundled, the same
// code loads in a fraction of that. It stays a dependency (the sources and tests import it).
export default defineConfig(() => {
  const options = appBuildOptions(process.cwd());
  return { ...options, noExternal: [...(options.noExternal ?? []), /^@sinclair\/typebox(\/|$)/] };
});
