import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXIT_SLACK_MS,
  sigtermAsBrokerStops,
  startAppOnOwnBroker,
  type AppOnOwnBroker,
} from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { UpdaterHarness } from './support/harness';

/** The updater's configured deadline (GROWOFF_SHUTDOWN_DEADLINE_MS, its default). */
const DEADLINE_MS = 5000;

describe('the built updater (dist/main.js)', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let started: AppOnOwnBroker | undefined;

  beforeAll(async () => {
    h = await UpdaterHarness.create();
  });

  afterAll(async () => {
    await started?.close();
    await h?.cleanup();
  });

  it('exits within its shutdown deadline when SIGTERM arrives as its own broker stops', async () => {
    started = await startAppOnOwnBroker({
      entry: resolve(import.meta.dirname, '../dist/main.js'),
      dir: mkdtempSync(join(tmpdir(), 'updater-sigterm-')),
      statusTopic: topics.status(h.moduleId, 'updater'),
      env: { ...h.env(), GROWOFF_SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS) },
    });

    const exit = await sigtermAsBrokerStops(started.app, started.broker.pid);

    expect(exit.signal).toBeNull();
    expect([0, 1]).toContain(exit.code);
    expect(exit.elapsedMs).toBeLessThan(DEADLINE_MS + EXIT_SLACK_MS);
    expect(started.app.output()).toContain('SIGTERM: stopping');
  });
});
