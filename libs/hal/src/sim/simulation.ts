import type { Clock } from '../clock';
import { pinNumber } from '../drivers/mcp23017';
import { HalError } from '../errors';
import type { HardwareProfile } from '../profile/profile';
import type { SimFault, SimulationControl } from '../types';
import { Cabinet, type CabinetEnvironment, type CabinetInputs } from './cabinet';
import { FaultTable } from './faults';
import { Ads1115Model } from './models/ads1115-model';
import { Bh1750Model } from './models/bh1750-model';
import { Bme280Model } from './models/bme280-model';
import { EzoModel } from './models/ezo-model';
import { Mcp23017Model } from './models/mcp23017-model';
import { Pca9685Model } from './models/pca9685-model';
import { Scd4xModel } from './models/scd4x-model';
import { Sht3xModel } from './models/sht3x-model';
import type { SimContext, SimDevice } from './models/sim-device';
import { SimulatedW1 } from './sim-w1';
import { SimulatedBus } from './simulated-bus';

export const SIM_FAULTS: readonly SimFault[] = [
  'nack',
  'crc',
  'stuck',
  'slow',
  'busy',
  'unplugged',
  'power-on-85',
  'empty-read',
  'brownout',
  'readback-fail',
  'zero-read',
  'open-circuit',
];

/** Faults that happen once (a power event) instead of lasting until cleared. */
const ONE_SHOT_FAULTS: readonly SimFault[] = ['brownout'];

export interface Simulation {
  bus: SimulatedBus;
  w1: SimulatedW1;
  cabinet: Cabinet;
  faults: FaultTable;
  control: SimulationControl;
}

/** Reservoir fill below which the float switch opens: water_level reads 0. */
const FLOAT_SWITCH_LEVEL = 0.25;

/** The fault-table key of a digital input's wire (faults are otherwise kept per device). */
function wireOf(sensorId: string): string {
  return `wire:${sensorId}`;
}

function cabinetInput(id: string, simulate?: string): keyof CabinetInputs | undefined {
  const input = simulate ?? id;
  return input === 'light' || input === 'fan' || input === 'pump' ? input : undefined;
}

