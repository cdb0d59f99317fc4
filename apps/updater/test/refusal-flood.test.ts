import { DEFAULT_EVENT_RATE_LIMIT, topics } from '@growoff/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Updater, UpdaterEvent } from '../src/updater';
import { UpdaterHarness } from './support/harness';

/**
 * A broken publisher or a hostile broker identity sends documents by the hundred: every one is
 * refused, and the refusals go to the fsync'd journal and the events topic only at the rate limit,
 * the rest summarised, so that the SD card is not worn by them and the history of what the updater
 * did is not pushed out of the journal.
 */
describe('a flood of refused documents', { timeout: 60_000 }, () => {
  const FLOOD = 300;
  const { burst } = DEFAULT_EVENT_RATE_LIMIT;
  let h: UpdaterHarness;
  let updater: Updater;
  let watcher: MqttClient;
  const published: UpdaterEvent[] = [];

  beforeAll(async () => {
    h = await UpdaterHarness.create();
    watcher = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 5 });
    await watcher.subscribeAsync(topics.events(h.moduleId), { qos: 1 });
    watcher.on('message', (_t, payload) => published.push(JSON.parse(payload.toString()) as UpdaterEvent));
    updater = await h.startUpdater();
  });

  afterAll(async () => {
    await watcher?.endAsync();
    await h?.cleanup();
  });

  it('journals and publishes the first refusals of the window, then one summary of the rest', async () => {
    const seen: UpdaterEvent[] = [];
    updater.onEvent((e) => seen.push(e));
    const historyBefore = updater.history().length;
    for (let i = 0; i < FLOOD; i++) await h.publishRaw(`not a release document ${i}`, 'pin');
    // A good document on the same topic after them: once it is taken, every refusal before it was.
    const cleared = h.nextEvent('release.cleared');
    await h.unpin();
    await cleared;

    const refused = seen.filter((e) => e.type === 'release.rejected');
    expect(refused).toHaveLength(burst);
    expect(refused[0]!.data).toMatchObject({ source: 'pin', code: 'MALFORMED' });
    const history = updater.history();
    expect(history.filter((e) => e.type === 'release.rejected')).toHaveLength(burst);
    // What the updater did stays in the journal: the flood added the let-through refusals and the unpin.
    expect(history.length - historyBefore).toBe(burst + 1);

    // The summary comes when the window closes, or as the updater stops.
    const summaryPublished = new Promise<void>((resolve) =>
      watcher.on('message', (_t, payload) => {
        if ((JSON.parse(payload.toString()) as UpdaterEvent).type === 'event.suppressed') resolve();
      }),
    );
    await h.stopUpdater();
    const summary = updater.history().find((e) => e.type === 'event.suppressed');
    expect(summary?.data).toMatchObject({
      type: 'release.rejected',
      suppressed: FLOOD - burst,
      passed: burst,
    });
    await summaryPublished;
    expect(published.filter((e) => e.type === 'event.suppressed')).toHaveLength(1);
    expect(published.filter((e) => e.type === 'release.rejected')).toHaveLength(burst);
  });
});
