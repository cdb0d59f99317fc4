import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startJsonServer, type JsonServer } from './json-server';

describe('the JSON server of the updater', () => {
  let server: JsonServer | undefined;
  let checks = 0;

  afterEach(async () => {
    await server?.close();
    server = undefined;
    checks = 0;
  });

  async function start(): Promise<string> {
    server = await startJsonServer(
      {
        'GET /status': () => ({ status: 200, body: { phase: 'idle' } }),
        'POST /check': () => {
          checks++;
          return { status: 202, body: { accepted: true } };
        },
      },
      0,
    );
    return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  }

  it('answers a GET route with a query string, and HEAD with its headers alone', async () => {
    const base = await start();
    const get = await fetch(`${base}/status?verbose=1`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await get.json()).toEqual({ phase: 'idle' });
    const head = await fetch(`${base}/status`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(JSON.stringify({ phase: 'idle' }).length));
    expect(await head.text()).toBe('');
  });

  it('takes a POST with no body, a JSON body or a text body', async () => {
    const base = await start();
    expect((await fetch(`${base}/check`, { method: 'POST' })).status).toBe(202);
    const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"now":true}' };
    expect((await fetch(`${base}/check`, json)).status).toBe(202);
    const text = { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'now' };
    expect((await fetch(`${base}/check`, text)).status).toBe(202);
    expect(checks).toBe(3);
  });

  it('refuses a body over 1 MB, an empty JSON body and one without a type, and runs nothing', async () => {
    const base = await start();
    const post = async (body: string | Uint8Array, type?: string) => {
      const res = await fetch(`${base}/check`, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body,
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    };
    expect(await post('x'.repeat(1024 * 1024 + 1), 'text/plain')).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_MESSAGE' } },
    });
    expect(await post('', 'application/json')).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_JSON' } },
    });
    expect(await post(new Uint8Array([1, 2, 3]))).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_MESSAGE' } },
    });
    expect(checks).toBe(0);
  });

  it('answers a route of another method, and an inherited property name, 404 NOT_FOUND', async () => {
    const base = await start();
    const del = await fetch(`${base}/status`, { method: 'DELETE' });
    expect(del.status).toBe(404);
    expect(await del.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route DELETE /status' } });
    expect((await fetch(`${base}/constructor`)).status).toBe(404);
  });

  it('refuses a port already taken, with the error of the listen', async () => {
    const base = await start();
    const port = Number(new URL(base).port);
    await expect(startJsonServer({}, port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
