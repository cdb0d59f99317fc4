import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

/** Reads server-sent events off a fetch body until `until` has been seen; returns the events. */
async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (events: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after ${events.map((e) => e.event).join(', ')}`);
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
    }
  }
  return events;
}

describe('console server side', () => {
  let core: RunningCore;

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('console-stream'),
      GROWOFF_MQTT_URL: mosquitto.url,
    });
  });

  afterAll(async () => {
    await core?.stop();
  });

  it('serves the console gzipped, under a strict content security policy, and nothing outside its assets', async () => {
    const page = await fetch(`${core.httpUrl}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-encoding')).toBe('gzip');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('/console/app.js');
    expect((await fetch(`${core.httpUrl}/console/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    for (const path of ['/console/nope.js', '/console/..%2F..%2Fpackage.json', '/console/index.html']) {
      expect(await rest(core, 'GET', path)).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND' } },
      });
    }
  });

  it('pushes a snapshot, then readings and actuator changes, and ends the stream when the core stops', async () => {
    const res = await fetch(`${core.httpUrl}/api/v1/stream`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const first = await readEvents(reader, (es) => es.some((e) => e.event === 'reading'));
    expect(first[0]).toMatchObject({
      event: 'snapshot',
      data: { readings: expect.any(Array), apps: expect.any(Array) },
    });
    expect(await rest(core, 'PUT', '/api/v1/actuators/fan', { level: 33 })).toMatchObject({ status: 200 });
    const later = await readEvents(reader, (es) =>
      es.some((e) => e.event === 'actuator' && (e.data as { id: string }).id === 'fan'),
    );
    expect(later.find((e) => e.event === 'actuator')?.data).toMatchObject({
      id: 'fan',
      level: 33,
      source: 'rest',
    });

    // An open stream must not hold the shutdown up to its deadline.
    const started = Date.now();
    await core.stop();
    expect(Date.now() - started).toBeLessThan(core.config.shutdownDeadlineMs);
    let done = false;
    while (!done) done = (await reader.read().catch(() => ({ done: true }))).done;
  });
});
