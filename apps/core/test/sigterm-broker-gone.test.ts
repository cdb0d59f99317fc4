import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EXIT_SLACK_MS,
  freePort,
  sigtermAsBrokerStops,
  startAppOnOwnBroker,
  type AppOnOwnBroker,
} from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { uniqueModuleId } from './helpers';

/** The core's configured deadline (GROWOFF_SHUTDOWN_DEADLINE_MS, its default). */
const DEADLINE_MS = 5000;
describe('the built core (dist/main.js)', { timeout: 120_000 }, () => {
  it('exits within its shutdown deadline when SIGTERM arrives as its own broker stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'core-sigterm-'));
    const moduleId = uniqueModuleId('sigterm-gone');
    const started: AppOnOwnBroker = await startAppOnOwnBroker({
      entry: resolve(import.meta.dirname, '../dist/main.js'),
      dir,
      statusTopic: topics.status(moduleId, 'core'),
      env: {
        GROWOFF_MODULE_ID: moduleId,
        GROWOFF_HTTP_PORT: String(await freePort()),
        GROWOFF_DATA_DIR: join(dir, 'data'),
        GROWOFF_SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS),
      },
    });

    try {
      const exit = await sigtermAsBrokerStops(started.app, started.broker.pid);
      expect(exit.signal).toBeNull();
      expect([0, 1]).toContain(exit.code);
      expect(exit.elapsedMs).toBeLessThan(DEADLINE_MS + EXIT_SLACK_MS);
      expect(started.app.output()).toContain('SIGTERM: stopping');
    } finally {
      await started.close();
    }
  });
});
