import { createServer } from 'node:http';

/**
 * The /health a new updater answers on its hand-over port while it waits for the journal lock: it
 * has started, loaded its configuration and can serve; the old updater hands over on `ok`.
 */
export async function startHandoverHealth(
  version: string,
  port: number,
): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/health';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { status: 'ok', phase: 'handover', version }
          : { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } },
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
