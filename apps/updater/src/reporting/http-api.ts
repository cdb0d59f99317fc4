import type { TelemetryStats } from '@growoff/telemetry';
import type { Updater } from '../updater';
import { startJsonServer, type JsonRoutes, type JsonServer } from './json-server';

/**
 * What `/health` says of the updater's telemetry: its counters, as the core's `/health` gives them,
 * or why it is off (its queue could not open at start). Absent: the caller has none (tests).
 */
export type TelemetryReport = () => TelemetryStats | { off: string };

/** Every route of the updater's local REST API. */
export function httpApiRoutes(updater: Updater, telemetry?: TelemetryReport): JsonRoutes {
  return {
    'GET /health': async () => {
      const { phase, version } = updater.status();
      const body = { ...(await updater.health()), phase, version };
      return { status: 200, body: telemetry ? { ...body, telemetry: telemetry() } : body };
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
export function startHttpApi(
  updater: Updater,
  port: number,
  telemetry?: TelemetryReport,
): Promise<JsonServer> {
  return startJsonServer(httpApiRoutes(updater, telemetry), port);
}
