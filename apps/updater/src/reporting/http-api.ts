import Fastify, { type FastifyInstance } from 'fastify';
import { codedError, restErrorOf, restErrorReply } from '@growoff/protocol';
import type { Updater } from '../updater';

/** The updater's local REST API, on loopback only. Errors leave as the contract's coded errors. */
export async function startHttpApi(updater: Updater, port: number): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health', async () => {
    const { phase, version } = updater.status();
    return { ...(await updater.health()), phase, version };
  });
  app.get('/status', async () => updater.status());
  app.get('/history', async () => ({ entries: updater.history() }));
  app.post('/check', async (_req, reply) => {
    void updater.check();
    return reply.code(202).send({ accepted: true });
  });
  app.setErrorHandler((error, _req, reply) => {
    const { status, body } = restErrorReply(restErrorOf(error));
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = restErrorReply(codedError('NOT_FOUND', `no route ${req.method} ${req.url}`));
    return reply.code(status).send(body);
  });
  await app.listen({ host: '127.0.0.1', port });
  return app;
}
