import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError } from '@growoff/protocol';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Where the console's built assets are: beside the bundle in the image (`dist/main.js` →
 * `dist/console/`), or in the package's `dist/console/` when the core runs from source (demo, tests).
 */
export function findConsoleAssets(): string | undefined {
  const candidates = [
    new URL('./console/', import.meta.url),
    new URL('../../dist/console/', import.meta.url),
  ];
  return candidates.map((u) => fileURLToPath(u)).find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * The console's pages and assets, all from the core itself (it must work with no internet). Files are
 * read once and kept: they are small (a test holds them to a budget) and the SD card is slow.
 */
export async function registerStaticAssets(app: FastifyInstance, dir: string | undefined): Promise<void> {
  const cache = new Map<string, { plain: Buffer; gzip: Buffer }>();
  const load = async (name: string): Promise<{ plain: Buffer; gzip: Buffer }> => {
    if (dir === undefined) {
      throw new ProtocolError(
        'UNAVAILABLE',
        'the console is not built: run `pnpm nx run core:build` (npm run demo does it)',
      );
    }
    let body = cache.get(name);
    if (body === undefined) {
      const plain = await readFile(join(dir, name));
      body = { plain, gzip: gzipSync(plain, { level: 9 }) };
      cache.set(name, body);
    }
    return body;
  };
  const files = dir === undefined ? [] : await listAssets(dir);
  const page = (path: string, file: string) =>
    app.get(path, { schema: { hide: true } }, async (req, reply) => {
      const body = await load(file);
      void reply.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
      );
      return send(req, reply, TYPES['.html']!, body);
    });
  page('/', 'index.html');
  page('/sign-in', 'sign-in.html');
  app.get<{ Params: { file: string } }>('/console/:file', { schema: { hide: true } }, async (req, reply) => {
    const { file } = req.params;
    if (!files.includes(file)) throw new ProtocolError('NOT_FOUND', `no console asset ${file}`);
    return send(req, reply, TYPES[extname(file)]!, await load(file));
  });
}

/** Gzipped when the browser takes it: a Pi 3 on Wi-Fi sends a fifth of the bytes. */
function send(
  req: FastifyRequest,
  reply: FastifyReply,
  type: string,
  body: { plain: Buffer; gzip: Buffer },
): FastifyReply {
  void reply.type(type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
  if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(body.gzip);
  }
  return reply.header('vary', 'accept-encoding').send(body.plain);
}

async function listAssets(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => extname(f) in TYPES && extname(f) !== '.html');
}
