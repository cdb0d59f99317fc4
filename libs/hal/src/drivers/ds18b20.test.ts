import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedW1, ds18b20Scratchpad, w1SlaveText } from '../sim/sim-w1';
import { simRig } from '../sim/sim-rig';
import { fsW1Bus } from '../w1/w1-bus';
import { Ds18b20, parseTemperatureFile, parseW1Slave } from './ds18b20';

const ID = '28-00000a1b2c3d';
const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'hal-w1-test-'));
  roots.push(root);
  const rig = simRig({ seed: 9 });
  const w1 = new SimulatedW1(root, rig);
  await w1.add(ID, 'probe');
  return { rig, w1, root };
}

describe('DS18B20 over w1 sysfs', () => {
  it('parses w1_slave as w1_therm writes it', () => {
    const text = '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n';
    expect(parseW1Slave(text, 'p')).toBe(23.125);
  });

  it('builds scratchpads whose temperature and CRC match the datasheet (0x0191 → +25.0625 °C, t=25062)', () => {
    const pad = ds18b20Scratchpad(25.0625);
    expect(pad.slice(0, 2)).toEqual([0x91, 0x01]);
    expect(parseW1Slave(w1SlaveText(pad, true), 'p')).toBe(25.062);
    expect(parseW1Slave(w1SlaveText(ds18b20Scratchpad(-10.125), true), 'p')).toBe(-10.125);
    expect(w1SlaveText(ds18b20Scratchpad(21.5), true)).toMatch(
      /^58 01 4b 46 7f ff 0c 10 ([0-9a-f]{2}) : crc=\1 YES\n/,
    );
  });

  it('rejects crc=NO, empty reads and the 85 °C power-on value with their own codes', () => {
    const pad = ds18b20Scratchpad(21);
    expect(() => parseW1Slave(w1SlaveText(pad, false), 'p')).toThrow(
      expect.objectContaining({ code: 'HAL_CRC' }),
    );
    expect(() => parseW1Slave('', 'p')).toThrow(expect.objectContaining({ code: 'HAL_W1_EMPTY' }));
    expect(() => parseW1Slave(w1SlaveText(ds18b20Scratchpad(85), true), 'p')).toThrow(
      expect.objectContaining({ code: 'HAL_RANGE' }),
    );
    expect(() => parseTemperatureFile('\n', 'p')).toThrow(expect.objectContaining({ code: 'HAL_W1_EMPTY' }));
    expect(parseTemperatureFile('19812\n', 'p')).toBe(19.812);
  });

  it('reads the water temperature from the files of a temporary sysfs-like tree', async () => {
    const { rig, w1 } = await setup();
    rig.cabinet.setEnvironment({ waterTemperature: 18.4 });
    const slave = new Ds18b20('probe', w1.bus(), ID);
    const file = new Ds18b20('probe', w1.bus(), ID, 'temperature');
    await slave.init();
    expect(await slave.read()).toBeCloseTo(18.4, 0);
    expect(await file.read()).toBeCloseTo(18.4, 0);
  });

  it('reports an unplugged probe as missing from the tree', async () => {
    const { rig, w1, root } = await setup();
    rig.faults.inject('probe', 'unplugged');
    const probe = new Ds18b20('probe', w1.bus(), ID);
    await expect(probe.init()).rejects.toMatchObject({ code: 'HAL_W1_MISSING' });
    await expect(new Ds18b20('probe', fsW1Bus(root), ID).read()).rejects.toMatchObject({
      code: 'HAL_W1_MISSING',
    });
  });
});
