import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe as describeConfig } from '@growoff/config';
import { describe, expect, it } from 'vitest';
import { coreConfigFromEnv } from './env-config';

describe('coreConfigFromEnv', () => {
  it('uses the documented defaults', () => {
    const c = coreConfigFromEnv({}, '/srv');
    expect(c).toMatchObject({
      moduleId: 'dev-module',
      embeddedMqttHost: '127.0.0.1',
      embeddedMqttPort: 1883,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      hal: 'sim',
      dataDir: '/srv/data',
      shutdownDeadlineMs: 5000,
      telemetry: { api: 'auto', bucket: 'growoff' },
    });
    expect(c.mqtt).toBeUndefined();
  });

  it('names the variable of a bad value', () => {
    const bad: [Record<string, string>, string][] = [
      [{ GROWOFF_MODULE_ID: 'a/b' }, 'GROWOFF_MODULE_ID'],
      [{ GROWOFF_MQTT_URL: 'http://x' }, 'GROWOFF_MQTT_URL'],
      [{ GROWOFF_MQTT_PROTOCOL_VERSION: '3' }, 'GROWOFF_MQTT_PROTOCOL_VERSION'],
      [{ GROWOFF_HTTP_PORT: '99999' }, 'GROWOFF_HTTP_PORT'],
      [{ GROWOFF_HAL: 'gpio' }, 'GROWOFF_HAL'],
      [{ GROWOFF_HAL_PROFILE: '/nonexistent/profile.json' }, 'GROWOFF_HAL_PROFILE'],
      [{ GROWOFF_I2C_BUS: '-1' }, 'GROWOFF_I2C_BUS'],
      [{ GROWOFF_SHUTDOWN_DEADLINE_MS: '0' }, 'GROWOFF_SHUTDOWN_DEADLINE_MS'],
      [{ GROWOFF_TELEMETRY_API: 'v3' }, 'GROWOFF_TELEMETRY_API'],
      [{ GROWOFF_HTTP_HOST: '0.0.0.0' }, 'GROWOFF_HTTP_TOKEN'],
      [{ GROWOFF_TIMEZONE: 'Europe/Nowhere' }, 'GROWOFF_TIMEZONE'],
    ];
    for (const [env, variable] of bad) {
      expect(() => coreConfigFromEnv(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      expect(() => coreConfigFromEnv(env)).toThrow(`${variable}`);
    }
  });

  it('reads the MQTT connection section, TLS files checked and resolved', () => {
    const dir = mkdtempSync(join(tmpdir(), 'core-env-'));
    writeFileSync(join(dir, 'ca.crt'), 'pem');
    const c = coreConfigFromEnv(
      {
        GROWOFF_MQTT_URL: 'mqtts://broker.example:8883',
        GROWOFF_MQTT_CA: 'ca.crt',
        GROWOFF_MQTT_USERNAME: 'm',
      },
      dir,
    );
    expect(c.mqtt).toEqual({
      url: 'mqtts://broker.example:8883',
      protocolVersion: 5,
      username: 'm',
      caFile: join(dir, 'ca.crt'),
    });
  });

  it('masks secrets in the printed configuration', () => {
    const c = coreConfigFromEnv({
      GROWOFF_MQTT_URL: 'mqtts://user:secret@broker.example:8883',
      GROWOFF_MQTT_PASSWORD: 'pw',
      GROWOFF_HTTP_HOST: '0.0.0.0',
      GROWOFF_HTTP_TOKEN: 'tok',
      GROWOFF_TELEMETRY_TOKEN: 'teltok',
    });
    const printed = describeConfig(c);
    expect(printed).not.toMatch(/secret|=pw\b|=tok\b|teltok/);
    expect(printed).toContain('GROWOFF_MQTT_URL=mqtts://user:***@broker.example:8883');
    expect(printed).toContain('GROWOFF_HTTP_TOKEN=***');
    expect(c.mqtt?.protocolVersion).toBe(5);
  });
});
