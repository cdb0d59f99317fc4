import { afterEach, describe, expect, it } from 'vitest';
import { scaledClock, steppedClock } from './clock';
import { DeviceGuard } from './bus/bus-supervisor';
import { parseW1Slave } from './drivers/ds18b20';
import { createHal, DEFAULT_PROFILE, parseProfile, type Hal, type HardwareProfile } from './index';

// Hazard rows of docs/SAFETY.md: each `describe > it` here is named there.

let hal: Hal | undefined;
afterEach(async () => {
  await hal?.close();
  hal = undefined;
});

async function sim(profile?: HardwareProfile): Promise<Hal> {
  hal = await createHal({ mode: 'sim', timeScale: 1000, seed: 5, ...(profile ? { profile } : {}) });
  return hal;
}

function withFloatPolarity(polarity: 'active-low' | 'active-high'): HardwareProfile {
  const p = structuredClone(DEFAULT_PROFILE);
  p.sensors.find((s) => s.id === 'water_level')!.polarity = polarity;
  return parseProfile(p);
}

describe('float switch wiring', () => {
  it('reads a cut wire as low water with the default fail-safe (active-low) wiring', async () => {
    const h = await sim();
    expect(await h.read('water_level')).toMatchObject({ value: 1, quality: 'ok' });
    h.simulation!.injectFault('water_level', 'open-circuit');
    expect(await h.read('water_level')).toMatchObject({ value: 0, quality: 'ok', unit: 'bool' });
    h.simulation!.clearFaults('water_level');
    expect(await h.read('water_level')).toMatchObject({ value: 1, quality: 'ok' });
  });

  it('reads a cut wire as water OK with active-high wiring, the hazard the default avoids', async () => {
    const h = await sim(withFloatPolarity('active-high'));
    h.simulation!.setEnvironment({ waterLevel: 0.1 });
    expect(await h.read('water_level')).toMatchObject({ value: 0, quality: 'ok' });
    h.simulation!.injectFault('water_level', 'open-circuit');
    expect(await h.read('water_level')).toMatchObject({ value: 1, quality: 'ok' });
  });

  it('reads low and high water the same way with either wiring', async () => {
    for (const polarity of ['active-low', 'active-high'] as const) {
      const h = await sim(withFloatPolarity(polarity));
      expect((await h.read('water_level')).value).toBe(1);
      h.simulation!.setEnvironment({ waterLevel: 0.1 });
      expect((await h.read('water_level')).value).toBe(0);
      await h.close();
    }
  });

  it('refuses open-circuit on anything but a digital input, changing nothing', async () => {
    const h = await sim();
    expect(() => h.simulation!.injectFault('ph', 'open-circuit')).toThrow(
      expect.objectContaining({ code: 'HAL_BAD_COMMAND', message: expect.stringContaining('water_level') }),
    );
    expect(() => h.simulation!.injectFault('pump', 'open-circuit')).toThrow(/digital input/);
    expect(await h.read('water_level')).toMatchObject({ value: 1, quality: 'ok' });
    expect((await h.read('ph')).quality).toBe('ok');
  });
});

