import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getService, stopProcess, waitUntil, type SshdInfo } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killBastion, startBastion, startModuleSshd, tempDir, type Bastion } from './support';

const MAIN = resolve(import.meta.dirname, '../src/main.ts');

function startApp(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  // One process (tsx as a loader, not its CLI, which forks), so that SIGKILL reaches the app itself.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: resolve(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, output: () => output, exited };
}

describe('the tunnel app (src/main.ts)', () => {
  let bastion: Bastion;
  let moduleSshd: SshdInfo;
  let client: MqttClient;
  const dataDir = tempDir('main-data');

  beforeAll(async () => {
    bastion = await startBastion('main');
    moduleSshd = await startModuleSshd('main');
    client = await mqtt.connectAsync(getService('mosquitto').url, { protocolVersion: 5 });
  });

  afterAll(async () => {
    await client.publishAsync(topics.status(bastion.moduleId, 'tunnel'), '', { retain: true });
    await client.endAsync();
    await killBastion(bastion);
    await stopProcess(moduleSshd.pid);
  });

  function env(overrides: Record<string, string> = {}): Record<string, string> {
    const broker = new URL(getService('mosquitto').url);
    return {
      GROWOFF_MODULE_ID: bastion.moduleId,
      GROWOFF_MQTT_URL: `mqtt://tunnel-user:hunter2@${broker.host}`,
      GROWOFF_BASTION: `127.0.0.1:${bastion.sshd.port}`,
      GROWOFF_BASTION_USER: bastion.sshd.user,
      GROWOFF_BASTION_HOSTKEY: bastion.sshd.hostKeyFingerprint,
      GROWOFF_TUNNEL_KEY: bastion.moduleKey,
      GROWOFF_TUNNEL_LOCAL_PORT: String(moduleSshd.port),
      GROWOFF_TUNNEL_REMOTE_PORT: String(bastion.remotePort),
      GROWOFF_TUNNEL_KEEPALIVE_INTERVAL: '0.5',
      GROWOFF_TUNNEL_BACKOFF_MIN: '0.1',
      GROWOFF_DATA_DIR: dataDir,
      ...overrides,
    };
  }

  it('refuses a bad value naming the variable, without a stack', async () => {
    const app = startApp(env({ GROWOFF_TUNNEL_MAX_TTL: 'forever' }));
    expect(await app.exited).toBe(2);
    expect(app.output()).toContain(
      'CONFIG_INVALID: invalid configuration: GROWOFF_TUNNEL_MAX_TTL: expected a whole number from 1 to 604800, got "forever"',
    );
    expect(app.output()).not.toMatch(/\n\s+at /);
  });

  it('prints its configuration with the MQTT credentials masked and a misspelt variable by name, serves an open request, and leaves an offline will when killed', async () => {
    const statusTopic = topics.status(bastion.moduleId, 'tunnel');
    await client.subscribeAsync(statusTopic);
    const statuses: Record<string, unknown>[] = [];
    const seen = (predicate: (s: Record<string, unknown>) => boolean) =>
      new Promise<void>((resolveSeen) => {
        const check = () => {
          if (statuses.some(predicate)) {
            client.off('message', onMessage);
            resolveSeen();
          }
        };
        const onMessage = () => setImmediate(check);
        client.on('message', onMessage);
        check();
      });
    client.on('message', (topic, payload) => {
      if (topic === statusTopic && payload.length > 0)
        statuses.push(JSON.parse(payload.toString()) as Record<string, unknown>);
    });

    const app = startApp({ ...env(), GROWOFF_TUNNEL_ALWAYSON: 'on' });
    await seen((s) => s.state === 'online' && s.tunnel === 'closed');
    expect(app.output()).toContain('GROWOFF_MQTT_URL=mqtt://tunnel-user:***@');
    expect(app.output()).not.toContain('hunter2');
    expect(app.output()).toContain(
      '[tunnel] warning: GROWOFF_TUNNEL_ALWAYSON is set but not read by the tunnel, so it has no effect; did you mean GROWOFF_TUNNEL_ALWAYS_ON?',
    );
    expect(app.output()).toContain(`GROWOFF_TUNNEL_REMOTE_PORT=${bastion.remotePort}`);

    await client.publishAsync(
      topics.request(bastion.moduleId, 'tunnel', 'open'),
      JSON.stringify({ ttlSeconds: 60, reason: 'main test' }),
    );
    await seen((s) => s.tunnel === 'open' && s.remotePort === bastion.remotePort);
    // The audit trail's durable copy: telemetry's file sink when no GROWOFF_TELEMETRY_URL is set.
    const sinkFile = join(dataDir, 'telemetry.lp');
    await waitUntil(
      'audit events in telemetry',
      () => existsSync(sinkFile) && readFileSync(sinkFile, 'utf8').includes('type=tunnel.opened'),
    );
    expect(readFileSync(sinkFile, 'utf8')).toMatch(
      new RegExp(`^event,module=${bastion.moduleId},.*type=tunnel.requested.*main test`, 'm'),
    );

    app.child.kill('SIGKILL');
    await app.exited;
    await seen((s) => s.state === 'offline');
  });
});
