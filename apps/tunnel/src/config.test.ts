import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as describeConfig } from '@growoff/config';
import { tunnelConfigFromEnv } from './config';

const keyFile = join(mkdtempSync(join(tmpdir(), 'tunnel-config-')), 'tunnel_ed25519');
writeFileSync(keyFile, 'key');
const PIN = 'SHA256:QLQ7ZW5xk0x4pw6RY1MEXINSNLLII1GLlNfumH8qfws';
const base = {
  GROWOFF_BASTION: 'bastion.example:2222',
  GROWOFF_BASTION_HOSTKEY: PIN,
  GROWOFF_TUNNEL_REMOTE_PORT: '40022',
  GROWOFF_TUNNEL_KEY: keyFile,
};

describe('tunnel configuration', () => {
  it('applies the defaults of the contract', () => {
    const config = tunnelConfigFromEnv(base);
    expect(config).toMatchObject({
      moduleId: 'dev-module',
      bastion: { host: 'bastion.example', port: 2222 },
      bastionUser: 'growoff-tunnel',
      localPort: 22,
      remotePort: 40022,
      alwaysOn: false,
    });
    // Keepalives notice a dead link within 30 s: one interval per unanswered keepalive, plus one.
    expect(config.keepaliveIntervalMs * (config.keepaliveCountMax + 1)).toBeLessThanOrEqual(30_000);
  });

  it('takes one host key pin, or several comma-separated for a rotation', () => {
    expect(tunnelConfigFromEnv(base).bastionHostKeys).toEqual([PIN]);
    const next = 'SHA256:uwhOuvTkw7ccGDBJh0Ykn0TeSVZ7OEfWDSxnMBUrQ2c';
    expect(
      tunnelConfigFromEnv({ ...base, GROWOFF_BASTION_HOSTKEY: ` ${PIN} , ${next}` }).bastionHostKeys,
    ).toEqual([PIN, next]);
  });

  it('takes the port 22 when GROWOFF_BASTION has none, and seconds with fractions for intervals', () => {
    const config = tunnelConfigFromEnv({
      ...base,
      GROWOFF_BASTION: 'bastion',
      GROWOFF_TUNNEL_KEEPALIVE_INTERVAL: '0.25',
      GROWOFF_TUNNEL_ALWAYS_ON: 'on',
    });
    expect(config.bastion).toEqual({ host: 'bastion', port: 22 });
    expect(config.keepaliveIntervalMs).toBe(250);
    expect(config.alwaysOn).toBe(true);
  });

  it.each([
    ['GROWOFF_BASTION', undefined, 'is required'],
    ['GROWOFF_BASTION', 'host:99999', 'a port from 1 to 65535'],
    ['GROWOFF_BASTION', 'host:port', 'host:port of the bastion'],
    ['GROWOFF_BASTION_HOSTKEY', 'MD5:aa:bb', 'SHA256:'],
    ['GROWOFF_BASTION_HOSTKEY', undefined, 'is required'],
    ['GROWOFF_BASTION_HOSTKEY', `${PIN},MD5:aa:bb`, 'SHA256:'],
    ['GROWOFF_BASTION_HOSTKEY', `${PIN},`, 'SHA256:'],
    ['GROWOFF_TUNNEL_REMOTE_PORT', undefined, 'is required'],
    ['GROWOFF_TUNNEL_REMOTE_PORT', '80', 'from 1024 to 65535'],
    ['GROWOFF_TUNNEL_LOCAL_PORT', 'ssh', 'a port from 1 to 65535'],
    ['GROWOFF_TUNNEL_MAX_TTL', '0', 'a whole number from 1 to 604800'],
    ['GROWOFF_TUNNEL_ALWAYS_ON', 'sometimes', 'on or off'],
    ['GROWOFF_MODULE_ID', 'a/b', '1-64 of A-Z a-z 0-9 _ . -'],
    ['GROWOFF_MQTT_URL', 'http://broker', 'a URL with scheme mqtt, mqtts, ws, wss'],
    ['GROWOFF_TUNNEL_KEEPALIVE_INTERVAL', 'fast', 'a number of seconds from 0.05 to 60 s'],
    ['GROWOFF_TUNNEL_BACKOFF_MAX', '0.5', 'not below GROWOFF_TUNNEL_BACKOFF_MIN'],
    ['GROWOFF_TUNNEL_KEY', '/nonexistent/tunnel_ed25519', 'a readable file'],
  ])('refuses %s=%s naming the variable', (variable, value, message) => {
    const env: Record<string, string | undefined> = { ...base, [variable]: value };
    expect(() => tunnelConfigFromEnv(env)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(variable) }),
    );
    expect(() => tunnelConfigFromEnv(env)).toThrow(message);
  });

  it('accepts broker credentials and TLS like every app', () => {
    const config = tunnelConfigFromEnv({
      ...base,
      GROWOFF_MQTT_URL: 'mqtts://broker:8883',
      GROWOFF_MQTT_USERNAME: 'tunnel',
      GROWOFF_MQTT_PASSWORD: 'pw',
      GROWOFF_MQTT_KEY: keyFile,
    });
    expect(config.mqtt).toEqual({
      url: 'mqtts://broker:8883',
      protocolVersion: 5,
      username: 'tunnel',
      password: 'pw',
      keyFile,
    });
  });

  it('masks credentials in the printed MQTT URL', () => {
    const config = tunnelConfigFromEnv({ ...base, GROWOFF_MQTT_URL: 'mqtts://module:s3cret@broker:8883' });
    expect(describeConfig(config)).not.toContain('s3cret');
    expect(describeConfig(config)).toContain('GROWOFF_MQTT_URL=mqtts://module:***@broker:8883');
  });
});
