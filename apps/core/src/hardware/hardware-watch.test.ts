import { afterEach, describe, expect, it } from 'vitest';
import { createHal, type Hal } from '@growoff/hal';
import type { Event, Feature } from '../core-types';
import { EventBus } from '../event-bus';
import { HardwareWatch } from './hardware-watch';

let hal: Hal | undefined;
let watch: HardwareWatch | undefined;
afterEach(async () => {
  watch?.stop();
  await hal?.close();
  hal = watch = undefined;
});

function loop(name: string): Feature & { starts: number } {
  const f = {
    name,
    starts: 0,
    start: () => void f.starts++,
    stop: () => undefined,
  };
  return f;
}

function nextEvent(bus: EventBus, type: string): Promise<Event> {
  return new Promise((resolve) => {
    const off = bus.on('event', (e) => {
      if (e.type !== type) return;
      off();
      resolve(e);
    });
  });
}

/** A simulated cabinet whose PWM chip is unplugged, watched with a fast retry. */
async function withoutPca9685(): Promise<{ hal: Hal; bus: EventBus; watch: HardwareWatch }> {
  hal = await createHal({ mode: 'sim', timeScale: 1000 });
  hal.simulation!.injectFault('pca9685', 'unplugged');
  const bus = new EventBus();
  watch = new HardwareWatch(hal, bus, 50);
  return { hal, bus, watch };
}

describe('missing hardware at start', () => {
  it('keeps the loops of a missing chip off, names it, and starts them once it is back', async () => {
    const { hal, bus, watch } = await withoutPca9685();
    const light = loop('light-schedule');
    const irrigation = loop('irrigation');
    const gatedLight = watch.gate(light, ['light']);
    const gatedIrrigation = watch.gate(irrigation, ['pump']);
    const missingEvent = nextEvent(bus, 'hardware.missing');
    await watch.start();
    await gatedLight.start();
    await gatedIrrigation.start();

    expect((await missingEvent).data).toMatchObject({ missing: [{ device: 'pca9685' }] });
    expect(watch.health()).toEqual({
      missing: [{ device: 'pca9685', error: expect.stringContaining('0x40') }],
      loopsOff: ['light-schedule'],
    });
    expect(light.starts).toBe(0);
    expect(irrigation.starts).toBe(1);

    const restored = nextEvent(bus, 'hardware.restored');
    hal.simulation!.clearFaults();
    expect((await restored).data).toEqual({ device: 'pca9685' });
    await expect.poll(() => light.starts).toBe(1);
    expect(watch.health()).toEqual({ missing: [], loopsOff: [] });
  });

  it('does not start a loop again after the core stopped it', async () => {
    const { hal, bus, watch } = await withoutPca9685();
    const fan = loop('climate');
    const gated = watch.gate(fan, ['fan']);
    await watch.start();
    await gated.start();
    await gated.stop();
    const restored = nextEvent(bus, 'hardware.restored');
    hal.simulation!.clearFaults();
    await restored;
    expect(fan.starts).toBe(0);
  });
});
