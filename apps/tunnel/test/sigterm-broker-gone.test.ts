import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EXIT_SLACK_MS,
  freePort,
  sigtermAsBrokerStops,
  startAppOnOwnBroker,
  type AppOnOwnBroker,
} from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { sshKeygen, tempDir, uniqueModuleId } from './support';

/** The tunnel's configured deadline (GROWOFF_SHUTDOWN_DEADLINE_MS, its default). */
const DEADLINE_MS = 5000;
let started: AppOnOwnBroker | undefined;

afterEach(async () => {
  await started?.close();
});

/** The built tunnel on its own broker, once its retained status says online. */
async function startOnOwnBroker(deadlineMs: number): Promise<AppOnOwnBroker> {
  const dir = tempDir('sigterm');
  const moduleId = uniqueModuleId('sigterm');
  const key = join(dir, 'module_ed25519');
  sshKeygen(key);
  return startAppOnOwnBroker({
    entry: resolve(import.meta.dirname, '../dist/main.js'),
    dir,
    statusTopic: topics.status(moduleId, 'tunnel'),
    env: {
      GROWOFF_MODULE_ID: moduleId,
      // A bastion is only dialled on demand; none is asked for here.
      GROWOFF_BASTION: `127.0.0.1:${await freePort()}`,
      GROWOFF_BASTION_USER: 'growoff-tunnel',
      GROWOFF_BASTION_HOSTKEY: 'SHA256:Vr1mh2ILZn9d35kUhQiYJL1OToPqANIJTsMiIiBD/yM',
      GROWOFF_TUNNEL_KEY: key,
      GROWOFF_TUNNEL_REMOTE_PORT: String(await freePort()),
      GROWOFF_DATA_DIR: join(dir, 'data'),
      GROWOFF_SHUTDOWN_DEADLINE_MS: String(deadlineMs),
    },
  });
}

describe('the built tunnel (dist/main.js)', { timeout: 120_000 }, () => {
  it('exits within its shutdown deadline when SIGTERM arrives as its own broker stops', async () => {
    started = await startOnOwnBroker(DEADLINE_MS);

    const exit = await sigtermAsBrokerStops(started.app, started.broker.pid);

    expect(exit.signal).toBeNull();
    expect([0, 1]).toContain(exit.code);
    expect(exit.elapsedMs).toBeLessThan(DEADLINE_MS + EXIT_SLACK_MS);
    expect(started.app.output()).toContain('SIGTERM: stopping');
  });

  it('exits at once on a second SIGTERM while the first waits on a hung broker', async () => {
    // A long deadline, so that exiting "at once" cannot be the deadline's doing.
    started = await startOnOwnBroker(60_000);
    const { app, broker } = started;
    // Stopped, not dead: its sockets stay open and nothing comes back, so the goodbye waits.
    process.kill(broker.pid, 'SIGSTOP');
    app.child.kill('SIGTERM');
    await app.waitForLine('SIGTERM: stopping');
    const t0 = performance.now();
    app.child.kill('SIGTERM');
    const exit = await app.exited;

    expect(exit).toMatchObject({ code: 128 + 15, signal: null });
    expect(exit.at - t0).toBeLessThan(EXIT_SLACK_MS * 5);
    expect(app.output()).toContain('SIGTERM again: exiting now');
  });
});
