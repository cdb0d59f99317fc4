import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, startMosquitto, stopProcess, type MosquittoInfo } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFleetBroker, type Credential } from '../src/index';

const suffix = randomBytes(3).toString('hex');
const alice: Credential = { username: `broker-config-alice-${suffix}`, password: 'alice-pw' };
const bob: Credential = { username: `broker-config-bob-${suffix}`, password: 'bob-pw' };
const release: Credential = { username: 'growoff-release', password: 'release-pw' };
const operator: Credential = { username: 'growoff-cloud', password: 'cloud-pw' };
const CHANNEL = `acl-${suffix}`;

let dir: string;
let broker: MosquittoInfo;
const clients: MqttClient[] = [];

async function connect(who: Credential, protocolVersion: 4 | 5 = 5): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion,
    clientId: `${who.username}-${randomBytes(3).toString('hex')}`,
    username: who.username,
    password: who.password,
    reconnectPeriod: 0,
  });
  clients.push(client);
  return client;
}

/**
 * Resolves with the messages `client` got up to and including the first with `marker`; `live` leaves
 * out retained ones (earlier tests' statuses).
 */
function collectUntil(
  client: MqttClient,
  marker: string,
  live = false,
): Promise<Array<{ topic: string; body: string }>> {
  const seen: Array<{ topic: string; body: string }> = [];
  return new Promise((resolve) => {
    client.on('message', (topic, payload, packet) => {
      if (live && packet.retain) return;
      seen.push({ topic, body: payload.toString() });
      if (payload.toString() === marker) resolve(seen);
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'broker-config-acl-'));
  // Mosquitto started as root reads these files as its own user after dropping privileges.
  chmodSync(dir, 0o711);
  const files = await writeFleetBroker({
    dir,
    modules: [alice, bob],
    release,
    operators: [operator],
    brokerUser: process.getuid?.() === 0 ? 'mosquitto' : undefined,
  });
  broker = await startMosquitto({ dir, port: await freePort(), extraConfig: files.config });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  if (broker) await stopProcess(broker.pid);
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet ACL on a real Mosquitto', () => {
  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow();
    await expect(
      mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        username: alice.username,
        password: 'wrong',
      }),
    ).rejects.toThrow();
  });

  it("delivers nothing, retained or live, to a module subscribed to another module's topics", async () => {
    const bobClient = await connect(bob);
    await bobClient.publishAsync(topics.status(bob.username, 'core'), 'bob online', { qos: 1, retain: true });
    const operatorClient = await connect(operator);
    const releaser = await connect(release);
    const marker = `pin-${randomBytes(4).toString('hex')}`;

    const aliceClient = await connect(alice);
    const received = collectUntil(aliceClient, marker);
    // Mosquitto 2.0's ACL file grants the SUBSCRIBE and filters every delivery by the read rules.
    await aliceClient.subscribeAsync(
      [
        `growoff/v1/modules/${bob.username}/#`,
        'growoff/v1/modules/+/core/status',
        topics.release(alice.username),
      ],
      { qos: 1 },
    );
    await aliceClient.publishAsync(topics.status(alice.username, 'core'), 'alice online', { qos: 1 });
    await operatorClient.publishAsync(topics.actuatorSet(bob.username, 'pump'), '{"state":"on"}', { qos: 1 });
    await bobClient.publishAsync(topics.sensor(bob.username, 'ph'), '{"value":6}', { qos: 1 });
    await bobClient.publishAsync(topics.status(bob.username, 'core'), 'bob again', { qos: 1 });
    // Published after everything above; alice's own pin is the last thing she may receive.
    await releaser.publishAsync(topics.release(alice.username), marker, { qos: 1 });

    const messages = await received;
    expect(messages.map((m) => m.body)).toEqual(['alice online', marker]);
  });

  it("refuses a module's publish on another module's topics (PUBACK 0x87) and never delivers it", async () => {
    const bobClient = await connect(bob);
    await bobClient.subscribeAsync(`growoff/v1/modules/${bob.username}/#`, { qos: 1 });
    const marker = `marker-${randomBytes(4).toString('hex')}`;
    const received = collectUntil(bobClient, marker, true);

    const aliceClient = await connect(alice);
    for (const topic of [
      topics.actuatorSet(bob.username, 'pump'),
      topics.status(bob.username, 'core'),
      topics.request(bob.username, 'core', 'config'),
    ]) {
      await expect(aliceClient.publishAsync(topic, 'forged by alice', { qos: 1 })).rejects.toMatchObject({
        code: 0x87,
      });
    }
    // Alice's own topics still work, and the operator may command bob.
    await aliceClient.publishAsync(topics.status(alice.username, 'core'), 'alice online', { qos: 1 });
    const operatorClient = await connect(operator);
    await operatorClient.publishAsync(topics.actuatorSet(bob.username, 'pump'), marker, { qos: 1 });

    const messages = await received;
    expect(messages.map((m) => m.body)).toEqual([marker]);
  });

  it('lets only the release identity publish channel releases and pins', async () => {
    const watcher = await connect(operator);
    await watcher.subscribeAsync([topics.fleetRelease(CHANNEL), topics.release(bob.username)], { qos: 1 });
    const marker = `release-${randomBytes(4).toString('hex')}`;
    const received = collectUntil(watcher, marker, true);

    const bobClient = await connect(bob);
    await expect(
      bobClient.publishAsync(topics.fleetRelease(CHANNEL), 'forged channel release', { qos: 1 }),
    ).rejects.toMatchObject({ code: 0x87 });
    await expect(
      bobClient.publishAsync(topics.release(bob.username), 'forged own pin', { qos: 1, retain: true }),
    ).rejects.toMatchObject({ code: 0x87 });
    const opClient = await connect(operator);
    await expect(
      opClient.publishAsync(topics.fleetRelease(CHANNEL), 'operator release', { qos: 1 }),
    ).rejects.toMatchObject({ code: 0x87 });

    const releaser = await connect(release);
    await releaser.publishAsync(topics.release(bob.username), 'pin by release', { qos: 1 });
    await releaser.publishAsync(topics.fleetRelease(CHANNEL), marker, { qos: 1 });

    const messages = await received;
    expect(messages.map((m) => m.body)).toEqual(['pin by release', marker]);
  });

  it('holds for MQTT 3.1.1 clients: a forged publish is dropped silently, never delivered', async () => {
    const bobClient = await connect(bob);
    await bobClient.subscribeAsync(`growoff/v1/modules/${bob.username}/#`, { qos: 1 });
    const marker = `v311-${randomBytes(4).toString('hex')}`;
    const received = collectUntil(bobClient, marker, true);
    const aliceClient = await connect(alice, 4);
    await aliceClient.publishAsync(topics.actuatorSet(bob.username, 'pump'), 'forged v3.1.1', { qos: 1 });
    await aliceClient.publishAsync(topics.fleetRelease(CHANNEL), 'forged v3.1.1', { qos: 1 });
    const operatorClient = await connect(operator, 4);
    await operatorClient.publishAsync(topics.actuatorSet(bob.username, 'pump'), marker, { qos: 1 });
    expect((await received).map((m) => m.body)).toEqual([marker]);
  });
});
