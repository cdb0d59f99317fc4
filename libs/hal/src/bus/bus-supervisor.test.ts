import { describe, expect, it } from 'vitest';
import { scaledClock } from '../clock';
import { HalError } from '../errors';
import { simRig } from '../sim/sim-rig';
import { Sht3xModel } from '../sim/models/sht3x-model';
import { DeviceGuard, SupervisedBus } from './bus-supervisor';

const clock = scaledClock(1000);

function device() {
  const calls: string[] = [];
  return {
    calls,
    init: async () => void calls.push('init'),
    reset: async () => void calls.push('reset'),
  };
}

describe('SupervisedBus', () => {
  it('runs one transaction at a time on a bus', async () => {
    const rig = simRig();
    rig.sim.attach(new Sht3xModel('sht', 0x44, rig));
    let active = 0;
    let maxActive = 0;
    const slowBus = {
      ...rig.bus,
      readByte: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await rig.clock.sleep(5);
        active--;
        return 0;
      },
    };
    const supervised = new SupervisedBus(slowBus, '/dev/i2c-1', rig.clock, { transactionTimeoutMs: 1000 });
    await Promise.all(Array.from({ length: 8 }, () => supervised.bus.readByte(0x44, 0)));
    expect(maxActive).toBe(1);
    expect(supervised.health().transactions).toBe(8);
  });

  it('times out a hung transaction and keeps the bus until it really ends', async () => {
    const rig = simRig();
    rig.sim.attach(new Sht3xModel('sht', 0x44, rig));
    rig.faults.inject('sht', 'slow');
    const supervised = new SupervisedBus(rig.bus, '/dev/i2c-1', rig.clock, { transactionTimeoutMs: 250 });
    const slow = supervised.bus.i2cWrite(0x44, 2, Buffer.from([0xf3, 0x2d]));
    await expect(slow).rejects.toMatchObject({
      code: 'HAL_TIMEOUT',
      message: expect.stringContaining('/dev/i2c-1'),
    });
    rig.faults.clear();
    await supervised.bus.i2cWrite(0x44, 2, Buffer.from([0xf3, 0x2d]));
    expect(supervised.health()).toMatchObject({ transactions: 2, timeouts: 1, errors: 1 });
  });
  it('counts a transaction that throws at once as an error and frees the bus for the next', async () => {
    const rig = simRig();
    let calls = 0;
    const throwing = {
      ...rig.bus,
      readByte: (): Promise<number> => {
        if (++calls === 1) throw new HalError('HAL_I2C_IO', 'EIO at once');
        return Promise.resolve(7);
      },
    };
    const supervised = new SupervisedBus(throwing, '/dev/i2c-1', rig.clock, { transactionTimeoutMs: 250 });
    const [first, second] = await Promise.allSettled([
      supervised.bus.readByte(0x44, 0),
      supervised.bus.readByte(0x44, 0),
    ]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'HAL_I2C_IO' } });
    expect(second).toEqual({ status: 'fulfilled', value: 7 });
    expect(supervised.health()).toMatchObject({
      transactions: 2,
      errors: 1,
      timeouts: 0,
      lastError: 'EIO at once',
    });
  });
});

describe('DeviceGuard', () => {
  it('initialises the device before its first operation', async () => {
    const dev = device();
    const guard = new DeviceGuard('d', clock, dev);
    expect(await guard.run(async () => 42)).toBe(42);
    expect(dev.calls).toEqual(['init']);
  });

  it('retries transient faults with backoff and counts the retries', async () => {
    const dev = device();
    const guard = new DeviceGuard('d', clock, dev, { retries: 2, backoffMs: 50 });
    let attempts = 0;
    const started = clock.now();
    const value = await guard.run(async () => {
      if (++attempts < 3) throw new HalError('HAL_I2C_NACK', 'nack');
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(clock.now() - started).toBeGreaterThanOrEqual(50 + 100);
    expect(guard.health()).toMatchObject({ state: 'ok', retries: 2, errors: 0 });
  });

  it('does not retry value faults nor count them against the device', async () => {
    const guard = new DeviceGuard('d', clock, device());
    let attempts = 0;
    await expect(
      guard.run(async () => {
        attempts++;
        throw new HalError('HAL_RANGE', '85 °C');
      }),
    ).rejects.toMatchObject({ code: 'HAL_RANGE' });
    expect(attempts).toBe(1);
    expect(guard.health()).toMatchObject({ state: 'ok', errors: 0 });
  });

  it('opens the circuit after repeated failures, refuses while open, then recovers by reset and re-init', async () => {
    const dev = device();
    // Open for 500 simulated seconds: half a real second at this clock's scale, so a loaded machine
    // cannot let the open period pass before the refusal is checked.
    const guard = new DeviceGuard('d', clock, dev, { retries: 0, failureThreshold: 3, openMs: 500_000 });
    let broken = true;
    const op = async () => {
      if (broken) throw new HalError('HAL_I2C_NACK', 'no acknowledge');
      return 1;
    };
    for (let i = 0; i < 3; i++) await expect(guard.run(op)).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
    expect(guard.health().state).toBe('open');
    await expect(guard.run(op)).rejects.toMatchObject({
      code: 'HAL_CIRCUIT_OPEN',
      message: expect.stringContaining('no acknowledge'),
    });
    broken = false;
    await clock.sleep(500_000);
    dev.calls.length = 0;
    expect(await guard.run(op)).toBe(1);
    expect(dev.calls).toEqual(['reset', 'init']);
    expect(guard.health()).toMatchObject({ state: 'ok', errors: 3, recoveries: 1 });
  });

  it('times out an operation that never ends', async () => {
    const guard = new DeviceGuard('d', clock, device(), { retries: 1, operationTimeoutMs: 200 });
    await expect(guard.run(() => new Promise(() => undefined))).rejects.toMatchObject({
      code: 'HAL_TIMEOUT',
    });
    expect(guard.health()).toMatchObject({ state: 'degraded', timeouts: 2, retries: 1, errors: 1 });
  });

  it('runs one operation of a device at a time', async () => {
    const guard = new DeviceGuard('d', clock, device());
    const order: string[] = [];
    const op = (name: string) => async () => {
      order.push(`${name}:start`);
      await clock.sleep(10);
      order.push(`${name}:end`);
    };
    await Promise.all([guard.run(op('a')), guard.run(op('b'))]);
    expect(order).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
  });
});
