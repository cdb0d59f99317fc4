import { afterEach, describe, expect, it, vi } from 'vitest';
import { mqttClientOptions } from './client-options';

const connection = { url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 as const };

describe('mqttClientOptions', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("silences mqtt.js's debug logging when DEBUG is unset or empty", () => {
    for (const value of [undefined, '']) {
      vi.stubEnv('DEBUG', value);
      const { log } = mqttClientOptions(connection);
      expect(typeof log).toBe('function');
      expect(log?.('publish :: message `%s` to topic `%s`', 'payload', 'topic')).toBeUndefined();
    }
  });

  it("leaves mqtt.js its own debug logger when DEBUG names namespaces, so DEBUG=mqttjs* still logs", () => {
    vi.stubEnv('DEBUG', 'mqttjs*');
    expect(mqttClientOptions(connection)).not.toHaveProperty('log');
  });

  it('keeps the packet-id cache off', () => {
    expect(mqttClientOptions(connection).writeCache).toBe(false);
  });
});
