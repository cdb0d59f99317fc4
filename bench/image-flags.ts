import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const dockerfile = () => readFileSync(join(ROOT, 'docker/app/Dockerfile'), 'utf8');

/**
 * The flags the apps' image gives node: `CMD ["node", …flags, "dist/main.js"]` in
 * docker/app/Dockerfile. Benches that run a built app run it with these, as a module does.
 */
export function imageNodeFlags(): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile());
  if (!cmd) throw new Error('docker/app/Dockerfile: no CMD line');
  const argv = JSON.parse(cmd[1]!) as string[];
  return argv.slice(1, -1);
}

/**
 * The allocator settings the image gives an app's process: `ENV GLIBC_TUNABLES=…` in that app's stage
 * (`FROM app AS <app>`) of docker/app/Dockerfile, or none. glibc reads them once, at the process's
 * start, so a bench spawns the app (or itself) with them, beside the image's flags.
 */
export function imageNodeEnv(app: 'core' | 'updater' | 'tunnel'): { GLIBC_TUNABLES?: string } {
  const stages = dockerfile().split(/^FROM /m);
  const stage = stages.find((s) => s.startsWith(`app AS ${app}\n`));
  if (!stage) throw new Error(`docker/app/Dockerfile: no stage "FROM app AS ${app}"`);
  const tunables = /^ENV GLIBC_TUNABLES=(\S+)$/m.exec(stage);
  return tunables ? { GLIBC_TUNABLES: tunables[1]! } : {};
}
