import Fastify, { type FastifyInstance } from 'fastify';
import type { Updater } from '../updater';

/** The updater's local REST API, on loopback only. */
export async function startHttpApi(updater: Updater, port: number): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health', async () => {
    const { phase, version } = updater.status();
    return { status: 'ok', phase, version };
  });
  app.get('/status', async () => updater.status());
  app.get('/history', async () => ({ entries: updater.history() }));
  app.post('/check', async (_req, reply) => {
    void updater.check();
    return reply.code(202).send({ accepted: true });
  });
  app.setErrorHandler((error: { code?: string; statusCode?: number; message?: string }, _req, reply) => {
    return reply
      .code(error.statusCode ?? 500)
      .send({ error: { code: error.code ?? 'INTERNAL', message: error.message ?? 'internal error' } });
  });
  await app.listen({ host: '127.0.0.1', port });
  return app;
}
