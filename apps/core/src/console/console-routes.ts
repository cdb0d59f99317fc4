import type { FastifyInstance } from 'fastify';
import { SIM_FAULTS, type Hal } from '@growoff/hal';
import type { EventBus } from '../event-bus';
import type { StateStore } from '../state/state-store';
import { AppStatusBoard, registerAppStatusRoute } from './app-status';
import { registerEventStream } from './event-stream';
import { installSessionAuth } from './session-auth';
import { findConsoleAssets, registerStaticAssets } from './static-assets';

export interface ConsoleOptions {
  token: string | undefined;
  bus: EventBus;
  store: StateStore;
  apps: AppStatusBoard;
  hal: Hal;
  /** The built console (index.html, app.js, app.css); default: found beside the bundle or in dist/. */
  assetsDir?: string;
}

/**
 * The QA console: sign-in and session auth of every route, the pages and their assets, the event
 * stream the page listens to, and the apps' statuses. Registered before the API's routes so the
 * auth hook covers all of them.
 */
export async function registerConsole(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  installSessionAuth(app, { token: o.token });
  await registerStaticAssets(app, o.assetsDir ?? findConsoleAssets());
  registerEventStream(app, { bus: o.bus, store: o.store, apps: o.apps });
  registerAppStatusRoute(app, o.apps);
  if (o.hal.simulation) {
    app.get(
      '/api/v1/sim/faults',
      { schema: { tags: ['simulation'], description: 'The faults `POST /api/v1/sim/faults` injects.' } },
      () => ({ faults: SIM_FAULTS }),
    );
  }
}

export { AppStatusBoard };
