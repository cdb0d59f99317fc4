import type { I2cBus } from '../bus/i2c-bus';
import { withBusErrors } from '../bus/real-bus';
import { scaledClock, type Clock } from '../clock';
import { Cabinet } from './cabinet';
import { FaultTable } from './faults';
import type { SimContext } from './models/sim-device';
import { SimulatedBus } from './simulated-bus';

export interface SimRig extends SimContext {
  sim: SimulatedBus;
  /** The simulated bus with the kernel errno mapping, as drivers see a real bus. */
  bus: I2cBus;
}

/** A bare simulated bus with its cabinet, for driving device models directly. */
export function simRig(options: { timeScale?: number; seed?: number; clock?: Clock } = {}): SimRig {
  const clock = options.clock ?? scaledClock(options.timeScale ?? 1000);
  const cabinet = new Cabinet(clock, options.seed ?? 1);
  const faults = new FaultTable();
  const sim = new SimulatedBus(clock, faults);
  return { clock, cabinet, faults, sim, bus: withBusErrors(sim, 1) };
}
