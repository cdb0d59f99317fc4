import type { Updater } from '../updater';
import { startJsonServer, type JsonRoutes, type JsonServer } from './json-server';

/** Every route of the updater's local REST API. */
export function httpApiRoutes(updater: Updater): JsonRoutes {
  return {
    'GET /health': async () => {
      const { phase, version } = updater.status();
      return { status: 200, body: { ...(await updater.health()), phase, version } };
    },
    'GET /status': () => ({ status: 200, body: updater.status() }),
    'GET /history': () => ({ status: 200, body: { entries: updater.history() } }),
    'POST /check': () => {
      void updater.check();
      return { status: 202, body: { accepted: true } };
    },
  };
}

/** The updater's local REST API, on loopback only. Errors leave as the contract's coded errors. */
export function startHttpApi(updater: Updater, port: number): Promise<JsonServer> {
  return startJsonServer(httpApiRoutes(updater), port);
}
