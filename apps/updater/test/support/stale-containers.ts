import Docker from 'dockerode';
import { getService, isAlive } from '@growoff/test-services';

/** The `growoff.managed-by` value of a test harness's updater: its test process's pid and its own id. */
export function testManagedBy(id: string): string {
  return `updater-test-${process.pid}-${id}`;
}

const OWNER = /^updater-test-(\d+)-/;

/**
 * Vitest's global setup: removes the containers that updaters of earlier test runs made and that
 * run no more test, by the pid in their `growoff.managed-by` label. A run that was killed never ran
 * its cleanup, and its cores (restart policy unless-stopped) would keep restarting on the shared
 * engine for good, loading the machine of every later run and bench. A container of a run still
 * going (another worktree's, on the same engine) is left alone.
 */
export default async function removeStaleContainers(): Promise<void> {
  let docker: Docker;
  try {
    docker = new Docker({ socketPath: getService('docker').socket });
  } catch {
    return; // no shared engine: the tests that need it say so themselves
  }
  const containers = await docker.listContainers({ all: true, filters: { label: ['growoff.managed-by'] } });
  let removed = 0;
  for (const c of containers) {
    const pid = OWNER.exec(c.Labels['growoff.managed-by'] ?? '')?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .then(() => removed++)
      .catch(() => undefined); // gone meanwhile
  }
  if (removed > 0) console.log(`removed ${removed} container(s) left by earlier updater test runs`);
}
