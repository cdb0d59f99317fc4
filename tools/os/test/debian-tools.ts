import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Installs the Debian packages whose programs are missing (needs root, like the service runner). */
export function ensureDebianTools(tools: { binary: string; package: string }[]): void {
  const missing = tools.filter((t) => !existsSync(t.binary)).map((t) => t.package);
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'ignore', env });
}
