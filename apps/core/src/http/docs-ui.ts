import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StaticDocumentSpec } from '@fastify/swagger';
import { lazySchemaCompilers } from './lazy-schema-compilers';

/** Headers of the UI's own answer that the outer reply sets itself, for its own connection and body. */
const OWN_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

export interface DocsUiOptions {
  /** What the UI answers to a path it does not have: the REST API's NOT_FOUND. */
  notFound: (req: FastifyRequest, reply: FastifyReply) => void;
  /** What the UI answers to an error: the REST API's error reply. */
  onError: (error: Error, req: FastifyRequest, reply: FastifyReply) => void;
}

/**
 * Swagger UI at `/docs` (the page, its assets, `/docs/json` and `/docs/yaml`), loaded at the first
 * request to it. Loaded with the server, the UI, @fastify/static, send and mime cost an idle core
 * about 2 MiB that a module never uses until somebody opens the docs.
 *
 * The UI runs on a Fastify of its own, serving `app`'s OpenAPI document as it is once `app` is ready.
 * `app`'s routes `/docs` and `/docs/*` take each request, so `app`'s hooks (the session auth) run
 * first, and hand it to that Fastify (`inject`); its answer goes back whole, with its status and
 * headers. A failed load is tried again at the next request.
 */
export function registerDocsUi(app: FastifyInstance, o: DocsUiOptions): void {
  let ui: Promise<FastifyInstance> | undefined;
  const load = async (): Promise<FastifyInstance> => {
    const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
      import('fastify'),
      import('@fastify/swagger'),
      import('@fastify/swagger-ui'),
    ]);
    const docs = Fastify({ logger: false, schemaController: { compilersFactory: lazySchemaCompilers() } });
    docs.setErrorHandler(o.onError);
    docs.setNotFoundHandler(o.notFound);
    await docs.register(swagger, {
      mode: 'static',
      specification: { document: app.swagger() as StaticDocumentSpec['document'] },
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
    await docs.ready();
    return docs;
  };
  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    ui ??= load().catch((e: unknown) => {
      ui = undefined;
      throw e;
    });
    const docs = await ui;
    const answer = await docs.inject({
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      url: req.url,
      headers: req.headers,
    });
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !OWN_HEADERS.has(name)) void reply.header(name, value);
    }
    return reply.code(answer.statusCode).send(answer.rawPayload);
  };
  app.get('/docs', { schema: { hide: true } }, forward);
  app.get('/docs/*', { schema: { hide: true } }, forward);
}
