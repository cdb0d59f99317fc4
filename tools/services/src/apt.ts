import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface DebianNeed {
  /** A file the package installs, used to see whether it is there. */
  file: string;
  package: string;
}

/** Installs the Debian packages whose files are missing; does nothing when all are present. */
export function ensureDebianPackages(needs: DebianNeed[]): void {
  const missing = [...new Set(needs.filter((n) => !existsSync(n.file)).map((n) => n.package))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages (${missing.join(', ')}); install them: sudo apt-get install ${missing.join(' ')}`,
    );
  }
  process.stderr.write(`services: installing ${missing.join(', ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}
