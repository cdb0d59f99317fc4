import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servicesDir } from './state';

/**
 * Vitest globalSetup of every package: the run's temporary files and folders (each test's
 * `mkdtemp(tmpdir())`) go in one folder of the run, removed when the run ends, so runs leave
 * nothing in /tmp. The shared services' state stays where it was (GROWOFF_SERVICES_DIR is pinned
 * first), and the folder is world-writable with the sticky bit like /tmp, for tests that run
 * something as another user.
 */
export default function setup(): () => void {
  process.env.GROWOFF_SERVICES_DIR = servicesDir();
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'growoff-test-'));
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      // e.g. a tmpfs a failed test left mounted: say so, and leave the folder.
      console.warn(`could not remove the run's temporary folder ${dir}: ${(error as Error).message}`);
    }
  };
}
