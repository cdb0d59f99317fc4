import { startJsonServer, type JsonServer } from '../reporting/json-server';

/**
 * The /health a new updater answers on its hand-over port while it waits for the journal lock: it
 * has started, loaded its configuration and can serve; the old updater hands over on `ok`.
 */
export function startHandoverHealth(version: string, port: number): Promise<JsonServer> {
  return startJsonServer(
    { 'GET /health': () => ({ status: 200, body: { status: 'ok', phase: 'handover', version } }) },
    port,
  );
}
