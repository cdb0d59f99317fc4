import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getService, startSecureMosquitto, type SecureMosquitto } from '@growoff/test-services';
import { connectMqtt } from '../src';

const clientId = () => `connect-test-${randomBytes(4).toString('hex')}`;

/** A local TCP listener that hands over the first bytes each connection sends. */
async function firstBytesServer(): Promise<{
  url: (scheme: string, auth?: string) => string;
  next: Promise<Buffer>;
  server: Server;
}> {
  let deliver!: (b: Buffer) => void;
  const next = new Promise<Buffer>((resolve) => (deliver = resolve));
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', (d: Buffer) => deliver(d));
    socket.on('error', () => undefined);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: (scheme, auth) => `${scheme}://${auth ? `${auth}@` : ''}127.0.0.1:${port}`, next, server };
}

describe('connectMqtt: mqtt.js connect without its unused transports', () => {
  const clients: MqttClient[] = [];
  const servers: Server[] = [];
  let secure: SecureMosquitto;

  beforeAll(async () => {
    secure = await startSecureMosquitto({ users: [{ username: 'link', password: 'pw' }] });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
    for (const s of servers.splice(0)) s.close();
  });
  afterAll(async () => {
    await secure?.stop();
  });

  it('connects to a plain mqtt: broker and round-trips a message', async () => {
    const client = connectMqtt(getService('mosquitto').url, { clientId: clientId(), writeCache: false });
    clients.push(client);
    await new Promise((resolve) => client.once('connect', resolve));
    const topic = `connect-test/${randomBytes(4).toString('hex')}`;
    await client.subscribeAsync(topic, { qos: 1 });
    const received = new Promise<string>((resolve) =>
      client.once('message', (_t, p) => resolve(p.toString())),
    );
    await client.publishAsync(topic, 'hello', { qos: 1 });
    expect(await received).toBe('hello');
  });

  it('sends the credentials of the URL in its CONNECT', async () => {
    const listener = await firstBytesServer();
    servers.push(listener.server);
    clients.push(connectMqtt(listener.url('mqtt', 'url-user:url-secret'), { clientId: clientId() }));
    const connect = await listener.next;
    expect(connect[0]! >> 4).toBe(1); // CONNECT
    expect(connect.includes('url-user')).toBe(true);
    expect(connect.includes('url-secret')).toBe(true);
  });

  it('speaks TLS on an mqtt: URL given a client certificate and key, and logs in', async () => {
    const options = secure.clientOptions('link', 'pw');
    const client = connectMqtt(secure.url.replace(/^mqtts:/, 'mqtt:'), { ...options, clientId: clientId() });
    clients.push(client);
    await new Promise((resolve) => client.once('connect', resolve));
    expect(client.connected).toBe(true);
  });

  it('refuses a TLS broker whose certificate its CA did not sign', async () => {
    const { cert, key, username, password } = secure.clientOptions('link', 'pw');
    const client = connectMqtt(secure.url, {
      cert,
      key,
      username,
      password,
      clientId: clientId(),
      reconnectPeriod: 0,
    });
    clients.push(client);
    const error = await new Promise<Error>((resolve) => client.on('error', resolve));
    expect(client.connected).toBe(false);
    expect(error.message).toMatch(/certificate/i);
  });

  it('opens a ws: URL through mqtt.js WebSocket transport, loaded on demand', async () => {
    const listener = await firstBytesServer();
    servers.push(listener.server);
    clients.push(connectMqtt(`${listener.url('ws')}/mqtt`, { clientId: clientId() }));
    const request = (await listener.next).toString('latin1');
    expect(request).toMatch(/^GET \/mqtt HTTP\/1\.1\r\n/);
    expect(request).toMatch(/\r\nUpgrade: websocket\r\n/i);
    expect(request).toMatch(/\r\nSec-WebSocket-Protocol: mqtt\r\n/i);
  });

  it('refuses a URL without a protocol', () => {
    expect(() => connectMqtt('127.0.0.1:1883', {})).toThrow(/protocol/i);
  });
});
