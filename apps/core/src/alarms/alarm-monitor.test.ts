import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmsMessage, Event } from '@growoff/protocol';
import { EventBus } from '../event-bus';
import { ConfigHolder } from '../config/config-holder';
import { ConfigStore } from '../config/config-store';
import { DEFAULT_MODULE_CONFIG } from '../config/module-config';
import { AlarmMonitor, type AlarmClock } from './alarm-monitor';

/** Time moves only when the test says; due timers fire in order. */
class ManualClock implements AlarmClock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  now = () => this.t;
  timer = (ms: number, fn: () => void) => {
    const entry = { at: this.t + ms, fn, live: true };
    this.timers.push(entry);
    return () => {
      entry.live = false;
    };
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.t = next.at;
      next.live = false;
      next.fn();
    }
    this.t = end;
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(limits = { ph: { low: 5.5, high: 6.5, hysteresis: 0.2, delayS: 10 } }) {
  const dir = await mkdtemp(join(tmpdir(), 'growoff-alarms-'));
  dirs.push(dir);
  const bus = new EventBus();
  const events: Event[] = [];
  const published: AlarmsMessage[] = [];
  bus.on('event', (e) => events.push(e));
  bus.on('alarms', (m) => published.push(m));
  const config = new ConfigHolder(
    { ...DEFAULT_MODULE_CONFIG, alarms: { limits } },
    new ConfigStore(dir),
    bus,
  );
  const clock = new ManualClock();
  const monitor = new AlarmMonitor(bus, config, clock);
  monitor.start();
  const read = (value: number | null, id = 'ph', quality: 'ok' | 'timeout' = 'ok') =>
    bus.emit('reading', { id, value, unit: 'pH', quality, ts: clock.t });
  const types = () => events.map((e) => e.type);
  return { bus, events, published, config, clock, monitor, read, types };
}

describe('alarm monitor', () => {
  it('raises a high alarm only after the value stayed past the limit for the whole delay', async () => {
    const { clock, read, types, monitor, published } = await setup();
    expect(published).toEqual([{ alarms: [], ts: clock.t }]);
    read(6.6);
    clock.advance(9_999);
    expect(types()).toEqual([]);
    read(6.7); // still past: the delay keeps running from the first reading
    clock.advance(1);
    expect(types()).toEqual(['alarm.raised']);
    expect(monitor.active()).toEqual([
      { sensor: 'ph', limit: 'high', value: 6.7, since: 1_010_000, acknowledged: false, threshold: 6.5 },
    ]);
    expect(published.at(-1)!.alarms).toHaveLength(1);
  });

  it('starts the delay over when a reading comes back inside before it ends', async () => {
    const { clock, read, types } = await setup();
    read(6.6);
    clock.advance(5_000);
    read(6.4); // inside: no alarm, delay cancelled
    clock.advance(20_000);
    expect(types()).toEqual([]);
    read(6.6);
    clock.advance(9_000);
    expect(types()).toEqual([]);
    clock.advance(1_000);
    expect(types()).toEqual(['alarm.raised']);
  });

  it('clears only once back inside by the hysteresis for the delay, and readings that are not good change nothing', async () => {
    const { clock, read, types, monitor } = await setup();
    read(6.6);
    clock.advance(10_000);
    read(6.4); // below the limit, but not by the 0.2 hysteresis
    clock.advance(60_000);
    read(null, 'ph', 'timeout');
    clock.advance(60_000);
    expect(monitor.active()).toHaveLength(1);
    read(6.3); // exactly limit − hysteresis: back
    clock.advance(9_999);
    expect(types()).toEqual(['alarm.raised']);
    clock.advance(1);
    expect(types()).toEqual(['alarm.raised', 'alarm.cleared']);
    expect(monitor.active()).toEqual([]);
  });

  it('raises a low alarm with a zero delay at once, and clears it at limit + hysteresis', async () => {
    const { read, types, monitor } = await setup({ ph: { low: 5.5, high: 6.5, hysteresis: 0.2, delayS: 0 } });
    read(5.5);
    expect(types()).toEqual([]); // at the limit is not past it
    read(5.49);
    expect(monitor.active()).toMatchObject([{ limit: 'low', value: 5.49 }]);
    read(5.69);
    expect(monitor.active()).toHaveLength(1);
    read(5.7);
    expect(types()).toEqual(['alarm.raised', 'alarm.cleared']);
  });

  it('acknowledges an active alarm once, republishing it; an unknown alarm is NOT_FOUND', async () => {
    const { clock, read, types, monitor, published, events } = await setup();
    expect(() => monitor.acknowledge('ph', 'high', 'rest')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    read(6.9);
    clock.advance(10_000);
    const acked = monitor.acknowledge('ph', 'high', 'mqtt');
    expect(acked).toMatchObject({ sensor: 'ph', limit: 'high', acknowledged: true });
    expect(published.at(-1)!.alarms[0]!.acknowledged).toBe(true);
    expect(monitor.acknowledge('ph', 'high', 'rest').acknowledged).toBe(true);
    expect(types()).toEqual(['alarm.raised', 'alarm.acknowledged']);
    expect(events[1]!.data).toMatchObject({ by: 'mqtt' });
    expect(() => monitor.acknowledge('ph', 'low', 'rest')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  it('clears an alarm whose limit is removed from the config', async () => {
    const { clock, read, types, monitor, config } = await setup();
    read(6.9);
    clock.advance(10_000);
    await config.update({ alarms: { limits: { ph: { low: 5.5, hysteresis: 0.2, delayS: 10 } } } });
    expect(types()).toEqual(['alarm.raised', 'alarm.cleared']);
    expect(monitor.active()).toEqual([]);
  });

  it('refuses overlapping bands and limit-less entries in the config, changing nothing', async () => {
    const { config } = await setup();
    const before = config.get();
    await expect(
      config.update({ alarms: { limits: { ph: { low: 6, high: 6.3, hysteresis: 0.2, delayS: 0 } } } }),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE', details: [{ path: '/alarms/limits/ph/hysteresis' }] });
    await expect(
      config.update({ alarms: { limits: { ec: { hysteresis: 1, delayS: 0 } } } }),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE', details: [{ path: '/alarms/limits/ec' }] });
    await expect(
      config.update({ alarms: { limits: { ec: { high: 3, hysteresis: -1, delayS: 0 } } } }),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(config.get()).toBe(before);
  });
});
