import { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { AppStatusList, type AppStatusEntry } from '@growoff/protocol';
import type { EventBus } from '../event-bus';

const MAX_STATUS_BYTES = 16 * 1024;

export type WatchedApp = 'updater' | 'tunnel';
export type AppStatus = AppStatusEntry;

/**
 * The latest retained status of the module's updater and tunnel, as the core's MQTT link hears it,
 * plus the core's own. A hostile or broken publisher can only make an entry say `error`.
 */
export class AppStatusBoard {
  private readonly statuses = new Map<WatchedApp, AppStatus>();
  private readonly changes = new EventEmitter();

  constructor(
    bus: EventBus,
    private readonly core: () => { state: string } & Record<string, unknown>,
  ) {
    this.changes.setMaxListeners(100);
    bus.on('appStatus', ({ app, payload, ts }) => {
      const s = AppStatusBoard.parse(app, payload, ts);
      this.statuses.set(app, s);
      this.changes.emit('change', s);
    });
  }

  static parse(app: WatchedApp, payload: Buffer, ts: number): AppStatus {
    if (payload.length === 0) return { app, status: null, receivedAt: ts };
    if (payload.length > MAX_STATUS_BYTES)
      return { app, status: null, error: 'status too large', receivedAt: ts };
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      return { app, status: null, error: 'status is not JSON', receivedAt: ts };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { app, status: null, error: 'status is not a JSON object', receivedAt: ts };
    }
    if (typeof (value as { state?: unknown }).state !== 'string') {
      return { app, status: null, error: 'status has no state', receivedAt: ts };
    }
    return { app, status: value as AppStatus['status'], receivedAt: ts };
  }

  all(): AppStatus[] {
    const watched = (['updater', 'tunnel'] as const).map(
      (app): AppStatus => this.statuses.get(app) ?? { app, status: null, receivedAt: null },
    );
    return [{ app: 'core', status: this.core(), receivedAt: Date.now() }, ...watched];
  }

  onChange(listener: (s: AppStatus) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }
}

export function registerAppStatusRoute(app: FastifyInstance, board: AppStatusBoard): void {
  app.get(
    '/api/v1/apps',
    {
      schema: {
        tags: ['console'],
        description:
          "The core's status and the updater's and tunnel's retained MQTT status (`status` null: none retained).",
        response: { 200: AppStatusList },
      },
    },
    () => ({ apps: board.all() }),
  );
}
