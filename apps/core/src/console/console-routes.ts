import type { FastifyInstance } from 'fastify';
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
}

export { AppStatusBoard };
