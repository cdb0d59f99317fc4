import { describe, expect, it } from 'vitest';
import { describeConfig, updaterConfigFromEnv } from './updater-config';

const base = { GROWOFF_CORE_IMAGE_REPO: '127.0.0.1:5000/growoff/core' };

describe('updaterConfigFromEnv', () => {
  it('applies the documented defaults', () => {
    const config = updaterConfigFromEnv(base);
    expect(config).toMatchObject({
      moduleId: 'dev-module',
      channel: 'stable',
      httpPort: 8081,
      healthRequiresMqtt: true,
      healthTimeoutMs: 120_000,
    });
  });

  it.each([
    ['GROWOFF_UPDATER_HTTP_PORT', '70000'],
    ['GROWOFF_CHANNEL', 'a/b'],
    ['GROWOFF_CORE_IMAGE_REPO', 'repo@sha256:abc'],
    ['GROWOFF_MQTT_URL', 'nonsense'],
    ['GROWOFF_HEALTH_TIMEOUT_S', '-1'],
    ['GROWOFF_HEALTH_REQUIRE_MQTT', 'maybe'],
    ['GROWOFF_MODULE_ID', 'has space'],
    ['GROWOFF_CORE_DEVICES', 'dev/i2c-1'],
    ['GROWOFF_CORE_VOLUMES', '/var/lib/growoff/core'],
    ['GROWOFF_CORE_VOLUMES', '/a:/b:rx'],
    ['GROWOFF_CORE_GROUPS', 'i2c,not a group'],
  ])('refuses a bad %s naming the variable', (name, value) => {
    expect(() => updaterConfigFromEnv({ ...base, [name]: value })).toThrow(name);
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
    expect(() => updaterConfigFromEnv({})).toThrow('GROWOFF_CORE_IMAGE_REPO is required');
  });

  it('masks a password in the MQTT URL when printed', () => {
    const config = updaterConfigFromEnv({ ...base, GROWOFF_MQTT_URL: 'mqtt://u:secret@127.0.0.1:1883' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('secret');
  });
});
