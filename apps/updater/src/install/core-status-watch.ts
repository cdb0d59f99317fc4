import type { StatusMessage } from '@growoff/protocol';

/** The latest `core/status` seen on MQTT, for the health gate and the update lock. */
export class CoreStatusWatch {
  private latest?: { message: StatusMessage; receivedAt: number };

  offer(payload: Buffer): void {
    if (payload.length === 0) {
      this.latest = undefined;
      return;
    }
    try {
      const message = JSON.parse(payload.toString('utf8')) as StatusMessage;
      if (message && typeof message === 'object' && typeof message.state === 'string') {
        this.latest = { message, receivedAt: Date.now() };
      }
    } catch {
      return;
    }
  }

  /** Whether a core started at `since` has announced itself online. */
  onlineSince(since: number): boolean {
    const latest = this.latest;
    if (!latest || latest.message.state !== 'online') return false;
    // The message's own timestamp rules out a retained "online" of the previous core.
    return typeof latest.message.ts === 'number' && latest.message.ts >= since - 2000;
  }

  get message(): StatusMessage | undefined {
    return this.latest?.message;
  }
}
