import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { waitUntil } from '@growoff/test-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BastionSession } from '../src/bastion-session';
import { sshAlgorithms } from '../src/ssh-algorithms';
import { killBastion, sessionOptions, startBastion, type Bastion } from './support';

const MiB = 1024 * 1024;

/** A local service on loopback; `onConnection` gets each connection the tunnel makes to it. */
async function localService(onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

describe("the relay between the bastion's forwarded port and the local service", () => {
  let bastion: Bastion;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    bastion = await startBastion('relay');
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await killBastion(bastion);
  });

  async function open(service: net.Server): Promise<BastionSession> {
    cleanups.push(() => new Promise<void>((done) => service.close(() => done())));
    const session = await BastionSession.connect(sessionOptions(bastion, portOf(service)));
    cleanups.push(() => session.close());
    await session.forward(bastion.remotePort);
    return session;
  }

  function connectSender(): net.Socket {
    const sender = net.connect({ host: '127.0.0.1', port: bastion.remotePort });
    sender.on('error', () => undefined);
    cleanups.push(() => void sender.destroy());
    return sender;
  }

  it("carries 16 MiB intact each way, with this CPU's first cipher run by ssh2's native binding", async () => {
    const payload = randomBytes(16 * MiB);
    const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    // The service takes the whole payload, then sends it back.
    const service = await localService((socket) => {
      const chunks: Buffer[] = [];
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received === payload.length) socket.end(Buffer.concat(chunks));
      });
    });
    const session = await open(service);
    expect(session.transport).toEqual({
      cipher: (sshAlgorithms().cipher as string[])[0],
      nativeCrypto: true,
    });

    const sender = connectSender();
    const back: Buffer[] = [];
    sender.on('data', (chunk: Buffer) => back.push(chunk));
    const ended = new Promise((done) => sender.once('end', done));
    sender.end(payload);
    await ended;
    const echoed = Buffer.concat(back);
    expect(echoed.length).toBe(payload.length);
    expect(digest(echoed)).toBe(digest(payload));
  });

  it('holds a sender back while the local service reads nothing: the bastion gets no more window, and memory here stays bounded', async () => {
    const total = 48 * MiB;
    let connection: (socket: net.Socket) => void = () => undefined;
    const connected = new Promise<net.Socket>((done) => (connection = done));
    const service = await localService((socket) => {
      socket.pause();
      connection(socket);
    });
    const session = await open(service);

    const sender = connectSender();
    const chunk = Buffer.alloc(MiB, 0x5a);
    for (let sent = 0; sent < total; sent += chunk.length) sender.write(chunk);
    const serviceSocket = await connected;

    // The local service reads nothing: once this side has taken all it granted, the window is spent.
    await waitUntil('the window to be spent', () => session.relayed()[0]?.window === 0, 30_000);
    const [relay] = session.relayed();
    // ssh2 grants a 2 MiB window while it holds under 2 MiB; the local socket takes one read more.
    expect(relay!.held).toBeGreaterThan(0);
    expect(relay!.held).toBeLessThanOrEqual(4.5 * MiB);
    // The rest waits at the sender, not in this process.
    expect(sender.writableLength).toBeGreaterThan(0);

    // Once the service reads, all of it arrives.
    let received = 0;
    const all = new Promise<void>((done) =>
      serviceSocket.on('data', (data: Buffer) => {
        received += data.length;
        if (received >= total) done();
      }),
    );
    serviceSocket.resume();
    await all;
    expect(received).toBe(total);
  }, 60_000);
});
