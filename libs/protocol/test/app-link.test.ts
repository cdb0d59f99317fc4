import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, getService, startMosquitto, stopProcess } from '@growoff/test-services';
import {
  AppLink,
  MAX_REQUEST_BYTES,
  ProtocolError,
  topics,
  type AppLinkOptions,
  type LinkRejection,
} from '../src';
import { TcpProxy } from './support/tcp-proxy';

interface Message {
  topic: string;
  text: string;
  retain: boolean;
  correlation?: string;
  json(): Record<string, unknown>;
}

/** A real MQTT client that records what it receives; `next` awaits a match (past or future). */
class Watcher {
  private readonly messages: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m: Message = {
        topic,
        text: payload.toString(),
        retain: packet.retain,
        correlation: packet.properties?.correlationData?.toString(),
        json: () => (payload.length === 0 ? {} : (JSON.parse(payload.toString()) as Record<string, unknown>)),
      };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(url: string, protocolVersion: 4 | 5, ...filters: string[]): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion,
      clientId: `link-test-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 200,
    });
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return new Watcher(client);
  }

  /** The first matching message received after `from` (an index from `mark()`). */
  next(match: (m: Message) => boolean, what: string, from = 0, timeoutMs = 15_000): Promise<Message> {
    const seen = this.messages.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        match: (m) => this.messages.indexOf(m) >= from && match(m),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  mark(): number {
    return this.messages.length;
  }

  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = {}): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos: 1, ...options });
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

const broker = getService('mosquitto');
const brokerTarget = { host: '127.0.0.1', port: broker.port };
const links: AppLink[] = [];

function moduleId(tag: string): string {
  return `link-${tag}-${randomBytes(4).toString('hex')}`;
}

/** A link of the `core` app with an `echo` method and the actuators' `set` commands, recording what ran. */
function startLink(
  id: string,
  protocolVersion: 4 | 5,
  over: Partial<AppLinkOptions> & { url?: string } = {},
): {
  link: AppLink;
  ran: string[];
  rejections: LinkRejection[];
  nextRun: () => Promise<string>;
  nextConnection: () => Promise<boolean>;
} {
  const ran: string[] = [];
  const rejections: LinkRejection[] = [];
  const runWaiters: ((what: string) => void)[] = [];
  const connectionWaiters: ((connected: boolean) => void)[] = [];
  const record = (what: string) => {
    ran.push(what);
    for (const w of runWaiters.splice(0)) w(what);
  };
  const link = new AppLink({
    connection: { url: over.url ?? broker.url, protocolVersion },
    app: 'core',
    moduleId: id,
    version: '1.2.3',
    clientId: `link-test-${id}`,
    reconnectPeriodMs: 100,
    statusFields: (state) => ({ extra: state === 'online' ? 'fields' : 'gone' }),
    request: (method, body) => {
      record(`req ${method}`);
      if (method === 'echo') return { echoed: body.value };
      if (method === 'refuse') throw new ProtocolError('CONFLICT', 'not now', { why: 'test' });
      throw new ProtocolError('UNKNOWN_METHOD', `no method "${method}"`);
    },
    commands: [
      {
        name: 'set',
        filter: topics.allActuatorSets(id),
        run: (target, body) => {
          record(`set ${target}`);
          return { target, ...body };
        },
      },
    ],
    onRejected: (r) => rejections.push(r),
    onConnectionChange: (connected) => {
      for (const w of connectionWaiters.splice(0)) w(connected);
    },
    ...over,
  });
  link.start();
  links.push(link);
  return {
    link,
    ran,
    rejections,
    nextRun: () => new Promise((resolve) => runWaiters.push(resolve)),
    nextConnection: () => new Promise((resolve) => connectionWaiters.push(resolve)),
  };
}

afterEach(async () => {
  for (const link of links.splice(0)) await link.stop(2000);
});

describe.each([5, 4] as const)('the app link on MQTT %s', (v) => {
  const replies = (id: string) => `test/${id}/replies`;
  const version = v === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  const v5 = v === 5;

  it(`keeps a retained online status with the app's fields, its will says offline when the socket dies, and it republishes online on reconnect (${version})`, async () => {
    const id = moduleId(`status${v}`);
    const proxy = await TcpProxy.start(brokerTarget);
    const watcher = await Watcher.connect(broker.url, v, topics.status(id, 'core'));
    try {
      const { link } = startLink(id, v, { url: proxy.url });
      await link.ready();
      const online = await watcher.next((m) => m.json().state === 'online', 'online');
      expect(online.json()).toMatchObject({ state: 'online', version: '1.2.3', extra: 'fields' });
      const from = watcher.mark();
      proxy.cut();
      const will = await watcher.next((m) => m.json().state === 'offline', 'the will', from);
      expect(will.json()).toMatchObject({ state: 'offline', version: '1.2.3', extra: 'gone' });
      const again = await watcher.next((m) => m.json().state === 'online', 'online again', from);
      expect(watcher.mark()).toBeGreaterThan(from);
      expect(again.json()).toMatchObject({ state: 'online', extra: 'fields' });
      // Retained: a newcomer sees the module's current state.
      const late = await Watcher.connect(broker.url, v, topics.status(id, 'core'));
      expect((await late.next(() => true, 'retained status')).json()).toMatchObject({ state: 'online' });
      await late.close();
      const beforeStop = watcher.mark();
      await link.stop(2000);
      const offline = await watcher.next((m) => m.json().state === 'offline', 'offline on stop', beforeStop);
      expect(offline.json()).toMatchObject({ version: '1.2.3' });
    } finally {
      await watcher.publish(topics.status(id, 'core'), '', { retain: true });
      await watcher.close();
      await proxy.close();
    }
  });

  it(`answers a request ${v5 ? 'on its response topic with its correlation data' : 'on the 3.1.1 res/ topic'}, and a coded refusal of the handler (${version})`, async () => {
    const id = moduleId(`req${v}`);
    const { link, ran } = startLink(id, v);
    await link.ready();
    const watcher = await Watcher.connect(
      broker.url,
      v,
      replies(id),
      topics.response(id, 'core', 'echo'),
      topics.response(id, 'core', 'refuse'),
    );
    const props = (c: string) =>
      v5 ? { properties: { responseTopic: replies(id), correlationData: Buffer.from(c) } } : {};
    await watcher.publish(
      topics.request(id, 'core', 'echo'),
      JSON.stringify({ id: 'r1', value: 42 }),
      props('c-1'),
    );
    const answer = await watcher.next((m) => m.json().id === 'r1', 'the answer');
    expect(answer.json()).toEqual({ id: 'r1', ok: true, result: { echoed: 42 } });
    expect(answer.topic).toBe(v5 ? replies(id) : topics.response(id, 'core', 'echo'));
    if (v5) expect(answer.correlation).toBe('c-1');
    await watcher.publish(topics.request(id, 'core', 'refuse'), JSON.stringify({ id: 7 }), props('c-2'));
    expect((await watcher.next((m) => m.json().id === 7, 'the refusal')).json()).toEqual({
      id: 7,
      ok: false,
      error: { code: 'CONFLICT', message: 'not now', details: { why: 'test' } },
    });
    expect(ran).toEqual(['req echo', 'req refuse']);
    await watcher.close();
  });

  it(`refuses an oversized payload, bad JSON and a non-object before the handler runs, and reports each (${version})`, async () => {
    const id = moduleId(`bad${v}`);
    const { link, ran, rejections } = startLink(id, v);
    await link.ready();
    const watcher = await Watcher.connect(broker.url, v, replies(id), topics.response(id, 'core', 'echo'));
    const send = async (payload: string, c: string) => {
      const from = watcher.mark();
      await watcher.publish(
        topics.request(id, 'core', 'echo'),
        payload,
        v5 ? { properties: { responseTopic: replies(id), correlationData: Buffer.from(c) } } : {},
      );
      return (await watcher.next(() => true, `answer ${c}`, from)).json();
    };
    const big = JSON.stringify({ id: 'big', value: 'x'.repeat(MAX_REQUEST_BYTES) });
    expect(await send(big, 'big')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_MESSAGE', details: { maxBytes: MAX_REQUEST_BYTES } },
    });
    // Just under the cap is served.
    const fits = JSON.stringify({ id: 'fits', value: '' });
    const padded = JSON.stringify({ id: 'fits', value: 'y'.repeat(MAX_REQUEST_BYTES - fits.length) });
    expect(Buffer.byteLength(padded)).toBe(MAX_REQUEST_BYTES);
    expect(await send(padded, 'fits')).toMatchObject({ id: 'fits', ok: true });
    expect(await send('{not json', 'json')).toEqual({
      ok: false,
      error: { code: 'BAD_JSON', message: 'payload is not valid UTF-8 JSON' },
    });
    expect(await send('[1,2]', 'array')).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    expect(ran).toEqual(['req echo']);
    expect(rejections.map((r) => [r.target, r.error.code])).toEqual([
      ['echo', 'INVALID_MESSAGE'],
      ['echo', 'BAD_JSON'],
      ['echo', 'INVALID_MESSAGE'],
    ]);
    await watcher.close();
  });

  it(`answers unknown${v5 ? ', empty and spaced' : ''} method names with UNKNOWN_METHOD (${version})`, async () => {
    const id = moduleId(`names${v}`);
    const { link, ran, rejections } = startLink(id, v);
    await link.ready();
    const watcher = await Watcher.connect(broker.url, v, replies(id), topics.response(id, 'core', 'nosuch'));
    const prefix = topics.allRequests(id, 'core').slice(0, -1);
    // Control characters never reach us: Mosquitto drops the client that publishes them.
    const names = v5 ? ['nosuch', '', 'get sensors'] : ['nosuch'];
    for (const name of names) {
      const from = watcher.mark();
      await watcher.publish(
        `${prefix}${name}`,
        JSON.stringify({ id: `n-${name}` }),
        v5 ? { properties: { responseTopic: replies(id), correlationData: Buffer.from(name) } } : {},
      );
      const answer = await watcher.next(() => true, `answer for "${name}"`, from);
      expect(answer.json()).toMatchObject({ id: `n-${name}`, ok: false, error: { code: 'UNKNOWN_METHOD' } });
      if (v5) expect(answer.correlation).toBe(name);
    }
    // The handler decides about a valid name; the link refuses the invalid ones itself.
    expect(ran).toEqual(['req nosuch']);
    expect(rejections.map((r) => r.target)).toEqual(names.slice(1));
    await watcher.close();
  });

  it(`never executes a retained request or command, whether it waited on the broker or arrives live (${version})`, async () => {
    const id = moduleId(`retained${v}`);
    const watcher = await Watcher.connect(broker.url, v, replies(id), topics.response(id, 'core', 'echo'));
    const props = (c: string) =>
      v5 ? { properties: { responseTopic: replies(id), correlationData: Buffer.from(c) } } : {};
    const requestTopic = topics.request(id, 'core', 'echo');
    const setTopic = topics.actuatorSet(id, 'light');
    try {
      // Left on the broker before the app connects: delivered with the retain flag at subscribe.
      await watcher.publish(requestTopic, JSON.stringify({ id: 'stored', value: 1 }), {
        retain: true,
        ...props('stored'),
      });
      await watcher.publish(setTopic, JSON.stringify({ id: 'stored-set', state: 'on' }), {
        retain: true,
        ...props('stored-set'),
      });
      const { link, ran, rejections } = startLink(id, v);
      await link.ready();
      const stored = await watcher.next((m) => m.json().id === 'stored', 'answer to the stored request');
      expect(stored.json()).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
      expect(stored.json().error).toMatchObject({ message: expect.stringContaining('retained') });
      if (v5) {
        const storedSet = await watcher.next((m) => m.json().id === 'stored-set', 'answer to the stored set');
        expect(storedSet.json()).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
        // Live: Retain As Published keeps the flag on delivery to a subscriber already there.
        await watcher.publish(requestTopic, JSON.stringify({ id: 'live', value: 2 }), {
          retain: true,
          ...props('live'),
        });
        const live = await watcher.next((m) => m.json().id === 'live', 'answer to the live retained request');
        expect(live.json()).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
        expect(live.correlation).toBe('live');
      }
      // An unretained request after them is served: nothing else changed.
      await watcher.publish(requestTopic, JSON.stringify({ id: 'plain', value: 3 }), props('plain'));
      expect((await watcher.next((m) => m.json().id === 'plain', 'plain answer')).json()).toMatchObject({
        ok: true,
      });
      expect(ran).toEqual(['req echo']);
      expect(rejections.map((r) => `${r.target}: ${r.error.code}`).sort()).toEqual(
        [
          'echo: INVALID_MESSAGE',
          'set light: INVALID_MESSAGE',
          ...(v5 ? ['echo: INVALID_MESSAGE'] : []),
        ].sort(),
      );
    } finally {
      await watcher.publish(requestTopic, '', { retain: true });
      await watcher.publish(setTopic, '', { retain: true });
      await watcher.close();
    }
  });

  it(`serves a command topic through the same path: ${v5 ? 'answered on its response topic' : 'run, with no 3.1.1 answer'} (${version})`, async () => {
    const id = moduleId(`cmd${v}`);
    const { link, ran, rejections, nextRun } = startLink(id, v);
    await link.ready();
    const watcher = await Watcher.connect(broker.url, v, replies(id));
    const run = nextRun();
    await watcher.publish(
      topics.actuatorSet(id, 'light'),
      JSON.stringify({ id: 'c1', state: 'on' }),
      v5 ? { properties: { responseTopic: replies(id), correlationData: Buffer.from('c1') } } : {},
    );
    if (v5) {
      const answer = await watcher.next((m) => m.json().id === 'c1', 'the command answer');
      expect(answer.json()).toEqual({
        id: 'c1',
        ok: true,
        result: { target: 'light', id: 'c1', state: 'on' },
      });
      await watcher.publish(topics.actuatorSet(id, 'light'), '{oops', {
        properties: { responseTopic: replies(id), correlationData: Buffer.from('c2') },
      });
      const bad = await watcher.next((m) => m.correlation === 'c2', 'the bad command answer');
      expect(bad.json()).toMatchObject({ ok: false, error: { code: 'BAD_JSON' } });
      expect(rejections.map((r) => [r.target, r.error.code])).toEqual([['set light', 'BAD_JSON']]);
    }
    // 3.1.1 commands have no reply path: the effect itself is awaited.
    expect(await run).toBe('set light');
    expect(ran).toEqual(['set light']);
    await watcher.close();
  });
});

