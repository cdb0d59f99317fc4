import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { getService } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, TestClient, uniqueModuleId } from './helpers';
import { expectAccessible, launchBrowser, openLiveConsole, screenshot, type TestBrowser } from './browser';

const mosquitto = getService('mosquitto');

/** The console in a real browser against a core on the simulated cabinet, as `npm run demo` runs it. */
describe('console in the browser', () => {
  let core: RunningCore;
  let browser: TestBrowser;
  let page: Page;
  const requested: string[] = [];

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('console'),
      GROWOFF_MQTT_URL: mosquitto.url,
    });
    browser = await launchBrowser();
    browser.context.on('request', (r) => requested.push(new URL(r.url()).pathname));
    page = await openLiveConsole(browser, `${core.httpUrl}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await core?.stop();
  });

  it('shows readings with their quality, changing on screen as the core pushes them', async () => {
    const row = page.locator('tr[data-sensor="air_temperature"]');
    await row.locator('td.quality', { hasText: 'ok' }).waitFor();
    const first = await row.locator('td.ts').textContent();
    await expect.poll(() => row.locator('td.ts').textContent(), { timeout: 10_000 }).not.toBe(first);
    expect(await page.locator('#readings-body tr').count()).toBeGreaterThanOrEqual(8);
    // Pushed over the event stream, not polled.
    expect(requested).toContain('/api/v1/stream');
    expect(requested.filter((p) => /^\/api\/v1\/sensors(\/[^/]+)?$/.test(p))).toEqual([]);
    await screenshot(page, '01-readings');
  });

  it('switches the pump from the page, and shows the interlock refusal when the reservoir is low', async () => {
    const pump = page.locator('li[data-actuator="pump"]');
    await page.click('#actuator-pump-on');
    await pump.locator('output', { hasText: 'on' }).waitFor();
    const on = await rest(core, 'GET', '/api/v1/actuators');
    expect(
      (on.body as unknown as { id: string; state?: string }[]).find((a) => a.id === 'pump'),
    ).toMatchObject({
      state: 'on',
    });
    await screenshot(page, '02-pump-on');
    await page.click('#actuator-pump-off');
    await pump.locator('output', { hasText: 'off' }).waitFor();

    // The reservoir runs dry in the simulated cabinet, set from the page's simulation section.
    await page.fill('#sim-waterLevel', '0');
    await page.click('#sim-apply');
    await page.locator('#sim-message', { hasText: 'Environment applied' }).waitFor();
    await page.locator('tr[data-sensor="water_level"] td.value', { hasText: /^0(\.00)?$/ }).waitFor();
    await page.click('#actuator-pump-on');
    const refusal = page.locator('#actuator-pump-message');
    await refusal.locator('text=Refused by interlock').waitFor();
    expect(await refusal.textContent()).toMatch(/water level is low/);
    expect(await refusal.getAttribute('data-code')).toBe('INTERLOCK');
    const after = await rest(core, 'GET', '/api/v1/actuators');
    expect(
      (after.body as unknown as { id: string; state?: string }[]).find((a) => a.id === 'pump'),
    ).toMatchObject({
      state: 'off',
    });
    await screenshot(page, '03-pump-refused');
  });

  it('dims the fan from the page through the same command path', async () => {
    // A range input cannot be typed into; move it as a drag would and let it announce the change.
    await page.locator('#actuator-fan-level').evaluate((el) => {
      const range = el as unknown as { value: string; dispatchEvent(e: Event): boolean };
      range.value = '40';
      range.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.locator('li[data-actuator="fan"] output', { hasText: '40 %' }).waitFor();
    const fan = (await rest(core, 'GET', '/api/v1/actuators')).body as unknown as {
      id: string;
      level?: number;
    }[];
    expect(fan.find((a) => a.id === 'fan')).toMatchObject({ level: 40 });
  });

  it('lists events as they happen and filters them', async () => {
    await page.fill('#events-text', 'command.rejected');
    const rows = page.locator('#events-body tr');
    await rows.first().waitFor();
    for (const text of await rows.allTextContents()) expect(text).toContain('command.rejected');
    const all = (await rest(core, 'GET', '/api/v1/events?limit=500')).body as unknown as {
      type: string;
      severity: string;
    }[];
    const rejected = all.filter((e) => e.type === 'command.rejected');
    const severity = rejected[0]!.severity;
    await page.selectOption('#events-severity', severity);
    await expect
      .poll(() => rows.count())
      .toBe(Math.min(100, rejected.filter((e) => e.severity === severity).length));
    await page.selectOption('#events-severity', severity === 'info' ? 'error' : 'info');
    await expect.poll(() => rows.count()).toBe(0);
    await page.selectOption('#events-severity', '');
    await page.fill('#events-text', '');
    await screenshot(page, '04-events');
  });

  it("edits the config in place and shows the schema's errors at their fields, changing nothing", async () => {
    const before = await rest(core, 'GET', '/api/v1/config');
    await page.fill('#cfg-light-on', '25:99');
    await page.click('#config-save');
    await page
      .locator('#cfg-light-on-error')
      .filter({ hasText: /pattern|match/ })
      .waitFor();
    expect(await page.locator('#cfg-light-on').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#config-message').textContent()).toMatch(/INVALID_MESSAGE/);

    await page.fill('#cfg-light-on', '05:30');
    await page.fill('#cfg-climate-fanLevel', '101');
    await page.click('#config-save');
    await page.locator('#cfg-climate-fanLevel-error', { hasText: '100' }).waitFor();
    expect(await page.locator('#cfg-light-on-error').textContent()).toBe('');

    // A rule across fields, said by the core's config validation, lands at the field it names.
    await page.fill('#cfg-climate-fanLevel', '60');
    await page.fill('#cfg-climate-fanOffBelowC', '40');
    await page.click('#config-save');
    await page.locator('#cfg-climate-fanOffBelowC-error', { hasText: 'hysteresis' }).waitFor();
    expect((await rest(core, 'GET', '/api/v1/config')).body).toEqual(before.body);
    await screenshot(page, '05-config-errors');

    await page.fill('#cfg-climate-fanOffBelowC', '26');
    await page.fill('#cfg-light-on', '05:30');
    await page.fill('#cfg-climate-fanLevel', '60');
    await page.click('#config-save');
    await page.locator('#config-message', { hasText: 'Saved' }).waitFor();
    expect((await rest(core, 'GET', '/api/v1/config')).body).toMatchObject({
      light: { on: '05:30' },
      climate: { fanLevel: 60 },
    });
    expect(await page.locator('#cfg-light-on-error').textContent()).toBe('');
  });

  it("shows the updater's and tunnel's retained MQTT status, pushed as it changes", async () => {
    const mqtt = await TestClient.connect(mosquitto.url);
    const topic = topics.status(core.config.moduleId, 'updater');
    try {
      await mqtt.client.publishAsync(
        topic,
        JSON.stringify({ state: 'online', version: '9.8.7', ts: Date.now() }),
        {
          retain: true,
          qos: 1,
        },
      );
      const row = page.locator('tr[data-app="updater"]');
      await row.locator('text=9.8.7').waitFor();
      expect(await row.textContent()).toContain('online');
      await mqtt.client.publishAsync(topics.status(core.config.moduleId, 'tunnel'), '{not json', {
        retain: true,
        qos: 1,
      });
      await page.locator('tr[data-app="tunnel"]', { hasText: 'invalid: status is not JSON' }).waitFor();
      await screenshot(page, '06-apps');
    } finally {
      await mqtt.client.publishAsync(topic, '', { retain: true, qos: 1 });
      await mqtt.client.publishAsync(topics.status(core.config.moduleId, 'tunnel'), '', {
        retain: true,
        qos: 1,
      });
      await mqtt.close();
    }
  });

  it('injects and clears a simulated fault from the page', async () => {
    await page.fill('#sim-target', 'ph');
    await page.selectOption('#sim-fault', 'unplugged');
    await page.click('#sim-inject');
    await page.locator('#sim-message', { hasText: 'Injected unplugged into ph' }).waitFor();
    await page.locator('tr[data-sensor="ph"] td.quality.q-bad').waitFor();
    await screenshot(page, '07-fault');
    await page.click('#sim-clear');
    await page.locator('#sim-message', { hasText: 'All faults cleared' }).waitFor();
    await page.locator('tr[data-sensor="ph"] td.quality.q-ok').waitFor();
  });

  it('has no serious or critical accessibility violations', async () => {
    await expectAccessible(page);
  });
});
