import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { getService } from '@growoff/test-services';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, uniqueModuleId } from './helpers';
import { expectAccessible, launchBrowser, openLiveConsole, screenshot, type TestBrowser } from './browser';

const mosquitto = getService('mosquitto');

/**
 * The console's calibration and alarm sections in a real browser. They run on the history,
 * calibration and alarm endpoints of issue #16's data part (`/api/v1/sensors/{id}/calibration`,
 * `/api/v1/alarms`), built alongside the console: without them these tests fail.
 */
describe('console in the browser: calibration and alarms', () => {
  let core: RunningCore;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('console-data'),
      GROWOFF_MQTT_URL: mosquitto.url,
    });
    browser = await launchBrowser();
    page = await openLiveConsole(browser, `${core.httpUrl}/`);
    await page.locator('tr[data-sensor="ph"] td.quality', { hasText: 'ok' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await core?.stop();
  });

  it('plots the history of each sensor', async () => {
    // The plots come one by one, as each sensor's history arrives: wait for the eighth (or a refusal).
    const canvases = page.locator('#plots figure canvas');
    await canvases.nth(7).or(page.locator('#plots .unavailable')).first().waitFor();
    expect(await page.locator('#plots .unavailable').count()).toBe(0);
    expect(await canvases.count()).toBeGreaterThanOrEqual(8);
    expect(await page.locator('figure[data-plot="ph"] canvas').count()).toBe(1);
  });

  it('raises an alarm past a limit set from the page, and acknowledges it there', async () => {
    await page.locator('#cfg-alarms-limits-ph-high, #alarms-content .unavailable').first().waitFor();
    expect(await page.locator('#alarms-content .unavailable').count()).toBe(0);
    await page.fill('#cfg-alarms-limits-ph-low', '1');
    await page.fill('#cfg-alarms-limits-ph-high', '3');
    await page.fill('#cfg-alarms-limits-ph-delayS', '0');
    await page.click('#config-save');
    await page.locator('#config-message', { hasText: 'Saved' }).waitFor();
    const row = page.locator('tr[data-alarm="ph:high"]');
    await row.locator('td.acknowledged', { hasText: 'no' }).waitFor();
    await screenshot(page, '11-alarm-raised');
    await page.click('#ack-ph-high');
    await row.locator('td.acknowledged', { hasText: 'yes' }).waitFor();
    const alarms = (await rest(core, 'GET', '/api/v1/alarms')).body as unknown as {
      alarms: { sensor: string; limit: string; acknowledged: boolean }[];
    };
    expect(alarms.alarms.find((a) => a.sensor === 'ph' && a.limit === 'high')).toMatchObject({
      acknowledged: true,
    });
    await screenshot(page, '12-alarm-acknowledged');
  });

  it('runs a pH calibration from the page and shows its point and date', async () => {
    await page.locator('#cal-actions button, #calibration-content .unavailable').first().waitFor();
    expect(await page.locator('#calibration-content .unavailable').count()).toBe(0);
    await page.selectOption('#cal-sensor', 'ph');
    await page.fill('#cal-value', '7');
    await page.click('#cal-mid');
    await page.locator('#cal-message', { hasText: 'ph: mid done.' }).waitFor();
    await page.locator('#cal-points', { hasText: 'mid 7' }).waitFor();
    const cal = (await rest(core, 'GET', '/api/v1/sensors/ph/calibration')).body as unknown as {
      points: { action: string; value?: number }[];
      calibratedAt: number | null;
    };
    expect(cal.points).toEqual([expect.objectContaining({ action: 'mid', value: 7 })]);
    expect(cal.calibratedAt).not.toBeNull();
    await screenshot(page, '13-ph-calibrated');
  });

  it('has no serious or critical accessibility violations with every section filled', async () => {
    await expectAccessible(page);
  });
});
