import { getService, portAnswers, stopProcess, type SshdInfo } from '@growoff/test-services';
import { modulePrefix, topics } from '@growoff/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TunnelMqtt } from '../src/tunnel-mqtt';
import { TunnelSupervisor } from '../src/tunnel-supervisor';
import {
  killBastion,
  sshThroughTunnel,
  startBastion,
  startModuleSshd,
  supervisorOptions,
  type Bastion,
} from './support';

interface Message {
  topic: string;
  body: Record<string, unknown>;
  correlation?: string;
}

/** Collects what arrives on subscribed topics; `next` awaits the next match. */
class Inbox {
  private readonly messages: Message[] = [];
  private readonly waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      if (payload.length === 0) return;
      const message: Message = {
        topic,
        body: JSON.parse(payload.toString()) as Record<string, unknown>,
        correlation: packet.properties?.correlationData?.toString(),
      };
      const waiter = this.waiters.findIndex((w) => w.match(message));
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0]!.resolve(message);
      else this.messages.push(message);
    });
  }

  next(match: (m: Message) => boolean, timeoutMs = 15_000): Promise<Message> {
    const index = this.messages.findIndex(match);
    if (index >= 0) return Promise.resolve(this.messages.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such MQTT message in time')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

describe('the tunnel over MQTT', () => {
  let bastion: Bastion;
  let moduleSshd: SshdInfo;
  let supervisor: TunnelSupervisor;
  let api: TunnelMqtt;
  let client5: MqttClient;
  let client3: MqttClient;
  let inbox5: Inbox;
  let inbox3: Inbox;
  let moduleId: string;
  const status = () => topics.status(moduleId, 'tunnel');

  beforeAll(async () => {
    bastion = await startBastion('mqtt');
    moduleSshd = await startModuleSshd('mqtt');
    moduleId = bastion.moduleId;
    const url = getService('mosquitto').url;
    supervisor = new TunnelSupervisor(supervisorOptions(bastion, moduleSshd.port, { maxTtlS: 120 }));
    api = TunnelMqtt.start(supervisor, {
      connection: { url, protocolVersion: 5 },
      moduleId,
      version: '9.9.9',
      bastion: 'test',
      openAnswerTimeoutMs: 10_000,
    });
    await api.ready();
    client5 = await mqtt.connectAsync(url, { protocolVersion: 5 });
    client3 = await mqtt.connectAsync(url, { protocolVersion: 4 });
    inbox5 = new Inbox(client5);
    inbox3 = new Inbox(client3);
    await client5.subscribeAsync([`test/${moduleId}/replies`, status(), topics.events(moduleId)]);
    await client3.subscribeAsync(`${modulePrefix(moduleId)}tunnel/res/+`);
  });

  afterAll(async () => {
    await supervisor.shutdown();
    await api.stop(2000);
    await client5.publishAsync(status(), '', { retain: true });
    await client5.endAsync();
    await client3.endAsync();
    await killBastion(bastion);
    await stopProcess(moduleSshd.pid);
  });

  function request5(method: string, body: unknown, correlation: string) {
    return client5.publishAsync(topics.request(moduleId, 'tunnel', method), JSON.stringify(body), {
      properties: { responseTopic: `test/${moduleId}/replies`, correlationData: Buffer.from(correlation) },
    });
  }

  it('answers an MQTT 5 open request on its response topic once the tunnel is open, with a retained open status', async () => {
    await request5('open', { id: 'o1', ttlSeconds: 600, reason: 'support ticket 42' }, 'c-open');
    const reply = await inbox5.next((m) => m.correlation === 'c-open');
    expect(reply.body).toMatchObject({
      id: 'o1',
      ok: true,
      result: { tunnel: 'open', remotePort: bastion.remotePort, ttlSeconds: 120, capped: true },
    });
    const statusMessage = await inbox5.next((m) => m.topic === status() && m.body.tunnel === 'open');
    expect(statusMessage.body).toMatchObject({
      state: 'online',
      version: '9.9.9',
      remotePort: bastion.remotePort,
      reason: 'support ticket 42',
    });
    expect(statusMessage.body.expiresAt).toBe((reply.body.result as { expiresAt: number }).expiresAt);
    const opened = await inbox5.next((m) => m.body.type === 'tunnel.opened');
    expect(opened.body).toMatchObject({ severity: 'info', data: { reason: 'support ticket 42' } });
    expect((await sshThroughTunnel(moduleSshd, bastion.remotePort, 'echo over-mqtt')).stdout.trim()).toBe(
      'over-mqtt',
    );
  });

  it('answers an MQTT 3.1.1 close request on tunnel/res/close and publishes closed', async () => {
    await client3.publishAsync(
      topics.request(moduleId, 'tunnel', 'close'),
      JSON.stringify({ id: 7, reason: 'ticket solved' }),
    );
    const reply = await inbox3.next((m) => m.topic === topics.response(moduleId, 'tunnel', 'close'));
    expect(reply.body).toEqual({ id: 7, ok: true, result: { tunnel: 'closed' } });
    await inbox5.next((m) => m.topic === status() && m.body.tunnel === 'closed');
    const closed = await inbox5.next((m) => m.body.type === 'tunnel.closed');
    expect(closed.body.data).toMatchObject({ reason: 'ticket solved', requestReason: 'support ticket 42' });
    expect(await portAnswers(bastion.remotePort)).toBe(false);
  });

  it('rejects bad JSON, invalid requests and unknown methods with coded errors and command.rejected events', async () => {
    await client5.publishAsync(topics.request(moduleId, 'tunnel', 'open'), '{not json', {
      properties: { responseTopic: `test/${moduleId}/replies`, correlationData: Buffer.from('c-bad') },
    });
    expect((await inbox5.next((m) => m.correlation === 'c-bad')).body).toMatchObject({
      ok: false,
      error: { code: 'BAD_JSON' },
    });
    await request5('open', { id: 'o2', ttlSeconds: -5 }, 'c-invalid');
    expect((await inbox5.next((m) => m.correlation === 'c-invalid')).body).toMatchObject({
      id: 'o2',
      ok: false,
      error: { code: 'INVALID_MESSAGE' },
    });
    await request5('shell', { id: 'o3' }, 'c-unknown');
    expect((await inbox5.next((m) => m.correlation === 'c-unknown')).body).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    });
    const rejected = await inbox5.next((m) => m.body.type === 'command.rejected');
    expect(rejected.body).toMatchObject({ severity: 'warning' });
    expect(supervisor.snapshot.tunnel).toBe('closed');
  });
});