describe('DS18B20 read of all zeros', () => {
  const zeros = '00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n';

  it('rejects a zero scratchpad whose CRC passes', () => {
    expect(() => parseW1Slave(zeros, 'probe')).toThrow(
      expect.objectContaining({ code: 'HAL_CRC', message: expect.stringContaining('all zeros') }),
    );
  });

  it('reads crc, never 0 °C, when the probe returns zeros', async () => {
    const h = await sim();
    h.simulation!.injectFault('water_temperature', 'zero-read');
    const r = await h.read('water_temperature');
    expect(r).toMatchObject({ value: null, quality: 'crc' });
    h.simulation!.clearFaults();
    expect((await h.read('water_temperature')).quality).toBe('ok');
  });

  it('compensates pH and EC with the configured default, flagged, while the probe reads zeros', async () => {
    const h = await sim();
    h.simulation!.setEnvironment({ waterTemperature: 20, ec: 1500 });
    h.simulation!.injectFault('water_temperature', 'zero-read');
    const ec = await h.read('ec');
    expect(ec.compensation).toEqual({ celsius: 20, source: 'default' });
    // Told 0 °C the circuit would read about 1.8x high; with the default it is near the truth.
    expect(Math.abs(ec.value! - 1500)).toBeLessThan(100);
    expect((await h.read('ph')).compensation).toEqual({ celsius: 20, source: 'default' });
  });

  it('compensates from a fresh ok reading once the probe is back, flagged measured', async () => {
    const h = await sim();
    // Air and room at the water's 12 °C: the water stays there however long the reads take (at
    // 1000x, 12 °C water in 22 °C air warms by 2 °C per real second: 0.5 °C off after a 0.25 s stall).
    h.simulation!.setEnvironment({ waterTemperature: 12, airTemperature: 12, ambientTemperature: 12 });
    h.simulation!.injectFault('water_temperature', 'zero-read');
    expect((await h.read('ec')).compensation?.source).toBe('default');
    h.simulation!.clearFaults();
    const ec = await h.read('ec');
    expect(ec.compensation?.source).toBe('measured');
    expect(ec.compensation!.celsius).toBeCloseTo(12, 0);
  });
  it('says the circuit kept its previous temperature when telling it a new one fails', async () => {
    const h = await sim();
    h.simulation!.setEnvironment({ waterTemperature: 12 });
    const first = await h.read('ec');
    expect(first.compensation?.source).toBe('measured');
    h.simulation!.setEnvironment({ waterTemperature: 20 });
    expect((await h.read('water_temperature')).value).toBeCloseTo(20, 0);
    h.simulation!.injectFault('ec', 'nack');
    const ec = await h.read('ec');
    expect(ec.quality).toBe('unavailable');
    expect(ec.compensation).toEqual({ celsius: first.compensation!.celsius, source: 'previous' });
  });
});

describe('device operations', () => {
  const clock = scaledClock(1000);
  const device = { init: async () => undefined, reset: async () => undefined };

  it('never overlaps a retry with an operation that timed out', async () => {
    // Time moves only when the test says: on a scaled clock the 100 ms between the first call's end
    // and the end of the retry's wait for it were 100 ms of real time, which a loaded machine can lose.
    const stepped = steppedClock();
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const guard = new DeviceGuard('d', stepped, device, { retries: 2, operationTimeoutMs: 200 });
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const result = guard.run(async () => {
      const call = ++calls;
      active++;
      maxActive = Math.max(maxActive, active);
      order.push(`${call}:start`);
      // The first call outlives the operation timeout (200 ms) and ends 100 ms later, well within
      // the retry's bounded wait for it (another 200 ms).
      if (call === 1) await new Promise<void>((resolve) => stepped.timer(300, resolve));
      order.push(`${call}:end`);
      active--;
      return call;
    });
    await settle();
    expect(order).toEqual(['1:start']);
    stepped.advance(200); // the first call times out; its retry (after a 20 ms backoff) waits for it
    await settle();
    expect(guard.health()).toMatchObject({ timeouts: 1, retries: 1 });
    expect(order).toEqual(['1:start']);
    stepped.advance(100); // the first call ends: only now does the retry run
    const value = await result;
    expect(value).toBe(2);
    expect(maxActive).toBe(1);
    expect(order).toEqual(['1:start', '1:end', '2:start', '2:end']);
    expect(guard.health()).toMatchObject({ timeouts: 1, retries: 1, state: 'ok' });
  });

  it('refuses, within a bound, while an operation that timed out never ends', async () => {
    const guard = new DeviceGuard('d', clock, device, { retries: 0, operationTimeoutMs: 200 });
    let calls = 0;
    const hang = () => {
      calls++;
      return new Promise<never>(() => undefined);
    };
    await expect(guard.run(hang)).rejects.toMatchObject({ code: 'HAL_TIMEOUT' });
    await expect(guard.run(async () => 'next')).rejects.toMatchObject({
      code: 'HAL_TIMEOUT',
      message: expect.stringContaining('still running'),
    });
    expect(calls).toBe(1);
  });
});

