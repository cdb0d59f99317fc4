import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * The flags the apps' image gives node: `CMD ["node", …flags, "dist/main.js"]` in
 * docker/app/Dockerfile. Benches that run a built app run it with these, as a module does.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'docker/app/Dockerfile'), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error('docker/app/Dockerfile: no CMD line');
  const argv = JSON.parse(cmd[1]!) as string[];
  return argv.slice(1, -1);
}
