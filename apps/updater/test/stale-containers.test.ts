import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { getService, NODE_BASE_IMAGE } from '@growoff/test-services';
import { afterAll, describe, expect, it } from 'vitest';
import removeStaleContainers from './support/stale-containers';

describe('containers left by earlier test runs', { timeout: 60_000 }, () => {
  const docker = new Docker({ socketPath: getService('docker').socket });
  const made: string[] = [];

  afterAll(async () => {
    for (const id of made)
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
  });

  async function containerOf(managedBy: string): Promise<string> {
    const c = await docker.createContainer({
      Image: NODE_BASE_IMAGE,
      Cmd: ['node', '-e', 'setInterval(() => {}, 1000)'],
      Labels: { 'growoff.managed-by': managedBy },
      HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'unless-stopped' } },
    });
    made.push(c.id);
    await c.start();
    return c.id;
  }

  it("removes those whose test process is gone, and keeps a running test's", async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = await containerOf(`updater-test-${gone}-stale`);
    const live = await containerOf(`updater-test-${process.pid}-live`);
    const other = await containerOf('growoff-updater');
    await removeStaleContainers();
    const left = (await docker.listContainers({ all: true })).map((c) => c.Id);
    expect(left).not.toContain(stale);
    expect(left).toContain(live);
    expect(left).toContain(other);
  });
});
