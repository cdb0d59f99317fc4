import Fastify, { type FastifyInstance } from 'fastify';
import type { Updater } from '../updater';

/** Fastify's refusals of a body that is not JSON; its other 4xx refuse the request's form. */
const NOT_JSON = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/** The updater's local REST API, on loopback only. Errors leave as `{error: {code, message}}`. */
export async function startHttpApi(updater: Updater, port: number): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ status: 'ok', phase: updater.status().phase }));
  app.get('/status', async () => updater.status());
  app.get('/history', async () => ({ entries: updater.history() }));
  app.post('/check', async (_req, reply) => {
    void updater.check();
    return reply.code(202).send({ accepted: true });
  });
  app.setErrorHandler((error: { code?: string; statusCode?: number; message?: string }, _req, reply) => {
    const refused = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500;
    if (!refused) return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
    const code = NOT_JSON.has(error.code ?? '') ? 'BAD_JSON' : 'INVALID_MESSAGE';
    return reply.code(400).send({ error: { code, message: error.message ?? 'bad request' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  );
  await app.listen({ host: '127.0.0.1', port });
  return app;
}
