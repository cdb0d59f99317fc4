import { describe, expect, it } from 'vitest';
import { describeConfig, tunnelConfigFromEnv } from './config';

const PIN = 'SHA256:QLQ7ZW5xk0x4pw6RY1MEXINSNLLII1GLlNfumH8qfws';
const base = {
  GROWOFF_BASTION: 'bastion.example:2222',
  GROWOFF_BASTION_HOSTKEY: PIN,
  GROWOFF_TUNNEL_REMOTE_PORT: '40022',
};

describe('tunnel configuration', () => {
  it('applies the defaults of the contract', () => {
    const config = tunnelConfigFromEnv(base);
    expect(config).toMatchObject({
      moduleId: 'dev-module',
      bastionHost: 'bastion.example',
      bastionPort: 2222,
      bastionUser: 'growoff-tunnel',
      localPort: 22,
      remotePort: 40022,
      alwaysOn: false,
    });
    // Keepalives notice a dead link within 30 s: one interval per unanswered keepalive, plus one.
    expect(config.keepaliveIntervalMs * (config.keepaliveCountMax + 1)).toBeLessThanOrEqual(30_000);
  });

  it('takes the port 22 when GROWOFF_BASTION has none, and seconds with fractions for intervals', () => {
    const config = tunnelConfigFromEnv({
      ...base,
      GROWOFF_BASTION: 'bastion',
      GROWOFF_TUNNEL_KEEPALIVE_INTERVAL: '0.25',
      GROWOFF_TUNNEL_ALWAYS_ON: 'on',
    });
    expect(config.bastionPort).toBe(22);
    expect(config.keepaliveIntervalMs).toBe(250);
    expect(config.alwaysOn).toBe(true);
  });

  it.each([
    ['GROWOFF_BASTION', undefined, 'is required'],
    ['GROWOFF_BASTION', 'host:99999', 'outside'],
    ['GROWOFF_BASTION_HOSTKEY', 'MD5:aa:bb', 'SHA256:'],
    ['GROWOFF_TUNNEL_REMOTE_PORT', undefined, 'is required'],
    ['GROWOFF_TUNNEL_REMOTE_PORT', '80', 'outside 1024..65535'],
    ['GROWOFF_TUNNEL_LOCAL_PORT', 'ssh', 'not a whole number'],
    ['GROWOFF_TUNNEL_MAX_TTL', '0', 'outside'],
    ['GROWOFF_TUNNEL_ALWAYS_ON', 'sometimes', 'not on/off'],
    ['GROWOFF_MODULE_ID', 'a/b', 'must be'],
    ['GROWOFF_MQTT_URL', 'http://broker', 'mqtt://'],
    ['GROWOFF_TUNNEL_KEEPALIVE_INTERVAL', 'fast', 'not a number of seconds'],
  ])('refuses %s=%s naming the variable', (variable, value, message) => {
    const env: Record<string, string | undefined> = { ...base, [variable]: value };
    expect(() => tunnelConfigFromEnv(env)).toThrow(
      expect.objectContaining({
        code: 'TUNNEL_BAD_CONFIG',
        message: expect.stringContaining(`${variable}: `),
      }),
    );
    expect(() => tunnelConfigFromEnv(env)).toThrow(message);
  });

  it('masks credentials in the printed MQTT URL', () => {
    const config = tunnelConfigFromEnv({ ...base, GROWOFF_MQTT_URL: 'mqtts://module:s3cret@broker:8883' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('s3cret');
    expect(describeConfig(config).mqttUrl).toBe('mqtts://***:***@broker:8883');
  });
});
