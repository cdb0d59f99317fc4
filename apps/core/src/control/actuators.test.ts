import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHal, type Hal } from '@growoff/hal';
import type { Event } from '../core-types';
import { EventBus } from '../event-bus';
import { StateStore } from '../state/state-store';
import { ConfigHolder } from '../config/config-holder';
import { ConfigStore } from '../config/config-store';
import { DEFAULT_MODULE_CONFIG, applyConfigPatch, type ModuleConfigPatch } from '../config/module-config';
import { ActuatorController } from './actuators';

interface Rig {
  hal: Hal;
  bus: EventBus;
  store: StateStore;
  actuators: ActuatorController;
  events: Event[];
  /** Resolves with the first event of a type, raised already or later. */
  event(type: string): Promise<Event>;
  waterOk(): void;
}

const open: Rig[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.actuators.safeState(500);
    await r.hal.close();
  }
});

/** A controller on the simulated cabinet; `before` runs on the HAL before the controller starts. */
async function rig(
  patch: ModuleConfigPatch = {},
  before?: (hal: Hal) => Promise<void>,
  now: () => number = Date.now,
  monotonic?: () => number,
): Promise<Rig> {
  const hal = await createHal({ mode: 'sim', timeScale: 1000, seed: 3 });
  await before?.(hal);
  const bus = new EventBus();
  const store = new StateStore();
  const events: Event[] = [];
  const waiters: { type: string; resolve: (e: Event) => void }[] = [];
  bus.on('event', (e) => {
    events.push(e);
    for (const w of waiters.filter((x) => x.type === e.type)) w.resolve(e);
  });
  const dir = await mkdtemp(join(tmpdir(), 'actuators-test-'));
  const config = new ConfigHolder(applyConfigPatch(DEFAULT_MODULE_CONFIG, patch), new ConfigStore(dir), bus);
  const actuators = new ActuatorController(hal, store, bus, config, now, monotonic);
  const r: Rig = {
    hal,
    bus,
    store,
    actuators,
    events,
    event: (type) => {
      const seen = events.find((e) => e.type === type);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ type, resolve }));
    },
    // The pump's interlock wants a fresh water level; the sampler is not part of this rig.
    waterOk: () =>
      store.setReading({ id: 'water_level', value: 1, unit: 'bool', quality: 'ok', ts: Date.now() }),
  };
  open.push(r);
  await actuators.start();
  return r;
}