/** The simulated cabinet with a register-level model behind every device of the profile. */
export async function buildSimulation(
  profile: HardwareProfile,
  clock: Clock,
  w1Root: string,
  seed: number,
): Promise<Simulation> {
  const faults = new FaultTable();
  const cabinet = new Cabinet(clock, seed);
  const ctx: SimContext = { clock, cabinet, faults };
  const bus = new SimulatedBus(clock, faults);
  const w1 = new SimulatedW1(w1Root, ctx);

  const driveInput = (device: string, output: string, level: number) => {
    for (const a of profile.actuators) {
      const input = cabinetInput(a.id, a.simulate);
      if (a.device === device && a.output === output && input) cabinet.setInput(input, level);
    }
  };
  const quantityOf = (key: string): number => {
    const env = cabinet.environment() as unknown as Record<string, number>;
    return env[key] ?? 0;
  };

  const models = new Map<string, SimDevice>();
  for (const d of profile.devices) {
    const address = d.address ?? 0;
    let model: SimDevice | undefined;
    switch (d.type) {
      case 'sht3x':
        model = new Sht3xModel(d.name, address, ctx);
        break;
      case 'bme280':
        model = new Bme280Model(d.name, address, ctx);
        break;
      case 'ads1115': {
        const channels = profile.sensors.filter((s) => s.device === d.name);
        model = new Ads1115Model(d.name, address, ctx, (n) => {
          const s = channels.find((c) => c.channel === `ain${n}`);
          if (!s?.simulate) return 0;
          // The sensor converts volts to its unit as value = volts * scale + offset; invert that.
          return (quantityOf(s.simulate) - (s.offset ?? 0)) / (s.scale ?? 1);
        });
        break;
      }
      case 'scd4x':
        model = new Scd4xModel(d.name, address, ctx);
        break;
      case 'ezo-ph':
        model = new EzoModel(d.name, address, ctx, 'ph');
        break;
      case 'ezo-ec':
        model = new EzoModel(d.name, address, ctx, 'ec');
        break;
      case 'bh1750':
        model = new Bh1750Model(d.name, address, ctx);
        break;
      case 'pca9685':
        model = new Pca9685Model(d.name, address, ctx, (ch, duty) => driveInput(d.name, `ch${ch}`, duty));
        break;
      case 'mcp23017': {
        const inputs = new Map(
          profile.sensors.filter((s) => s.device === d.name).map((s) => [pinNumber(s.channel), s]),
        );
        model = new Mcp23017Model(
          d.name,
          address,
          ctx,
          (pin) => {
            const s = inputs.get(pin);
            // Pull-up: an unconnected pin or a cut wire reads high.
            if (s === undefined || faults.has(wireOf(s.id), 'open-circuit')) return 1;
            const quantity = s.simulate ?? 'waterLevel';
            const active = quantityOf(quantity) >= (quantity === 'waterLevel' ? FLOAT_SWITCH_LEVEL : 0.5);
            // An active-low contact closes to ground when active; an active-high one when inactive.
            return active === (s.polarity === 'active-high') ? 1 : 0;
          },
          (pin, level) => driveInput(d.name, `gp${pin < 8 ? 'a' : 'b'}${pin % 8}`, level),
        );
        break;
      }
      case 'ds18b20':
        await w1.add(d.w1Id!, d.name);
        break;
    }
    if (model) {
      bus.attach(model);
      models.set(d.name, model);
    }
  }

  const deviceOf = (target: string): string => {
    if (profile.devices.some((d) => d.name === target)) return target;
    const owner =
      profile.sensors.find((s) => s.id === target) ?? profile.actuators.find((a) => a.id === target);
    if (!owner)
      throw new HalError('HAL_UNKNOWN_SENSOR', `no sensor, actuator or device ${target} in the simulation`);
    return owner.device;
  };

  const digitalInput = (target: string): string => {
    const s = profile.sensors.find((x) => x.id === target);
    const device = s && profile.devices.find((d) => d.name === s.device);
    if (!s || device?.type !== 'mcp23017') {
      const inputs = profile.sensors.filter((x) => x.polarity !== undefined).map((x) => x.id);
      throw new HalError(
        'HAL_BAD_COMMAND',
        `open-circuit cuts a digital input's wire: target one of ${inputs.join(', ') || '(none)'}, not ${target}`,
      );
    }
    return wireOf(s.id);
  };

  const control: SimulationControl = {
    environment: () => ({ ...cabinet.environment() }) as unknown as Record<string, number>,
    setEnvironment: (patch) =>
      cabinet.setEnvironment(patch as Partial<Record<keyof CabinetEnvironment, number>>),
    injectFault: (target, fault) => {
      if (!SIM_FAULTS.includes(fault))
        throw new HalError('HAL_BAD_COMMAND', `unknown fault ${fault}: one of ${SIM_FAULTS.join(', ')}`);
      if (fault === 'open-circuit') {
        faults.inject(digitalInput(target), fault);
        return;
      }
      const device = deviceOf(target);
      if (!ONE_SHOT_FAULTS.includes(fault)) {
        faults.inject(device, fault);
        return;
      }
      const model = models.get(device);
      if (!model?.powerCycle)
        throw new HalError(
          'HAL_BAD_COMMAND',
          `${fault} is not simulated for ${device}: only for output chips`,
        );
      model.powerCycle();
    },
    clearFaults: (target) => {
      if (target === undefined) return faults.clear();
      faults.clear(deviceOf(target));
      faults.clear(wireOf(target));
    },
    outputs: () =>
      Object.fromEntries(
        profile.actuators.flatMap((a) => {
          const input = cabinetInput(a.id, a.simulate);
          return input ? [[a.id, cabinet.inputs[input]]] : [];
        }),
      ),
  };
  return { bus, w1, cabinet, faults, control };
}
