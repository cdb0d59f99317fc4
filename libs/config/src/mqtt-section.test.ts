import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe as group, expect, it } from 'vitest';
import { mqttClientOptions } from '@growoff/protocol';
import { mqttConnectionFromEnv, mqttSection, optionalMqttSection } from './mqtt-section';
import { defineEnv, describe, isConfigInvalid, parseEnv } from './parse-env';

const dir = mkdtempSync(join(tmpdir(), 'config-mqtt-'));
for (const f of ['ca.crt', 'client.crt', 'client.key']) writeFileSync(join(dir, f), `${f} pem`);
const App = defineEnv({ mqtt: mqttSection() });
const Core = defineEnv({ mqtt: optionalMqttSection() });

group('the MQTT connection section', () => {
  it('defaults to the local broker with MQTT 5 and no credentials', () => {
    expect(parseEnv(App, {}).mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 });
  });

  it('reads URL, credentials, TLS files and protocol version into an MqttConnection', () => {
    const config = parseEnv(App, {
      GROWOFF_MQTT_URL: 'mqtts://broker.example:8883',
      GROWOFF_MQTT_USERNAME: 'module-1',
      GROWOFF_MQTT_PASSWORD: 'pw-secret',
      GROWOFF_MQTT_CA: join(dir, 'ca.crt'),
      GROWOFF_MQTT_CERT: join(dir, 'client.crt'),
      GROWOFF_MQTT_KEY: join(dir, 'client.key'),
      GROWOFF_MQTT_PROTOCOL_VERSION: '4',
    });
    expect(config.mqtt).toEqual({
      url: 'mqtts://broker.example:8883',
      protocolVersion: 4,
      username: 'module-1',
      password: 'pw-secret',
      caFile: join(dir, 'ca.crt'),
      certFile: join(dir, 'client.crt'),
      keyFile: join(dir, 'client.key'),
    });
    expect(mqttClientOptions(config.mqtt)).toMatchObject({
      protocolVersion: 4,
      username: 'module-1',
      password: 'pw-secret',
      ca: Buffer.from('ca.crt pem'),
    });
    expect(describe(config)).toContain('GROWOFF_MQTT_PASSWORD=***');
    expect(describe(config)).not.toContain('pw-secret');
  });

  it('refuses a missing CA, certificate or key at start, naming the variable', () => {
    for (const name of ['GROWOFF_MQTT_CA', 'GROWOFF_MQTT_CERT', 'GROWOFF_MQTT_KEY']) {
      const attempt = () => parseEnv(App, { [name]: join(dir, 'absent.pem') });
      expect(attempt).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      expect(attempt).toThrow(`${name}: expected a readable file`);
    }
  });

  it('refuses another protocol version and another scheme, both in one error', () => {
    try {
      parseEnv(App, { GROWOFF_MQTT_URL: 'tcp://broker', GROWOFF_MQTT_PROTOCOL_VERSION: '3' });
      expect.unreachable();
    } catch (error) {
      if (!isConfigInvalid(error)) throw error;
      expect(error.details.issues.map((i) => i.variable)).toEqual([
        'GROWOFF_MQTT_URL',
        'GROWOFF_MQTT_PROTOCOL_VERSION',
      ]);
    }
  });

  it('reads no connection when the URL is unset, for the core to embed a broker', () => {
    expect(parseEnv(Core, {}).mqtt).toBeUndefined();
    expect(parseEnv(Core, { GROWOFF_MQTT_URL: 'ws://127.0.0.1:9001' }).mqtt).toEqual({
      url: 'ws://127.0.0.1:9001',
      protocolVersion: 5,
    });
  });
});

group('mqttConnectionFromEnv', () => {
  it('takes a given URL (a flag) before GROWOFF_MQTT_URL and checks it the same way', () => {
    const env = { GROWOFF_MQTT_URL: 'mqtt://env:1883', GROWOFF_MQTT_USERNAME: 'cli' };
    expect(mqttConnectionFromEnv(env)).toEqual({
      url: 'mqtt://env:1883',
      protocolVersion: 5,
      username: 'cli',
    });
    expect(mqttConnectionFromEnv(env, { url: 'wss://flag:443' })).toMatchObject({
      url: 'wss://flag:443',
      username: 'cli',
    });
    expect(() => mqttConnectionFromEnv(env, { url: 'http://flag' })).toThrow(
      'GROWOFF_MQTT_URL: expected a URL with scheme',
    );
  });
});