describe('actuator safety', () => {
  it('a pump whose latch write lands while its read-back fails is unknown: published so, counted as on, refused "on", driven off until it reads back off', async () => {
    const r = await rig({ actuators: { reconcileIntervalMs: 200 } });
    r.waterOk();
    const published: unknown[] = [];
    r.bus.on('actuator', (a) => a.id === 'pump' && published.push(a.state));
    r.hal.simulation!.injectFault('pump', 'readback-fail');

    await expect(r.actuators.set('pump', { state: 'on' }, 'rest')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(published).toContainEqual({ state: 'unknown' });
    expect(r.store.actuator('pump')?.state).toEqual({ state: 'unknown' });
    expect(r.actuators.isOn('pump')).toBe(true);
    expect((await r.event('actuator.unknown')).severity).toBe('critical');
    await expect(r.actuators.set('pump', { state: 'on' }, 'mqtt')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { state: 'unknown' },
    });
    // The drive to safe lands (the relay drops) though it cannot be confirmed yet.
    await expect.poll(() => r.hal.simulation!.outputs().pump).toBe(0);
    expect(r.store.actuator('pump')?.state).toEqual({ state: 'unknown' });

    r.hal.simulation!.clearFaults('pump');
    await r.event('actuator.confirmed');
    expect(r.store.actuator('pump')?.state).toEqual({ state: 'off' });
    expect(published.at(-1)).toEqual({ state: 'off' });
  });

  it('a light whose read-back fails is unknown and driven dark; once it reads back again its desired level returns', async () => {
    const r = await rig({ actuators: { reconcileIntervalMs: 200 } });
    await r.actuators.set('light', { level: 30 }, 'schedule');
    r.hal.simulation!.injectFault('light', 'readback-fail');
    await expect(r.actuators.set('light', { level: 50 }, 'rest')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(r.store.actuator('light')?.state).toEqual({ state: 'unknown' });
    expect(r.actuators.isOn('light')).toBe(true);
    expect((await r.event('actuator.unknown')).severity).toBe('error');
    await expect(r.actuators.set('light', { level: 60 }, 'rest')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    await expect.poll(() => r.hal.simulation!.outputs().light).toBe(0);
    r.hal.simulation!.clearFaults('light');
    await r.event('actuator.confirmed');
    // Re-applied at the next reconcile round (every 200 ms): the poll's default 1 s left a loaded machine 0.8 s.
    await expect.poll(() => r.hal.simulation!.outputs().light, { timeout: 10_000 }).toBeCloseTo(0.3, 2);
    expect(r.store.actuator('light')?.state).toEqual({ level: 30 });
  });

  it('a pump found on at start (latch kept through a crash) is switched off before start returns, with an event', async () => {
    const r = await rig({}, async (hal) => {
      await hal.setActuator('pump', { state: 'on' });
    });
    expect(r.hal.simulation!.outputs().pump).toBe(0);
    expect(r.store.actuator('pump')?.state).toEqual({ state: 'off' });
    const found = await r.event('actuator.found_unsafe');
    expect(found).toMatchObject({ severity: 'critical', data: { actuator: 'pump', found: { state: 'on' } } });
  });

  it('a pump whose read-back fails at start is unknown and driven off', async () => {
    const r = await rig({}, async (hal) => {
      await hal.setActuator('pump', { state: 'on' });
      hal.simulation!.injectFault('pump', 'readback-fail');
    });
    expect(r.store.actuator('pump')?.state).toEqual({ state: 'unknown' });
    await expect.poll(() => r.hal.simulation!.outputs().pump).toBe(0);
  });

  it('the pump budget: a second "on" does not extend the run; it stops after maxRunSeconds and refuses "on" with PUMP_RESTING while resting', async () => {
    // The budget's time line is the test's (a 1 s run measured in real time allowed only 0.4 s for
    // the commands and a late timer on a loaded machine): it moves only when set here.
    const mono = { t: 0 };
    const r = await rig(
      { irrigation: { runSeconds: 1, maxRunSeconds: 1, runWindowSeconds: 60, restSeconds: 60 } },
      undefined,
      Date.now,
      () => mono.t,
    );
    r.waterOk();
    await r.actuators.set('pump', { state: 'on' }, 'rest');
    mono.t = 500;
    r.waterOk();
    await r.actuators.set('pump', { state: 'on' }, 'mqtt');
    // 1 ms short of the budget, past the 0.5 s of real time the second "on" left it: still running.
    mono.t = 999;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(r.events.map((e) => e.type)).not.toContain('pump.max_run');
    expect(r.hal.simulation!.outputs().pump).toBe(1);
    // 1 s after the first "on" (not 1 s after the second, which would be 1500) it stops.
    mono.t = 1000;
    const stopped = await r.event('pump.max_run');
    expect(stopped.data).toMatchObject({ maxRunSeconds: 1, restSeconds: 60 });
    await expect.poll(() => r.hal.simulation!.outputs().pump).toBe(0);
    r.waterOk();
    await expect(r.actuators.set('pump', { state: 'on' }, 'rest')).rejects.toMatchObject({
      code: 'PUMP_RESTING',
      details: { maxRunSeconds: 1, restSeconds: 60, restUntil: expect.any(Number) },
    });
    expect(r.hal.simulation!.outputs().pump).toBe(0);
  });

  it('a wall-clock step back by an hour during a run does not stretch it: the pump still stops after maxRunSeconds', async () => {
    let step = 0;
    const mono = { t: 0 };
    const r = await rig(
      { irrigation: { runSeconds: 1, maxRunSeconds: 1, runWindowSeconds: 60, restSeconds: 60 } },
      undefined,
      () => Date.now() + step,
      () => mono.t,
    );
    r.waterOk();
    await r.actuators.set('pump', { state: 'on' }, 'rest');
    step = -3_600_000; // NTP corrects a clock that ran an hour fast
    mono.t = 999;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(r.events.map((e) => e.type)).not.toContain('pump.max_run');
    mono.t = 1000;
    await r.event('pump.max_run');
    await expect.poll(() => r.hal.simulation!.outputs().pump).toBe(0);
  });

  it('after a brown-out of the PCA9685 the reconcile round finds the light dark and brings it back to its level', async () => {
    const r = await rig({ actuators: { reconcileIntervalMs: 200 } });
    await r.actuators.set('light', { level: 80 }, 'schedule');
    await r.actuators.set('fan', { level: 40 }, 'climate');
    r.hal.simulation!.injectFault('pca9685', 'brownout');
    expect(r.hal.simulation!.outputs()).toMatchObject({ light: 0, fan: 0 });
    const mismatch = await r.event('actuator.mismatch');
    expect(mismatch.data).toMatchObject({ actuator: 'light', desired: { level: 80 }, actual: { level: 0 } });
    await expect.poll(() => r.hal.simulation!.outputs().light).toBeCloseTo(0.8, 2);
    await expect.poll(() => r.hal.simulation!.outputs().fan).toBeCloseTo(0.4, 2);
    expect(r.store.actuator('light')?.state).toEqual({ level: 80 });
  });

  it('safe state preempts queued commands: they are refused, and every actuator is confirmed safe without waiting for them', async () => {
    const r = await rig();
    r.waterOk();
    await r.actuators.set('pump', { state: 'on' }, 'rest');
    const queued = [
      ...Array.from({ length: 20 }, (_, i) => r.actuators.set('light', { level: 10 + i }, 'schedule')),
      r.actuators.set('pump', { state: 'on' }, 'mqtt'),
      r.actuators.set('fan', { level: 90 }, 'climate'),
    ].map((p) =>
      p.then(
        () => 'applied',
        (e: { code?: string }) => e.code,
      ),
    );
    const report = await r.actuators.safeState(2500);
    expect(report).toEqual({ confirmed: expect.arrayContaining(['pump', 'light', 'fan']), unconfirmed: [] });
    const outcomes = await Promise.all(queued);
    // The light command already on the wire may land; everything still queued is refused.
    expect(outcomes.slice(1)).toEqual(Array(21).fill('UNAVAILABLE'));
    expect(r.hal.simulation!.outputs()).toEqual({ light: 0, fan: 0, pump: 0 });
  });

  it('each safe-state step is bounded: with the PCA9685 stalling the bus it ends within its budget and names the light unconfirmed', async () => {
    const r = await rig();
    await r.actuators.set('light', { level: 50 }, 'rest');
    r.hal.simulation!.injectFault('pca9685', 'slow');
    const t0 = Date.now();
    const report = await r.actuators.safeState(2000);
    expect(Date.now() - t0).toBeLessThan(2000 + 500);
    expect(report.unconfirmed.map((u) => u.id)).toContain('light');
    expect((await r.event('shutdown.unsafe')).severity).toBe('critical');
  });

  it('safe state with a failing read-back reports the pump unconfirmed, although its write lands', async () => {
    const r = await rig();
    r.waterOk();
    await r.actuators.set('pump', { state: 'on' }, 'rest');
    r.hal.simulation!.injectFault('pump', 'readback-fail');
    const report = await r.actuators.safeState(1500);
    expect(report.unconfirmed.map((u) => u.id)).toEqual(['pump']);
    expect(report.confirmed.sort()).toEqual(['fan', 'light']);
    expect(r.hal.simulation!.outputs().pump).toBe(0);
    expect(r.store.actuator('pump')?.state).toEqual({ state: 'unknown' });
  });
});
