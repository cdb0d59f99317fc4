import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHal, type Hal } from '@growoff/hal';
import type { Event } from '../core-types';
import { ConfigHolder } from '../config/config-holder';
import { ConfigStore } from '../config/config-store';
import { DEFAULT_MODULE_CONFIG, type ModuleConfigPatch } from '../config/module-config';
import { EventBus } from '../event-bus';
import { StateStore } from '../state/state-store';
import { ActuatorController } from './actuators';

/** A control loop's surroundings for unit tests: the simulated cabinet's HAL, real actuators, a clock. */
export interface ControlFixture {
  hal: Hal;
  bus: EventBus;
  store: StateStore;
  config: ConfigHolder;
  actuators: ActuatorController;
  dataDir: string;
  events: Event[];
  clock: { now: number };
  /** Records a fresh `ok` reading as the sampler would. */
  read(id: string, value: number, unit?: string): void;
  close(): Promise<void>;
}

export async function controlFixture(patch: ModuleConfigPatch = {}): Promise<ControlFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'growoff-control-'));
  const clock = { now: Date.UTC(2026, 5, 1, 12) };
  const bus = new EventBus({ now: () => clock.now });
  const store = new StateStore();
  const config = new ConfigHolder(structuredClone(DEFAULT_MODULE_CONFIG), new ConfigStore(dataDir), bus);
  await config.update(patch);
  const hal = await createHal({ mode: 'sim', seed: 3 });
  const actuators = new ActuatorController(hal, store, bus, config, () => clock.now);
  await actuators.start();
  const events: Event[] = [];
  bus.on('event', (e) => events.push(e));
  return {
    hal,
    bus,
    store,
    config,
    actuators,
    dataDir,
    events,
    clock,
    read(id, value, unit = '') {
      const r = { id, value, unit, quality: 'ok' as const, ts: clock.now };
      store.setReading(r);
    },
    async close() {
      await actuators.stop();
      await hal.close();
    },
  };
}
