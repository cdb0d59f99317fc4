import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { getService } from '../src/index';
import { up } from '../src/runner';

function dockerGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('the service runner', () => {
  it('reuses the services it already started instead of starting them again', async () => {
    const before = getService('mosquitto').pid;
    const result = await up();
    expect(result.started).toEqual([]);
    expect(result.reused.sort()).toEqual(['docker', 'influxdb', 'mosquitto', 'registry', 'sshd']);
    expect(getService('mosquitto').pid).toBe(before);
  });

  it('gives a Mosquitto that delivers a retained message to a later subscriber', async () => {
    const { url } = getService('mosquitto');
    const topic = `growoff/test/services/${process.pid}/${Date.now()}`;
    const publisher = await mqtt.connectAsync(url);
    await publisher.publishAsync(topic, 'hello', { retain: true, qos: 1 });
    await publisher.endAsync();
    const subscriber = await mqtt.connectAsync(url);
    const received = new Promise<string>((resolve) =>
      subscriber.on('message', (_t, payload) => resolve(payload.toString())),
    );
    await subscriber.subscribeAsync(topic, { qos: 1 });
    expect(await received).toBe('hello');
    await subscriber.publishAsync(topic, '', { retain: true });
    await subscriber.endAsync();
  });

  it('gives an InfluxDB 1.6.7 that stores and returns a point', async () => {
    const { url, version } = getService('influxdb');
    expect(version).toMatch(/^1\.6\.7/);
    const db = `services_${process.pid}`;
    await fetch(`${url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `CREATE DATABASE ${db}` }),
    });
    const write = await fetch(`${url}/write?db=${db}&precision=s`, {
      method: 'POST',
      body: 'probe value=42i 1700000000',
    });
    expect(write.status).toBe(204);
    const res = await fetch(`${url}/query?${new URLSearchParams({ db, q: 'SELECT value FROM probe' })}`);
    const json = (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
    expect(json.results[0]?.series?.[0]?.values).toEqual([['2023-11-14T22:13:20Z', 42]]);
    await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE ${db}` }) });
  });

  it('gives a registry that refuses anonymous clients and accepts its htpasswd user', async () => {
    const { url, username, password } = getService('registry');
    expect((await fetch(`${url}/v2/`)).status).toBe(401);
    const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    expect((await fetch(`${url}/v2/`, { headers: { authorization: auth } })).status).toBe(200);
    const wrong = `Basic ${Buffer.from(`${username}:nope`).toString('base64')}`;
    expect((await fetch(`${url}/v2/`, { headers: { authorization: wrong } })).status).toBe(401);
  });

  it('gives a Docker engine without a bridge network that has the local Node base image', async () => {
    const { socket, nodeBaseImage } = getService('docker');
    const ping = await dockerGet(socket, '/_ping');
    expect(ping).toEqual({ status: 200, body: 'OK' });
    const networks = JSON.parse((await dockerGet(socket, '/networks')).body) as { Name: string }[];
    expect(networks.map((n) => n.Name)).not.toContain('bridge');
    const out = execFileSync(
      'docker',
      ['run', '--rm', '--network', 'none', nodeBaseImage, 'node', '-e', 'process.stdout.write(String(6*7))'],
      { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: `unix://${socket}` } },
    );
    expect(out).toBe('42');
  });

  it('gives an sshd that takes its client key and proves the pinned host key', () => {
    const sshd = getService('sshd');
    const knownHosts = join(mkdtempSync(join(tmpdir(), 'growoff-ssh-')), 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${readFileSync(`${sshd.hostKey}.pub`, 'utf8')}`);
    const out = execFileSync(
      'ssh',
      [
        '-i',
        sshd.clientKey,
        '-p',
        String(sshd.port),
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        `${sshd.user}@127.0.0.1`,
        'echo reached',
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('reached');
    expect(sshd.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