describe('hardware roles', () => {
  it('binds the default roles to pump, light, fan and water_level', () => {
    expect(DEFAULT_PROFILE.roles).toEqual({
      pump: 'pump',
      light: 'light',
      fan: 'fan',
      waterLevels: [{ sensor: 'water_level', lowBelow: 0.5 }],
    });
  });

  it('binds roles to other ids, and requires a threshold for a level sensor in cm', () => {
    const p = structuredClone(DEFAULT_PROFILE) as HardwareProfile & Record<string, unknown>;
    p.actuators.find((a) => a.id === 'pump')!.id = 'feed_pump';
    p.sensors.push({ id: 'tank_depth', device: 'sht3x', channel: 'humidity', unit: 'cm', intervalMs: 1000 });
    const both = [
      { sensor: 'water_level', lowBelow: 0.5 },
      { sensor: 'tank_depth', lowBelow: 8 },
    ];
    p.roles = { pump: 'feed_pump', waterLevels: both };
    expect(parseProfile(p).roles).toEqual({
      pump: 'feed_pump',
      light: 'light',
      fan: 'fan',
      waterLevels: both,
    });
    p.roles = { pump: 'feed_pump', waterLevels: [{ sensor: 'tank_depth' } as never] };
    expect(() => parseProfile(p)).toThrow(/roles\.waterLevels\[0\]\.lowBelow is required .* cm/);
    p.roles = { pump: 'feed_pump', waterLevels: [{ sensor: 'sump', lowBelow: 1 }] };
    expect(() => parseProfile(p)).toThrow(/roles\.waterLevels\[0\]\.sensor "sump" is not a sensor/);
    p.roles = { pump: 'pump', waterLevels: [] };
    expect(() => parseProfile(p)).toThrow(/roles\.pump "pump" is not an actuator/);
  });

  it('leaves a role unbound when the profile has no such id', () => {
    const p = structuredClone(DEFAULT_PROFILE) as HardwareProfile & Record<string, unknown>;
    p.actuators = p.actuators.filter((a) => a.id !== 'fan');
    p.sensors = p.sensors.filter((s) => s.id !== 'water_level');
    delete (p as Partial<HardwareProfile>).roles;
    expect(parseProfile(p).roles).toEqual({ pump: 'pump', light: 'light', waterLevels: [] });
  });

  it('refuses a default level sensor in cm without a threshold', () => {
    const p = structuredClone(DEFAULT_PROFILE) as HardwareProfile & Record<string, unknown>;
    Object.assign(
      p.sensors.find((s) => s.id === 'water_level')!,
      { unit: 'cm' },
    );
    delete (p as Partial<HardwareProfile>).roles;
    expect(() => parseProfile(p)).toThrow(/roles\.waterLevels must give lowBelow for water_level/);
  });

  it('refuses a polarity on anything but an expander input', () => {
    const p = structuredClone(DEFAULT_PROFILE);
    p.sensors[0]!.polarity = 'active-low';
    expect(() => parseProfile(p)).toThrow(/sensors\[0\]\.polarity applies to mcp23017 inputs only/);
    const q = structuredClone(DEFAULT_PROFILE);
    q.sensors.find((s) => s.id === 'water_level')!.polarity = 'inverted' as never;
    expect(() => parseProfile(q)).toThrow(/polarity must be active-low or active-high/);
  });
});

describe('missing hardware', () => {
  it('names every device unavailable on a missing bus, without throwing', async () => {
    hal = await createHal({ mode: 'i2c', busNumber: 97, w1Root: '/nonexistent-w1' });
    const probes = await hal.probe();
    expect(probes.map((p) => p.device).sort()).toEqual(DEFAULT_PROFILE.devices.map((d) => d.name).sort());
    expect(probes.every((p) => !p.ok)).toBe(true);
    expect(probes.find((p) => p.device === 'pca9685')!.error).toContain('/dev/i2c-97');
  });

  it('names an unplugged chip, and finds it again once it is back', async () => {
    const h = await sim();
    h.simulation!.injectFault('pca9685', 'unplugged');
    const probes = await h.probe();
    expect(probes.filter((p) => !p.ok).map((p) => p.device)).toEqual(['pca9685']);
    h.simulation!.clearFaults();
    expect(await h.probe(['pca9685'])).toEqual([{ device: 'pca9685', ok: true }]);
  });
});
