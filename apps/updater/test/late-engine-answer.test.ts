import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getService } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';

/**
 * The real engine behind a Unix socket of the test's own, which can hold back the engine's answers
 * to `POST /containers/create`: the engine creates the container at once, the updater hears nothing
 * (an engine whose SD card stalls answers after the updater's deadline).
 */
class SlowCreates {
  holding = false;
  /** Resolved with the engine's held answer to each held create (the container then exists). */
  private answered: Array<(answer: string) => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  static async start(path: string, engineSocket: string): Promise<SlowCreates> {
    const server = createServer();
    const proxy = new SlowCreates(path, server);
    server.on('connection', (client) => proxy.relay(client, engineSocket));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return proxy;
  }

  /** The engine's answer to the next create held back. */
  nextHeldAnswer(): Promise<string> {
    return new Promise((resolve) => this.answered.push(resolve));
  }

  private relay(client: Socket, engineSocket: string): void {
    const engine = connect(engineSocket);
    this.sockets.add(client).add(engine);
    // Requests on one connection come one after another: from a held create on, nothing the
    // engine says on it reaches the updater.
    let held = false;
    let answered = false;
    client.on('data', (chunk: Buffer) => {
      if (this.holding && chunk.toString('latin1').startsWith('POST /containers/create')) held = true;
      engine.write(chunk);
    });
    engine.on('data', (chunk: Buffer) => {
      if (!held) {
        client.write(chunk);
        return;
      }
      // The engine answers a create once the container exists.
      if (!answered) for (const resolve of this.answered.splice(0)) resolve(chunk.toString('latin1'));
      answered = true;
      if (client.destroyed) engine.destroy();
    });
    // The updater giving up closes its side; the engine's side stays until the engine answered,
    // so that the create is not cancelled with the connection.
    client.on('close', () => {
      if (!held || answered) engine.destroy();
    });
    engine.on('close', () => client.destroy());
    client.on('error', () => undefined);
    engine.on('error', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('an engine that answers a create after the updater gave up on it', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'updater-late-engine-'));
  let proxy: SlowCreates;
  let h: UpdaterHarness;
  let v1: string;
  let v2: string;
  let v3: string;

  beforeAll(async () => {
    proxy = await SlowCreates.start(join(dir, 'engine.sock'), getService('docker').socket);
    h = await UpdaterHarness.create({ env: { GROWOFF_DOCKER_HOST: `unix://${proxy.path}` } });
    v1 = h.images.build({ version: '1.0.0' });
    v2 = h.images.build({ version: '1.1.0' });
    v3 = h.images.build({ version: '1.2.0' });
    // Long enough for any call of a loaded engine but the held ones, short enough for a test.
    await h.startUpdater({}, { engineCallTimeoutMs: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rolls back, and removes the container the engine made late before the next release's images are pruned", async () => {
    await h.installed(v1, '1.0.0');

    proxy.holding = true;
    const heldAnswer = proxy.nextHeldAnswer();
    const rolledBack = h.nextEvent('install.rolled_back');
    await h.publish(v2, '1.1.0');
    const event = await rolledBack;
    expect(event.message).toMatch(/POST \/containers\/create: no answer within 15000 ms/);
    expect(await heldAnswer).toMatch(/^HTTP\/1\.1 201 /);
    proxy.holding = false;
    // The previous core serves again; the engine holds a created, never started 1.1.0 container.
    expect(await h.coreHealth()).toBe('1.0.0');
    const afterRollback = await h.coreContainers();
    expect(afterRollback).toHaveLength(2);
    const stray = afterRollback.find((c) => c.image === v2);
    expect(stray).toMatchObject({ running: false });
    expect(afterRollback.find((c) => c.image === v1)).toMatchObject({ running: true });

    const removed = h.nextEvent('reconcile.removed', (e) => e.data?.container === stray!.id);
    const pruned = h.nextEvent('images.pruned');
    await h.installed(v3, '1.2.0');
    await removed;
    expect((await pruned).data?.removed).toEqual(expect.arrayContaining([v1, v2]));
    expect(await h.coreContainers()).toEqual([expect.objectContaining({ running: true, image: v3 })]);
    const digests = (await h.docker.listImages()).flatMap((i) => i.RepoDigests ?? []);
    expect(digests).toContain(v3);
    expect(digests).not.toContain(v2);
    expect(digests).not.toContain(v1);
  });
});
