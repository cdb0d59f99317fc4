import { describe, expect, it } from 'vitest';
import { coreConfigFromEnv, describeConfig, EnvConfigError } from './env-config';

describe('coreConfigFromEnv', () => {
  it('uses the documented defaults', () => {
    const c = coreConfigFromEnv({}, '/srv');
    expect(c).toMatchObject({
      moduleId: 'dev-module',
      mqttUrl: undefined,
      embeddedMqttPort: 1883,
      mqttProtocolVersion: 4,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      hal: 'sim',
      dataDir: '/srv/data',
    });
  });

  it('names the variable of a bad value', () => {
    const bad: [Record<string, string>, string][] = [
      [{ GROWOFF_MODULE_ID: 'a/b' }, 'GROWOFF_MODULE_ID'],
      [{ GROWOFF_MQTT_URL: 'http://x' }, 'GROWOFF_MQTT_URL'],
      [{ GROWOFF_HTTP_PORT: '99999' }, 'GROWOFF_HTTP_PORT'],
      [{ GROWOFF_HAL: 'gpio' }, 'GROWOFF_HAL'],
      [{ GROWOFF_HTTP_HOST: '0.0.0.0' }, 'GROWOFF_HTTP_TOKEN'],
      [{ GROWOFF_TIMEZONE: 'Europe/Nowhere' }, 'GROWOFF_TIMEZONE'],
    ];
    for (const [env, variable] of bad) {
      expect(() => coreConfigFromEnv(env)).toThrow(EnvConfigError);
      expect(() => coreConfigFromEnv(env)).toThrow(variable);
    }
  });

  it('masks secrets in the printed configuration', () => {
    const c = coreConfigFromEnv({
      GROWOFF_MQTT_URL: 'mqtts://user:secret@broker.example:8883',
      GROWOFF_MQTT_PASSWORD: 'pw',
      GROWOFF_HTTP_HOST: '0.0.0.0',
      GROWOFF_HTTP_TOKEN: 'tok',
    });
    const printed = JSON.stringify(describeConfig(c));
    expect(printed).not.toMatch(/secret|"pw"|"tok"/);
    expect(printed).toContain('broker.example');
    expect(c.mqttProtocolVersion).toBe(5);
  });
});
