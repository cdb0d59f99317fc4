import { describe, expect, it } from 'vitest';
import { scaledClock } from '../clock';
import { HalError } from '../errors';
import { simRig } from '../sim/sim-rig';
import { Sht3xModel } from '../sim/models/sht3x-model';
import type { I2cBus } from './i2c-bus';
import { DeviceGuard, MAX_URGENT_STREAK, SupervisedBus, type GuardOptions } from './bus-supervisor';

const clock = scaledClock(1000);

function device() {
  const calls: string[] = [];
  return {
    calls,
    init: async () => void calls.push('init'),
    reset: async () => void calls.push('reset'),
  };
}

/**
 * A bus whose transactions end only when the test says: `started` lists them as they reach the bus
 * (`r` read or `w` write, then the register), `finish()` ends the one on the bus.
 */
function gatedBus() {
  const started: string[] = [];
  const ends: (() => void)[] = [];
  const transaction = (label: string) =>
    new Promise<number>((resolve) => {
      started.push(label);
      ends.push(() => resolve(0));
    });
  const inner = {
    readByte: (_address: number, register: number) => transaction(`r${register}`),
    writeByte: async (_address: number, register: number) => void (await transaction(`w${register}`)),
    close: () => Promise.resolve(),
  } as unknown as I2cBus;
  const supervised = new SupervisedBus(inner, '/dev/i2c-1', clock, { transactionTimeoutMs: 1000 });
  return {
    supervised,
    started,
    /** Ends the transaction on the bus and lets the next one start. */
    finish: async () => {
      ends.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('SupervisedBus priority', () => {
  it('starts an urgent device’s write before the sensor reads queued ahead of it', async () => {
    const { supervised, started, finish } = gatedBus();
    const sht = supervised.forDevice('sht');
    const bme = supervised.forDevice('bme');
    const pca = supervised.forDevice('pca');
    const reads = [sht.readByte(0x44, 1), bme.readByte(0x76, 2), sht.readByte(0x44, 3)];
    const write = supervised.urgent('pca', () => pca.writeByte(0x40, 9, 1));
    expect(started).toEqual(['r1']);
    await finish();
    expect(started).toEqual(['r1', 'w9']);
    await finish();
    await write;
    for (let i = 0; i < 2; i++) await finish();
    await Promise.all(reads);
    expect(started).toEqual(['r1', 'w9', 'r2', 'r3']);
  });

  it('never starves a read: after MAX_URGENT_STREAK urgent transactions in a row a waiting read runs', async () => {
    const { supervised, started, finish } = gatedBus();
    const sht = supervised.forDevice('sht');
    const pca = supervised.forDevice('pca');
    const first = sht.readByte(0x44, 0);
    const read = sht.readByte(0x44, 1);
    const writes = supervised.urgent('pca', () =>
      Promise.all(Array.from({ length: MAX_URGENT_STREAK + 2 }, (_, i) => pca.writeByte(0x40, 10 + i, 1))),
    );
    for (let i = 0; i < MAX_URGENT_STREAK + 4; i++) await finish();
    await Promise.all([first, read, writes]);
    const urgent = Array.from({ length: MAX_URGENT_STREAK + 2 }, (_, i) => `w${10 + i}`);
    expect(started).toEqual([
      'r0',
      ...urgent.slice(0, MAX_URGENT_STREAK),
      'r1',
      ...urgent.slice(MAX_URGENT_STREAK),
    ]);
  });

  it('keeps one device’s transactions in order: urgency never moves one ahead of its own device’s', async () => {
    const { supervised, started, finish } = gatedBus();
    const sht = supervised.forDevice('sht');
    const pca = supervised.forDevice('pca');
    const all: Promise<unknown>[] = [sht.readByte(0x44, 0), pca.writeByte(0x40, 1, 0), sht.readByte(0x44, 2)];
    // pca already waits as an ordinary device: its urgent write stays behind that one.
    all.push(supervised.urgent('pca', () => pca.writeByte(0x40, 3, 1)));
    // Two urgent writes of one device keep their order too.
    const other = supervised.forDevice('mcp');
    all.push(
      supervised.urgent('mcp', () => Promise.all([other.writeByte(0x20, 4, 1), other.writeByte(0x20, 5, 1)])),
    );
    for (let i = 0; i < 6; i++) await finish();
    await Promise.all(all);
    expect(started).toEqual(['r0', 'w4', 'w5', 'w1', 'r2', 'w3']);
  });

  it('is ordinary again once its urgent operation has settled', async () => {
    const { supervised, started, finish } = gatedBus();
    const sht = supervised.forDevice('sht');
    const pca = supervised.forDevice('pca');
    const held = sht.readByte(0x44, 0);
    await expect(supervised.urgent('pca', () => Promise.reject(new Error('refused')))).rejects.toThrow(
      'refused',
    );
    const all = [held, sht.readByte(0x44, 1), pca.writeByte(0x40, 2, 1)];
    for (let i = 0; i < 3; i++) await finish();
    await Promise.all(all);
    expect(started).toEqual(['r0', 'r1', 'w2']);
  });
});

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
});

// A healthy device's first attempt takes a path of its own (see DeviceGuard): each rule holds on both.
describe.each([
  ['its first operation', false],
  ['a healthy device', true],
])('DeviceGuard, on %s', (_, healthy) => {
  /** A guard over a fresh device, with one operation done already when `healthy`. */
  async function guardOf(options: Partial<GuardOptions> = {}) {
    const dev = device();
    const guard = new DeviceGuard('d', clock, dev, options);
    if (healthy) {
      await guard.run(async () => undefined);
      dev.calls.length = 0;
    }
    return { guard, dev };
  }

  it('retries transient faults with backoff and counts the retries', async () => {
    const { guard } = await guardOf({ retries: 2, backoffMs: 50 });
    let attempts = 0;
    const started = clock.now();
    const value = await guard.run(async () => {
      if (++attempts < 3) throw new HalError('HAL_I2C_NACK', 'nack');
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(clock.now() - started).toBeGreaterThanOrEqual(50 + 100);
    expect(guard.health()).toMatchObject({ state: 'ok', retries: 2, errors: 0, recoveries: 0 });
  });

  it('does not retry value faults nor count them against the device', async () => {
    const { guard } = await guardOf();
    let attempts = 0;
    await expect(
      guard.run(async () => {
        attempts++;
        throw new HalError('HAL_RANGE', '85 °C');
      }),
    ).rejects.toMatchObject({ code: 'HAL_RANGE' });
    expect(attempts).toBe(1);
    expect(guard.health()).toMatchObject({ state: 'ok', errors: 0, retries: 0 });
  });

  it('does not retry a fault that is not transient, counts it, and re-initialises before the next operation', async () => {
    const { guard, dev } = await guardOf();
    let attempts = 0;
    const fault = new Error('a driver bug');
    await expect(
      guard.run(async () => {
        attempts++;
        throw fault;
      }),
    ).rejects.toBe(fault);
    expect(attempts).toBe(1);
    expect(guard.health()).toMatchObject({
      state: 'degraded',
      errors: 1,
      retries: 0,
      lastError: 'a driver bug',
    });
    expect(await guard.run(async () => 5)).toBe(5);
    expect(dev.calls).toEqual(healthy ? ['reset', 'init'] : ['init', 'reset', 'init']);
    expect(guard.health()).toMatchObject({ state: 'ok', recoveries: 1 });
  });

  it('takes an operation that throws before it returns a promise as a failed attempt', async () => {
    const { guard } = await guardOf({ retries: 1, backoffMs: 1 });
    let attempts = 0;
    const value = await guard.run(() => {
      if (++attempts === 1) throw new HalError('HAL_I2C_IO', 'EIO at once');
      return Promise.resolve('second');
    });
    expect(value).toBe('second');
    expect(guard.health()).toMatchObject({ state: 'ok', retries: 1, errors: 0 });
  });

  it('times out an operation that never ends', async () => {
    const { guard } = await guardOf({ retries: 1, operationTimeoutMs: 200 });
    await expect(guard.run(() => new Promise(() => undefined))).rejects.toMatchObject({
      code: 'HAL_TIMEOUT',
    });
    expect(guard.health()).toMatchObject({ state: 'degraded', timeouts: 2, retries: 1, errors: 1 });
  });

  it('keeps the device for an operation that timed out until it ends, and ignores its late result', async () => {
    // 1000 ms: the wait for the timed-out operation is bounded by it, and must outlast the check below.
    const { guard } = await guardOf({ retries: 0, operationTimeoutMs: 1000 });
    let finishLate!: (value: string) => void;
    const late = guard.run(() => new Promise<string>((resolve) => (finishLate = resolve)));
    await expect(late).rejects.toMatchObject({ code: 'HAL_TIMEOUT' });
    const order: string[] = [];
    const op = (name: string) => async () => {
      order.push(`${name}:start`);
      await clock.sleep(10);
      order.push(`${name}:end`);
      return name;
    };
    const next = guard.run(op('next'));
    const third = guard.run(op('third'));
    await clock.sleep(50_000); // 50 real ms
    expect(order).toEqual([]);
    finishLate('late');
    expect(await Promise.all([next, third])).toEqual(['next', 'third']);
    expect(order).toEqual(['next:start', 'next:end', 'third:start', 'third:end']);
    expect(guard.health()).toMatchObject({ state: 'ok', timeouts: 1, errors: 1, recoveries: 1 });
  });

  it('runs one operation of a device at a time', async () => {
    const { guard } = await guardOf();
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
