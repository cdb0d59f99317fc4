import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getService, NODE_BASE_IMAGE } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerEngine,
  engineStatus,
  type ContainerCreate,
  type PullEvent,
} from '../src/engine/docker-engine';
import { ImagePuller } from '../src/engine/image-puller';
import { RegistryCredentials } from '../src/registry/ecr-credentials';
import { PrivateRegistry } from './support/harness';
import { TestImages } from './support/test-images';

/** A container of `image` with nothing of its own: no network, no binds, never restarted. */
function containerOf(image: string): ContainerCreate {
  return {
    Image: image,
    Env: [],
    Labels: {},
    HostConfig: {
      Binds: [],
      Devices: [],
      NetworkMode: 'none',
      GroupAdd: [],
      ReadonlyRootfs: false,
      Tmpfs: {},
      CapDrop: [],
      SecurityOpt: [],
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** The updater's own Engine API client against the real engine and a registry of the test's own. */
describe('the Docker engine client', { timeout: 120_000 }, () => {
  const engine = new DockerEngine(getService('docker').host);
  const dir = mkdtempSync(join(tmpdir(), 'docker-engine-test-'));
  const containers: string[] = [];
  let registry: PrivateRegistry;
  let images: TestImages;

  const auth = () => ({
    username: registry.info.username,
    password: registry.info.password,
    serveraddress: registry.info.host,
  });
  const basic = () =>
    `Basic ${Buffer.from(`${registry.info.username}:${registry.info.password}`).toString('base64')}`;

  beforeAll(async () => {
    registry = await PrivateRegistry.start();
    images = new TestImages({ registry: registry.info });
  }, 120_000);

  afterAll(async () => {
    for (const id of containers) await engine.removeContainer(id, { force: true }).catch(() => undefined);
    await images?.cleanup();
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Deletes the blob of the image's last layer (its own) from the registry's storage. */
  async function dropOwnLayer(image: string): Promise<void> {
    const [repoRef, digest] = image.split('@') as [string, string];
    const repository = repoRef.slice(registry.info.host.length + 1);
    const res = await fetch(`${registry.info.url}/v2/${repository}/manifests/${digest}`, {
      headers: { authorization: basic(), accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    const manifest = (await res.json()) as { layers: Array<{ digest: string }> };
    const hex = manifest.layers.at(-1)!.digest.slice('sha256:'.length);
    const blob = join(registry.dir, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex);
    rmSync(blob, { recursive: true, force: true });
  }

  it('pulls an image by digest with the registry login, reporting each layer', async () => {
    const image = images.build({ version: '1.0.0' });
    const events: PullEvent[] = [];
    await engine.pull(image, auth(), (e) => events.push(e));
    expect(events.some((e) => e.id && e.status === 'Pull complete')).toBe(true);
    expect(events.every((e) => e.error === undefined)).toBe(true);
    const local = await engine.inspectImage(image);
    expect(local?.RepoDigests).toContain(image);
    expect((await engine.listImages()).map((i) => i.Id)).toContain(local!.Id);
  });

  it('fails a pull of a digest the registry does not have with the engine answer, before any progress', async () => {
    const missing = `${images.repo}@sha256:${'0'.repeat(64)}`;
    const events: PullEvent[] = [];
    const error = await engine.pull(missing, auth(), (e) => events.push(e)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_FAILED' });
    expect(engineStatus(error)).toBe(404);
    expect((error as Error).message).toMatch(/^the engine answered 404: .*(manifest unknown|not found)/);
    expect(events).toEqual([]);
    expect(await engine.inspectImage(missing)).toBeNull();
  });

  it('fails a pull at the error line of its 200 stream when a layer is gone from the registry', async () => {
    const image = images.build({ version: '1.1.0', uniqueBytes: 256 * 1024 });
    await dropOwnLayer(image);
    const events: PullEvent[] = [];
    const error = await engine.pull(image, auth(), (e) => events.push(e)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_FAILED', details: { stream: true } });
    expect((error as Error).message).toMatch(/unknown blob|blob unknown/);
    expect(engineStatus(error)).toBeUndefined();
    // The engine had begun: the status was 200 and progress came before the error line.
    expect(events.some((e) => e.status === 'Pulling fs layer')).toBe(true);
    expect(await engine.inspectImage(image)).toBeNull();
  });

  it('turns that stream error into the puller coded PULL_FAILED, with the engine words', async () => {
    const image = images.build({ version: '1.2.0', uniqueBytes: 256 * 1024 });
    await dropOwnLayer(image);
    const credentials = new RegistryCredentials(async () => ({
      auth: auth(),
      endpoint: registry.info.url,
      expiresAt: Date.now() + 3600_000,
    }));
    const puller = new ImagePuller({
      engine,
      credentials,
      diskReserveBytes: 0,
      retryForMs: 0,
      stallMs: 30_000,
      onProgress: () => undefined,
      onRetry: () => undefined,
    });
    const error = await puller.pull(image).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PULL_FAILED' });
    expect((error as Error).message).toMatch(/^the pull failed: (unknown blob|blob unknown)/);
  });

  it('cancels a pull of which the engine says nothing for the stall window, and pulls it again once the registry answers', async () => {
    const image = images.build({ version: '1.4.0', uniqueBytes: 32 * 1024 * 1024 });
    let frozenAt: number | undefined;
    const events: PullEvent[] = [];
    const error = await engine
      .pull(
        image,
        auth(),
        (e) => {
          events.push(e);
          if (frozenAt === undefined && e.status === 'Downloading') {
            registry.freeze();
            frozenAt = performance.now();
          }
        },
        { stallMs: 2000 },
      )
      .catch((e: unknown) => e)
      .finally(() => registry.thaw());
    expect(frozenAt).toBeDefined();
    expect(error).toMatchObject({ code: 'PULL_FAILED', details: { stalledMs: 2000 } });
    expect((error as Error).message).toMatch(/reported no progress of the pull .* for 2 s/);
    // Not given up before a whole stall window had passed since the registry stopped answering.
    expect(performance.now() - frozenAt!).toBeGreaterThanOrEqual(2000);
    expect(events.some((e) => e.status === 'Pull complete' && e.progressDetail === undefined)).toBe(false);
    expect(await engine.inspectImage(image)).toBeNull();
    // The engine let the cancelled pull go: the same image comes whole once the registry answers.
    await engine.pull(image, auth(), () => undefined, { stallMs: 30_000 });
    expect((await engine.inspectImage(image))?.RepoDigests).toContain(image);
  });

  it('fails a pull whose progress listener throws, with the listener error', async () => {
    const image = images.build({ version: '1.3.0' });
    const error = await engine
      .pull(image, auth(), (e) => {
        if (e.status === 'Pulling fs layer') throw new Error('listener broke');
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ENGINE_FAILED',
      message: "the pull's progress listener failed: listener broke",
    });
  });

  it('takes a start of a running and a stop of a stopped container (304) as done', async () => {
    const create = { ...containerOf(NODE_BASE_IMAGE), Cmd: ['node', '-e', 'setInterval(() => {}, 1000)'] };
    const name = `docker-engine-test-${randomBytes(3).toString('hex')}`;
    const id = await engine.createContainer(name, create);
    containers.push(id);
    await engine.startContainer(id);
    await engine.startContainer(id);
    expect((await engine.inspectContainer(name))?.State.Running).toBe(true);
    await engine.stopContainer(id, 1);
    await engine.stopContainer(id, 1);
    const stopped = await engine.inspectContainer(id);
    expect(stopped?.State).toMatchObject({ Running: false, Status: 'exited' });
    expect(stopped?.Name).toBe(`/${name}`);
    const listed = await engine.listContainers();
    expect(listed.map((c) => c.Id)).toContain(id);
    await engine.removeContainer(id, { force: false });
    expect(await engine.inspectContainer(id)).toBeNull();
    const gone = await engine.removeContainer(id, { force: true }).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'ENGINE_FAILED' });
    expect(engineStatus(gone)).toBe(404);
  });

  it("gives a refused create the engine's status and its message", async () => {
    const error = await engine
      .createContainer(
        `docker-engine-test-${randomBytes(3).toString('hex')}`,
        containerOf(`${images.repo}@sha256:${'1'.repeat(64)}`),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_FAILED' });
    expect(engineStatus(error)).toBe(404);
    expect((error as Error).message).toMatch(/^the engine answered 404: No such image/);
  });

  it('says ENGINE_FAILED, naming the cause, when the engine is not there', async () => {
    const socket = new DockerEngine(`unix://${join(dir, 'none.sock')}`);
    await expect(socket.ping(2000)).rejects.toMatchObject({
      code: 'ENGINE_FAILED',
      message: expect.stringContaining('ENOENT'),
    });
    const tcp = new DockerEngine('tcp://127.0.0.1:1');
    await expect(tcp.version()).rejects.toMatchObject({
      code: 'ENGINE_FAILED',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it("gives up any other call the engine accepts but never answers, or answers only the head of, at the client's deadline", async () => {
    const path = join(dir, 'silent.sock');
    const held: Array<{ destroy(): void }> = [];
    // Answers a list's head and then nothing; every other call not at all.
    const silent: Server = createServer((socket) => {
      held.push(socket);
      socket.once('data', (request: Buffer) => {
        if (request.toString('latin1').startsWith('GET /containers/json'))
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
          );
      });
    });
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    const hung = new DockerEngine(`unix://${path}`, { callTimeoutMs: 300 });
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => 'answered',
        (e: unknown) => e,
      );
    try {
      const calls = await Promise.all([
        failure(hung.listContainers()),
        failure(hung.createContainer('x', containerOf(NODE_BASE_IMAGE))),
        failure(hung.removeContainer('x', { force: true })),
        failure(hung.inspectImage('x')),
        failure(hung.stopContainer('x', 1)),
        failure(
          hung.pull(
            `x@sha256:${'1'.repeat(64)}`,
            { username: 'u', password: 'p', serveraddress: 'r' },
            () => undefined,
          ),
        ),
      ]);
      expect(
        calls.map((e) => ({ code: (e as { code?: string }).code, message: (e as Error).message })),
      ).toEqual([
        { code: 'ENGINE_FAILED', message: 'GET /containers/json: no answer within 300 ms' },
        { code: 'ENGINE_FAILED', message: 'POST /containers/create: no answer within 300 ms' },
        { code: 'ENGINE_FAILED', message: 'DELETE /containers/x: no answer within 300 ms' },
        { code: 'ENGINE_FAILED', message: 'GET /images/x/json: no answer within 300 ms' },
        // A stop's grace comes on top of the deadline.
        { code: 'ENGINE_FAILED', message: 'POST /containers/x/stop: no answer within 1300 ms' },
        { code: 'ENGINE_FAILED', message: 'POST /images/create: no answer within 300 ms' },
      ]);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("waits out a stop's grace beyond the client's deadline, on the real engine", async () => {
    // PID 1 in a container: SIGTERM without a handler is ignored, so the engine waits the grace, then kills.
    const create = { ...containerOf(NODE_BASE_IMAGE), Cmd: ['node', '-e', 'setInterval(() => {}, 1000)'] };
    const id = await engine.createContainer(`docker-engine-test-${randomBytes(3).toString('hex')}`, create);
    containers.push(id);
    await engine.startContainer(id);
    // A call deadline shorter than the grace; the engine still has that long after its kill to
    // answer (500 ms was too little for an engine that shares two cores with a whole test run).
    const impatient = new DockerEngine(getService('docker').host, { callTimeoutMs: 3000 });
    const started = performance.now();
    await impatient.stopContainer(id, 4);
    expect(performance.now() - started).toBeGreaterThan(3500);
    expect((await engine.inspectContainer(id))?.State).toMatchObject({ Running: false, ExitCode: 137 });
  });

  it('gives up a ping the engine accepts but never answers, at its deadline', async () => {
    const path = join(dir, 'stalled.sock');
    const held: Array<{ destroy(): void }> = [];
    const stalled: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => stalled.listen(path, resolve));
    try {
      const error = await new DockerEngine(`unix://${path}`).ping(300).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ENGINE_FAILED', message: 'GET /_ping: no answer within 300 ms' });
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });
});
