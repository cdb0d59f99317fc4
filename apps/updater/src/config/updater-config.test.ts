import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe as describeConfig } from '@growoff/config';
import { describe, expect, it } from 'vitest';
import { updaterConfigFromEnv } from './updater-config';

const keys = mkdtempSync(join(tmpdir(), 'updater-config-keys-'));
writeFileSync(join(keys, 'release.pem'), 'pem');
const base = { GROWOFF_CORE_IMAGE_REPO: '127.0.0.1:5000/growoff/core', GROWOFF_RELEASE_KEYS: keys };

describe('updaterConfigFromEnv', () => {
  it('applies the documented defaults', () => {
    const config = updaterConfigFromEnv(base);
    expect(config).toMatchObject({
      moduleId: 'dev-module',
      channel: 'stable',
      httpPort: 8081,
      healthRequiresMqtt: true,
      healthTimeoutMs: 120_000,
      healthTolerate: [],
      updateLockMaxMs: 900_000,
      diskReserveBytes: 256 * 1024 * 1024,
      dockerHost: 'unix:///var/run/docker.sock',
      awsRegion: 'eu-central-1',
      mqtt: { url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 },
    });
  });

  it.each([
    ['GROWOFF_UPDATER_HTTP_PORT', '70000'],
    ['GROWOFF_CHANNEL', 'a/b'],
    ['GROWOFF_CORE_IMAGE_REPO', 'repo@sha256:abc'],
    ['GROWOFF_MQTT_URL', 'nonsense'],
    ['GROWOFF_HEALTH_TIMEOUT_S', '-1'],
    ['GROWOFF_HEALTH_REQUIRE_MQTT', 'maybe'],
    ['GROWOFF_HEALTH_TOLERATE', 'sensors,everything'],
    ['GROWOFF_UPDATE_LOCK_MAX_S', '0'],
    ['GROWOFF_MODULE_ID', 'has space'],
    ['GROWOFF_CORE_DEVICES', 'dev/i2c-1'],
    ['GROWOFF_CORE_VOLUMES', '/var/lib/growoff/core'],
    ['GROWOFF_CORE_VOLUMES', '/a:/b:rx'],
    ['GROWOFF_CORE_GROUPS', 'i2c,not a group'],
    ['GROWOFF_RELEASE_KEYS', '/nonexistent/release-keys'],
    ['GROWOFF_HOST_ETC', 'relative/etc'],
    ['GROWOFF_TUNNEL_IMAGE', 'registry.example/growoff/tunnel:latest'],
    ['GROWOFF_MQTT_CA', '/nonexistent/ca.crt'],
  ])('refuses a bad %s naming the variable', (name, value) => {
    expect(() => updaterConfigFromEnv({ ...base, [name]: value })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(`${name}: expected`),
      }),
    );
  });

  it('reads the tolerated degraded reasons and the update lock bound', () => {
    const config = updaterConfigFromEnv({
      ...base,
      GROWOFF_HEALTH_TOLERATE: 'sensors,hardware',
      GROWOFF_UPDATE_LOCK_MAX_S: '60',
    });
    expect(config).toMatchObject({ healthTolerate: ['sensors', 'hardware'], updateLockMaxMs: 60_000 });
  });

  it('accepts broker credentials and TLS like every app', () => {
    const config = updaterConfigFromEnv({
      ...base,
      GROWOFF_MQTT_URL: 'mqtts://broker.example:8883',
      GROWOFF_MQTT_USERNAME: 'updater',
      GROWOFF_MQTT_PASSWORD: 'pw-secret',
      GROWOFF_MQTT_CA: join(keys, 'release.pem'),
    });
    expect(config.mqtt).toMatchObject({
      username: 'updater',
      password: 'pw-secret',
      caFile: join(keys, 'release.pem'),
    });
    expect(describeConfig(config)).not.toContain('pw-secret');
  });

  it('never echoes a bad value of a secret nor a URL password in its error', () => {
    expect(() =>
      updaterConfigFromEnv({
        ...base,
        GROWOFF_MQTT_URL: 'http://u:hunter2@broker',
        GROWOFF_ECR_ENDPOINT: 'x',
      }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });

  it('reads the devices, volumes and groups a first-installed core gets, as tools/base writes them', () => {
    const config = updaterConfigFromEnv({
      ...base,
      GROWOFF_CORE_DEVICES: '/dev/i2c-1, /dev/gpiomem:/dev/gpio',
      GROWOFF_CORE_VOLUMES: '/var/lib/growoff/core:/data,/sys/bus/w1:/sys/bus/w1:ro',
      GROWOFF_CORE_GROUPS: 'i2c,997',
    });
    expect(config.coreDevices).toEqual(['/dev/i2c-1', '/dev/gpiomem:/dev/gpio']);
    expect(config.coreVolumes).toEqual(['/var/lib/growoff/core:/data', '/sys/bus/w1:/sys/bus/w1:ro']);
    expect(config.coreGroups).toEqual(['i2c', '997']);
    expect(updaterConfigFromEnv(base)).toMatchObject({ coreDevices: [], coreVolumes: [], coreGroups: [] });
  });

  it('requires the core image repository', () => {
    expect(() => updaterConfigFromEnv({ GROWOFF_RELEASE_KEYS: keys })).toThrow(
      'GROWOFF_CORE_IMAGE_REPO is required',
    );
  });

  it('masks a password in the MQTT URL when printed', () => {
    const config = updaterConfigFromEnv({ ...base, GROWOFF_MQTT_URL: 'mqtt://u:secret@127.0.0.1:1883' });
    expect(describeConfig(config)).not.toContain('secret');
    expect(describeConfig(config)).toContain('GROWOFF_MQTT_URL=mqtt://u:***@127.0.0.1:1883');
  });
});
