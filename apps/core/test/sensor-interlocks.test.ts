import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE, type HardwareProfile } from '@growoff/hal';
import { getService } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import type { SensorSnapshot } from '../src/core-types';
import type { CoreBusEvents } from '../src/event-bus';
import { jsonOf, rest, startTestCore, TestClient, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');
let core: RunningCore | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  await client?.close();
  await core?.stop();
  core = client = undefined;
});

/** A core on the simulated cabinet of a custom hardware profile (GROWOFF_HAL_PROFILE). */
async function startWithProfile(
  profile: HardwareProfile,
  env: Record<string, string> = {},
): Promise<RunningCore> {
  const file = join(await mkdtemp(join(tmpdir(), 'core-profile-')), 'profile.json');
  await writeFile(file, JSON.stringify(profile));
  return start({ GROWOFF_HAL_PROFILE: file, ...env });
}

async function start(env: Record<string, string> = {}): Promise<RunningCore> {
  const moduleId = uniqueModuleId('sensor-safety');
  core = await startTestCore({ GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: mosquitto.url, ...env });
  return core;
}

/** The next payload (from now on) of a core bus event that matches. */
function next<K extends 'reading' | 'event'>(
  c: RunningCore,
  name: K,
  match: (p: CoreBusEvents[K]) => boolean,
): Promise<CoreBusEvents[K]> {
  return new Promise((resolve) => {
    const off = c.bus.on(name, (p) => {
      if (!match(p)) return;
      off();
      resolve(p);
    });
  });
}

const nextReading = (c: RunningCore, match: (r: SensorSnapshot) => boolean) => next(c, 'reading', match);

describe('water level interlock in the core', { timeout: 60_000 }, () => {
  it('counts a failed level reading as low water: event, and the pump refused', async () => {
    const c = await start();
    await nextReading(c, (r) => r.id === 'water_level' && r.quality === 'ok');
    const low = next(c, 'event', (e) => e.type === 'water_level.low');
    c.hal.simulation!.injectFault('water_level', 'nack');
    expect((await low).message).toContain('unknown (unavailable), so it counts as low');
    const refused = await rest(c, 'PUT', '/api/v1/actuators/pump', { state: 'on' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: { code: 'INTERLOCK', details: { reason: 'water_level_unknown' } },
    });
  });

  it('binds the pump interlock to the roles of a custom profile: feed_pump and a level probe in volts', async () => {
    const profile = structuredClone(DEFAULT_PROFILE) as HardwareProfile;
    profile.devices.push({ name: 'adc', type: 'ads1115', address: 0x48 });
    profile.sensors.push({
      id: 'tank_volts',
      device: 'adc',
      channel: 'ain0',
      unit: 'V',
      intervalMs: 1000,
      simulate: 'waterLevel',
    });
    Object.assign(
      profile.actuators.find((a) => a.id === 'pump')!,
      { id: 'feed_pump', simulate: 'pump' },
    );
    profile.roles = { pump: 'feed_pump', waterLevels: [{ sensor: 'tank_volts', lowBelow: 0.5 }] };
    // Real time, so the reservoir refills slowly (0.0015 per simulated second).
    const c = await startWithProfile(profile, { GROWOFF_SIM_TIME_SCALE: '1' });

    // 0.35 V is below the role's 0.5 V, while the float switch (not bound) still reads water.
    c.hal.simulation!.setEnvironment({ waterLevel: 0.35 });
    await nextReading(c, (r) => r.id === 'tank_volts' && r.quality === 'ok' && r.value! < 0.5);
    await nextReading(c, (r) => r.id === 'water_level' && r.value === 1);
    const refused = await rest(c, 'PUT', '/api/v1/actuators/feed_pump', { state: 'on' });
    expect(refused.body).toMatchObject({
      error: {
        code: 'INTERLOCK',
        message: expect.stringContaining('below 0.5'),
        details: { actuator: 'feed_pump' },
      },
    });

    c.hal.simulation!.setEnvironment({ waterLevel: 0.8 });
    await nextReading(c, (r) => r.id === 'tank_volts' && r.quality === 'ok' && r.value! > 0.5);
    expect(await rest(c, 'PUT', '/api/v1/actuators/feed_pump', { state: 'on' })).toMatchObject({
      status: 200,
      body: { state: 'on' },
    });
    // The interlock watches the bound sensor: its failure stops the pump.
    const stopped = new Promise<void>((resolve) => {
      const off = c.bus.on('actuator', (a) => {
        if (a.id === 'feed_pump' && 'state' in a.state && a.state.state === 'off') {
          off();
          resolve();
        }
      });
    });
    c.hal.simulation!.injectFault('adc', 'nack');
    await stopped;
  });
});

describe('hardware roles in the core', { timeout: 60_000 }, () => {
  it('refuses irrigation with a coded error when the profile has no pump, and starts without it', async () => {
    const profile = structuredClone(DEFAULT_PROFILE) as HardwareProfile;
    profile.actuators = profile.actuators.filter((a) => a.id !== 'pump');
    delete (profile as Partial<HardwareProfile>).roles;
    const c = await startWithProfile(profile);
    const refused = await rest(c, 'POST', '/api/v1/irrigation/start', {});
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({
      error: { code: 'UNKNOWN_ACTUATOR', message: expect.stringContaining('no pump') },
    });
    expect((await rest(c, 'GET', '/health')).body).toMatchObject({ missing: [], loopsOff: [] });
  });
});

describe('water temperature compensation in the core', { timeout: 60_000 }, () => {
  it('sends no zero reading to the EZO circuits: pH and EC use the default, flagged on REST and MQTT', async () => {
    const c = await start();
    client = await TestClient.connect(mosquitto.url);
    await client.subscribe(topics.sensor(c.config.moduleId, 'ec'));
    await nextReading(c, (r) => r.id === 'ec' && r.compensation?.source === 'measured');
    c.hal.simulation!.injectFault('water_temperature', 'zero-read');
    const t = await nextReading(c, (r) => r.id === 'water_temperature' && r.quality !== 'ok');
    expect(t).toMatchObject({ quality: 'crc', value: null, error: expect.stringContaining('all zeros') });
    await nextReading(c, (r) => r.id === 'ec' && r.compensation?.source === 'default');

    expect((await rest(c, 'GET', '/api/v1/sensors/ec')).body).toMatchObject({
      quality: 'ok',
      compensation: { celsius: 20, source: 'default' },
    });
    const published = await client.waitFor(
      (m) => (jsonOf(m).compensation as { source?: string } | undefined)?.source === 'default',
      'ec published with its default compensation',
    );
    expect(jsonOf(published)).toMatchObject({ unit: 'µS/cm', compensation: { celsius: 20 } });
  });
});