describe('the app link while the broker is away', () => {
  it('queues events while the broker is away, oldest dropped beyond the bound, and sends them on reconnect', async () => {
    const id = moduleId('events');
    const proxy = await TcpProxy.start(brokerTarget);
    const watcher = await Watcher.connect(broker.url, 5, topics.events(id));
    try {
      const { link, nextConnection } = startLink(id, 5, { url: proxy.url, maxQueuedEvents: 2 });
      await link.ready();
      link.publishEvent({ type: 'e.live', n: 0 });
      await watcher.next((m) => m.json().type === 'e.live', 'a live event');
      const lost = nextConnection();
      await proxy.close();
      expect(await lost).toBe(false);
      for (const n of [1, 2, 3]) link.publishEvent({ type: 'e.queued', n });
      expect(link.stats()).toMatchObject({ connected: false, queuedEvents: 2, droppedEvents: 1 });
      const back = nextConnection();
      const again = await TcpProxy.start(brokerTarget, proxy.port);
      try {
        const from = watcher.mark();
        const second = await watcher.next((m) => m.json().n === 3, 'the last queued event', from);
        expect(second.json()).toMatchObject({ type: 'e.queued' });
        const firstQueued = await watcher.next((m) => m.json().type === 'e.queued', 'queued', from);
        expect(firstQueued.json().n).toBe(2);
        expect(await back).toBe(true);
        expect(link.stats()).toMatchObject({ connected: true, queuedEvents: 0 });
      } finally {
        await again.close();
      }
    } finally {
      await watcher.close();
    }
  });

  describe('stop within the deadline', () => {
    let dir: string;
    let port: number;
    let pid: number | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'link-broker-'));
      port = await freePort();
    });

    afterAll(async () => {
      if (pid) await stopProcess(pid);
    });

    async function timed(work: Promise<void>): Promise<number> {
      const t0 = performance.now();
      await work;
      return performance.now() - t0;
    }

    it('resolves within the deadline when its own broker is killed at the moment it stops', async () => {
      pid = (await startMosquitto({ dir, port })).pid;
      const { link } = startLink(moduleId('gone'), 5, { url: `mqtt://127.0.0.1:${port}` });
      await link.ready();
      link.publishEvent({ type: 'in.flight' });
      await stopProcess(pid, 0);
      pid = undefined;
      expect(await timed(link.stop(1500))).toBeLessThan(1500 + 500);
      expect(link.connected).toBe(false);
    });

    it('resolves within the deadline when the broker stops answering mid-publish (socket open, nothing flows)', async () => {
      const proxy = await TcpProxy.start(brokerTarget);
      try {
        const { link } = startLink(moduleId('frozen'), 5, { url: proxy.url });
        await link.ready();
        proxy.freeze();
        expect(link.connected).toBe(true);
        expect(await timed(link.stop(1500))).toBeLessThan(1500 + 500);
      } finally {
        await proxy.close();
      }
    });

    it('resolves at once while it is still connecting or reconnecting to a broker that is not there', async () => {
      const { link } = startLink(moduleId('never'), 5, { url: `mqtt://127.0.0.1:${await freePort()}` });
      expect(await timed(link.stop(1500))).toBeLessThan(1500);
      expect(link.connected).toBe(false);
    });
  });
});
