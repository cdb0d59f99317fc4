import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { exited, jsonOf, killCoreProcesses, spawnCoreProcess, TestClient, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

/** The real entry (src/main.ts) in its own process, as the image runs it. */
function spawnCore(moduleId: string, env: Record<string, string> = {}) {
  return spawnCoreProcess({
    args: ['--import', 'tsx', 'src/main.ts'],
    moduleId,
    mqttUrl: mosquitto.url,
    env: { GROWOFF_SHUTDOWN_DEADLINE_MS: '3000', GROWOFF_SIM_TIME_SCALE: '20', ...env },
  });
}

afterEach(killCoreProcesses);

describe('core process lifecycle', { timeout: 90_000 }, () => {
  it('prints its configuration with secrets masked and where to look, and warns of a misspelt variable by name only', async () => {
    const { output, child } = await spawnCore(uniqueModuleId('banner'), {
      GROWOFF_TELEMETRY_TOKEN: 'tel-token-secret',
      GROWOFF_MQTT_PASSWORD: 'mqtt-pw-secret',
      GROWOFF_MQTT_PASWORD: 'typo-pw-secret',
    });
    expect(output()).toContain('GROWOFF_HAL=sim');
    expect(output()).toContain('GROWOFF_TELEMETRY_TOKEN=***');
    expect(output()).toContain('GROWOFF_MQTT_PASSWORD=***');
    expect(output()).toContain(
      'growoff core: warning: GROWOFF_MQTT_PASWORD is set but not read by the core, so it has no effect; did you mean GROWOFF_MQTT_PASSWORD?',
    );
    expect(output()).not.toMatch(/tel-token-secret|mqtt-pw-secret|typo-pw-secret/);
    expect(output()).toMatch(/REST +http:\/\/127\.0\.0\.1:\d+/);
    child.kill('SIGTERM');
    await exited(child);
  });

  it('refuses bad values at start with one CONFIG_INVALID naming each variable, exit 2, no stack', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(import.meta.dirname, '..'),
      env: {
        PATH: process.env.PATH,
        GROWOFF_HTTP_PORT: '99999',
        GROWOFF_MQTT_CA: '/nonexistent/ca.crt',
        GROWOFF_HTTP_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    expect(await exited(child)).toEqual({ code: 2, signal: null });
    expect(out).toMatch(/^growoff core: CONFIG_INVALID: invalid configuration: /);
    expect(out).toContain(
      'GROWOFF_MQTT_CA: expected a readable file, got "/nonexistent/ca.crt does not exist"',
    );
    expect(out).toContain('GROWOFF_HTTP_PORT: expected a port from 0 to 65535, got "99999"');
    expect(out).not.toMatch(/\n\s+at /);
  });

  it('on SIGTERM switches actuators off, publishes offline and exits within the deadline', async () => {
    const moduleId = uniqueModuleId('sigterm');
    const watcher = await TestClient.connect(mosquitto.url, { protocolVersion: 4 });
    await watcher.subscribe(`growoff/v1/modules/${moduleId}/#`);
    const { child, httpPort, dataDir } = await spawnCore(moduleId);
    await watcher.waitFor(
      (m) =>
        m.topic === topics.status(moduleId, 'core') && (m.json() as { state: string }).state === 'online',
      'online',
    );
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/actuators/light`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ level: 70 }),
    });
    expect(res.status).toBe(200);

    const lightOff = watcher.next(
      (m) => m.topic === topics.actuator(moduleId, 'light') && (m.json() as { level: number }).level === 0,
      'light off',
    );
    const offline = watcher.next(
      (m) =>
        m.topic === topics.status(moduleId, 'core') && (m.json() as { state: string }).state === 'offline',
      'offline status',
    );
    const t0 = Date.now();
    child.kill('SIGTERM');
    await lightOff;
    expect(jsonOf(await offline)).toMatchObject({ state: 'offline' });
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3000 + 1000);
    // Telemetry was flushed on the way out: with no GROWOFF_TELEMETRY_URL it lands in the data dir's file sink.
    const lines = await readFile(join(dataDir, 'telemetry.lp'), 'utf8');
    expect(lines).toMatch(new RegExp(`^sensor,module=${moduleId},`, 'm'));
    await watcher.close();
  });

  it('leaves an offline will when it dies without a goodbye', async () => {
    const moduleId = uniqueModuleId('will');
    const watcher = await TestClient.connect(mosquitto.url, { protocolVersion: 4 });
    await watcher.subscribe(topics.status(moduleId, 'core'));
    const { child } = await spawnCore(moduleId);
    await watcher.waitFor((m) => (m.json() as { state: string }).state === 'online', 'online');
    const will = watcher.next((m) => (m.json() as { state: string }).state === 'offline', 'will');
    child.kill('SIGKILL');
    const m = await will;
    expect(jsonOf(m)).toMatchObject({ state: 'offline', version: expect.any(String) });
    // Retained: a newcomer sees the module offline.
    const late = await TestClient.connect(mosquitto.url, { protocolVersion: 4 });
    await late.subscribe(topics.status(moduleId, 'core'));
    expect(jsonOf(await late.waitFor(() => true, 'retained will'))).toMatchObject({ state: 'offline' });
    await late.close();
    await watcher.close();
  });
});
