import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors';
import { modulePrefix, parseTopic, topics } from './topics';

describe('topics', () => {
  it('builds every contract topic under growoff/v1/modules/{id}/', () => {
    expect(modulePrefix('m1')).toBe('growoff/v1/modules/m1/');
    expect(topics.status('m1', 'core')).toBe('growoff/v1/modules/m1/core/status');
    expect(topics.sensor('m1', 'ph')).toBe('growoff/v1/modules/m1/sensors/ph');
    expect(topics.actuator('m1', 'pump')).toBe('growoff/v1/modules/m1/actuators/pump');
    expect(topics.actuatorSet('m1', 'pump')).toBe('growoff/v1/modules/m1/actuators/pump/set');
    expect(topics.request('m1', 'core', 'get_config')).toBe('growoff/v1/modules/m1/core/req/get_config');
    expect(topics.response('m1', 'core', 'get_config')).toBe('growoff/v1/modules/m1/core/res/get_config');
    expect(topics.events('m1')).toBe('growoff/v1/modules/m1/events');
    expect(topics.release('m1')).toBe('growoff/v1/modules/m1/release');
    expect(topics.alarms('m1')).toBe('growoff/v1/modules/m1/alarms');
    expect(topics.fleetRelease('stable')).toBe('growoff/v1/fleet/releases/stable');
  });

  it('refuses ids that would change the topic structure', () => {
    for (const bad of ['', 'a/b', '+', '#', 'x'.repeat(65)]) {
      expect(() => topics.sensor('m1', bad)).toThrow(ProtocolError);
      expect(() => modulePrefix(bad)).toThrow(ProtocolError);
    }
  });

  it('parses the retained alarms topic', () => {
    expect(parseTopic(topics.alarms('m1'))).toEqual({ kind: 'alarms', moduleId: 'm1' });
  });

  it('parses what it builds back into the same parts', () => {
    expect(parseTopic(topics.status('m1', 'updater'))).toEqual({
      kind: 'status',
      moduleId: 'm1',
      app: 'updater',
    });
    expect(parseTopic(topics.sensor('m1', 'co2'))).toEqual({
      kind: 'sensor',
      moduleId: 'm1',
      sensorId: 'co2',
    });
    expect(parseTopic(topics.actuator('m1', 'fan'))).toEqual({
      kind: 'actuator',
      moduleId: 'm1',
      actuatorId: 'fan',
    });
    expect(parseTopic(topics.actuatorSet('m1', 'fan'))).toEqual({
      kind: 'actuatorSet',
      moduleId: 'm1',
      actuatorId: 'fan',
    });
    expect(parseTopic(topics.request('m1', 'tunnel', 'open'))).toEqual({
      kind: 'request',
      moduleId: 'm1',
      app: 'tunnel',
      method: 'open',
    });
    expect(parseTopic(topics.response('m1', 'core', 'x'))).toEqual({
      kind: 'response',
      moduleId: 'm1',
      app: 'core',
      method: 'x',
    });
    expect(parseTopic(topics.events('m1'))).toEqual({ kind: 'events', moduleId: 'm1' });
    expect(parseTopic(topics.release('m1'))).toEqual({ kind: 'release', moduleId: 'm1' });
    expect(parseTopic(topics.fleetRelease('beta'))).toEqual({ kind: 'fleetRelease', channel: 'beta' });
    expect(topics.fleetRevocations()).toBe('growoff/v1/fleet/revocations');
    expect(topics.fleetKeys()).toBe('growoff/v1/fleet/keys');
    expect(parseTopic(topics.fleetRevocations())).toEqual({ kind: 'fleetRevocations' });
    expect(parseTopic(topics.fleetKeys())).toEqual({ kind: 'fleetKeys' });
  });

  it('returns null for topics outside the contract', () => {
    for (const t of [
      'growoff/v2/modules/m1/events',
      'other/v1/modules/m1/events',
      'growoff/v1/modules/m1',
      'growoff/v1/modules/m1/sensors',
      'growoff/v1/modules/m1/sensors/a/b',
      'growoff/v1/modules/m1/robot/status',
      'growoff/v1/modules/m1/actuators/pump/get',
      'growoff/v1/modules//events',
      'growoff/v1/fleet/releases',
      'growoff/v1/fleet/keys/extra',
      'growoff/v1/fleet/revoked',
    ]) {
      expect(parseTopic(t)).toBeNull();
    }
  });
});
