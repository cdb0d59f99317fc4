import type { EventBus } from '../event-bus';
import type { ConfigStore } from './config-store';
import { applyConfigPatch, type ModuleConfig } from './module-config';

/** The current module config; a change is validated, persisted, then announced on the bus. */
export class ConfigHolder {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private current: ModuleConfig,
    private readonly store: ConfigStore,
    private readonly bus: EventBus,
  ) {}

  get(): ModuleConfig {
    return this.current;
  }

  /** Changes are serialised so two concurrent patches cannot lose each other's fields. */
  update(patch: unknown): Promise<ModuleConfig> {
    const run = this.chain.then(async () => {
      const next = applyConfigPatch(this.current, patch);
      await this.store.save(next);
      this.current = next;
      this.bus.emit('config', next);
      return next;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
