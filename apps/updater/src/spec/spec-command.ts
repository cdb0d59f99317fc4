import { randomBytes } from 'node:crypto';
import { defineEnv, parseEnv } from '@growoff/config';
import { UpdaterError } from '../updater-error';
import {
  appSpec,
  dockerRunArgs,
  layoutVariables,
  MANAGED_APPS,
  moduleLayout,
  type ManagedAppId,
} from './app-spec';

const LayoutEnv = defineEnv(layoutVariables);

/**
 * `main.js spec <app>`: prints the `docker run` arguments of the app's spec, one per line, for a new
 * container named `<name>-<random>` (the image last, given by the caller). tools/base's launcher runs
 * the updater this way, from the updater image it is about to start, so the host needs no Node.
 */
export async function specCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  process.stdout.write(`${specArgs(args, env).join('\n')}\n`);
}

/** The arguments `main.js spec` prints; a coded error for an unknown app or a bad layout. */
export function specArgs(args: string[], env: NodeJS.ProcessEnv): string[] {
  const app = args[0] as ManagedAppId;
  if (!MANAGED_APPS.includes(app)) {
    throw new UpdaterError(
      'NO_CONTAINER_SPEC',
      `usage: main.js spec <app>, the app one of ${MANAGED_APPS.join(', ')} (got '${args[0] ?? ''}')`,
    );
  }
  const spec = appSpec(app, moduleLayout(parseEnv(LayoutEnv, env)));
  return dockerRunArgs(spec, `${spec.name}-${randomBytes(3).toString('hex')}`);
}
