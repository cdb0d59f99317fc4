import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { getService } from '@growoff/test-services';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, uniqueModuleId } from './helpers';
import { expectAccessible, launchBrowser, screenshot, type TestBrowser } from './browser';

const mosquitto = getService('mosquitto');
const TOKEN = 'console-test-token-0123456789';

/** With `GROWOFF_HTTP_TOKEN` set, as off loopback: the sign-in page, the session cookie, /docs. */
describe('console sign-in in the browser', () => {
  let core: RunningCore;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('console-auth'),
      GROWOFF_MQTT_URL: mosquitto.url,
      GROWOFF_HTTP_TOKEN: TOKEN,
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await core?.stop();
  });

  it('sends a visitor without a session to the sign-in page, which is accessible', async () => {
    await page.goto(`${core.httpUrl}/`);
    await page.waitForURL(/\/sign-in\?next=%2F$/);
    await page.locator('#token').waitFor();
    await expectAccessible(page);
    await screenshot(page, '21-sign-in');
  });

  it('refuses a wrong token with 401 in the error contract, on the page and on the wire', async () => {
    await page.fill('#token', 'not-the-token');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST'),
      page.click('#sign-in'),
    ]);
    expect(answer.status()).toBe(401);
    expect(await answer.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    await page.locator('#sign-in-message[role="alert"]', { hasText: 'UNAUTHORIZED' }).waitFor();
    expect(await browser.context.cookies()).toEqual([]);
    await screenshot(page, '22-sign-in-refused');
  });

  it('signs in with the token: an HttpOnly, SameSite=Strict, expiring session cookie opens the console', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#sign-in');
    await page.waitForURL(`${core.httpUrl}/`);
    await page.locator('#stream-status', { hasText: 'live' }).waitFor();
    await page.locator('tr[data-sensor="ph"]').waitFor();
    const [cookie] = await browser.context.cookies();
    expect(cookie).toMatchObject({ name: 'growoff_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // A change from the page passes the cross-site check (the page's own Origin).
    await page.click('#actuator-pump-off');
    await page.locator('#actuator-pump-message', { hasText: 'pump: off' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, '23-signed-in');
  });

  it('opens /docs after sign-in', async () => {
    const res = await page.goto(`${core.httpUrl}/docs`);
    expect(res?.ok()).toBe(true);
    await page.locator('.swagger-ui .info .title', { hasText: 'GrowOff core' }).waitFor();
    await screenshot(page, '24-docs');
  });

  it('accepts the cookie on the API for reads only from elsewhere: a change without this origin is refused', async () => {
    const [cookie] = await browser.context.cookies();
    const jar = { cookie: `growoff_session=${cookie!.value}` };
    expect((await rest(core, 'GET', '/api/v1/actuators', undefined, jar)).status).toBe(200);
    const forged = await rest(
      core,
      'PUT',
      '/api/v1/actuators/pump',
      { state: 'off' },
      {
        ...jar,
        origin: 'http://evil.example',
      },
    );
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    const bare = await rest(core, 'PUT', '/api/v1/actuators/pump', { state: 'off' }, jar);
    expect(bare.status).toBe(401);
    const bearer = await rest(
      core,
      'PUT',
      '/api/v1/actuators/pump',
      { state: 'off' },
      {
        authorization: `Bearer ${TOKEN}`,
      },
    );
    expect(bearer.status).toBe(200);
  });

  it('signs out: the session is gone on the server, the API refuses the old cookie', async () => {
    const [cookie] = await browser.context.cookies();
    await page.goto(`${core.httpUrl}/`);
    await page.click('#sign-out');
    await page.waitForURL(/\/sign-in/);
    expect(await browser.context.cookies()).toEqual([]);
    const old = await rest(core, 'GET', '/api/v1/sensors', undefined, {
      cookie: `growoff_session=${cookie!.value}`,
    });
    expect(old).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    const stream = await fetch(`${core.httpUrl}/api/v1/stream`, {
      headers: { cookie: `growoff_session=${cookie!.value}` },
    });
    expect(stream.status).toBe(401);
    expect(await stream.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const docs = await page.goto(`${core.httpUrl}/docs`);
    expect(new URL(docs!.url()).pathname).toBe('/sign-in');
  });
});
