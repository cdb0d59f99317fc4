import type { UpdateLockState } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';

/**
 * Held while a job that must not be interrupted runs (an irrigation cycle). The updater waits for
 * it, but never longer than maxAgeS after `since`, so a stuck job cannot block updates forever.
 */
export class UpdateLock {
  private holder?: { reason: string; since: number };

  constructor(
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(reason: string): void {
    this.holder = { reason, since: this.now() };
    this.bus.emit('updateLock', this.state());
  }

  release(): void {
    if (!this.holder) return;
    this.holder = undefined;
    this.bus.emit('updateLock', this.state());
  }

  state(): UpdateLockState {
    const maxAgeS = this.config.get().updateLock.maxAgeS;
    if (!this.holder) return { held: false, maxAgeS };
    return { held: true, reason: this.holder.reason, since: this.holder.since, maxAgeS };
  }
}
