import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { codedError, restErrorOf, restErrorReply, type CodedError } from '@growoff/protocol';

/** What a route answers: its status and a body sent as JSON. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** Routes by `METHOD /path`; a GET route answers HEAD too. A thrown error is answered in the contract. */
export type JsonRoutes = Record<string, () => JsonAnswer | Promise<JsonAnswer>>;

export interface JsonServer {
  readonly server: Server;
  close(): Promise<void>;
}

/** The most a request body may hold (what fastify allows by default). */
const BODY_LIMIT = 1024 * 1024;

/**
 * A loopback HTTP server of a few JSON routes on `node:http`: the updater's whole REST API is four
 * routes, and a web framework with its schema compilers was megabytes of an idle module's memory.
 * Errors leave as the contract's coded errors: an unknown route `NOT_FOUND`, a body that is not
 * JSON `BAD_JSON`, one of another media type or over 1 MB `INVALID_MESSAGE`.
 */
export async function startJsonServer(routes: JsonRoutes, port: number): Promise<JsonServer> {
  const server = createServer((req, res) => {
    answer(routes, req).then(
      (reply) => send(res, reply),
      (error: unknown) => send(res, restErrorReply(restErrorOf(error))),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function answer(routes: JsonRoutes, req: IncomingMessage): Promise<JsonAnswer> {
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
  const path = (req.url ?? '/').split('?')[0];
  const route = Object.hasOwn(routes, `${method} ${path}`) ? routes[`${method} ${path}`] : undefined;
  if (!route) {
    req.resume();
    return restErrorReply(codedError('NOT_FOUND', `no route ${req.method} ${req.url}`));
  }
  if (method !== 'GET') {
    const refused = await refusedBody(req);
    if (refused) return restErrorReply(refused);
  }
  return route();
}

/** Why the request's body cannot be taken, if it cannot: the routes take no body, but JSON or text. */
async function refusedBody(req: IncomingMessage): Promise<CodedError | undefined> {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= BODY_LIMIT) chunks.push(chunk);
  }
  if (size > BODY_LIMIT) {
    return codedError('INVALID_MESSAGE', `the request body is over ${BODY_LIMIT} bytes`);
  }
  if (type === undefined) {
    return size === 0 ? undefined : codedError('INVALID_MESSAGE', 'a request body needs a content-type');
  }
  if (type === 'text/plain') return undefined;
  if (type !== 'application/json') return codedError('INVALID_MESSAGE', `unsupported media type ${type}`);
  try {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return undefined;
  } catch {
    return codedError('BAD_JSON', 'the request body is not JSON');
  }
}

function send(res: ServerResponse, { status, body }: JsonAnswer): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
