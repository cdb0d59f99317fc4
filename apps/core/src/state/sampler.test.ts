import { afterEach, describe, expect, it } from 'vitest';
import { createHal, type Hal, type Reading } from '@growoff/hal';
import { EventBus } from '../event-bus';
import { Sampler } from './sampler';
import { StateStore } from './state-store';

let hal: Hal | undefined;
afterEach(async () => {
  await hal?.close();
  hal = undefined;
});

describe('device operations', () => {
  it('never starts a second read of a sensor while one abandoned by its timeout still runs', async () => {
    hal = await createHal({ mode: 'sim', timeScale: 1000 });
    const real = hal;
    const reads: Promise<Reading>[] = [];
    const counted: Hal = { ...real, read: (id) => (reads.push(real.read(id)), reads.at(-1)!) };
    // The sampler reads its options at every sample: 50 ms abandons the slow reads, and the good read
    // at the end gets long enough that a loaded machine's late event loop cannot make it a timeout.
    const options = { readTimeoutMs: 50 };
    const sampler = new Sampler(counted, new StateStore(), new EventBus(), options);
    const sensor = real.sensors().find((s) => s.id === 'air_temperature')!;
    real.simulation!.injectFault('sht3x', 'slow');

    expect((await sampler.sampleOnce(sensor)).quality).toBe('timeout');
    expect((await sampler.sampleOnce(sensor)).quality).toBe('timeout');
    expect(reads).toHaveLength(1);

    real.simulation!.clearFaults();
    await reads[0];
    options.readTimeoutMs = 10_000;
    expect((await sampler.sampleOnce(sensor)).quality).toBe('ok');
    expect(reads).toHaveLength(2);
  });
});
