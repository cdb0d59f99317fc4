import type { FastifyInstance } from 'fastify';
import type { EventBus } from '../event-bus';
import type { StateStore } from '../state/state-store';
import type { AppStatusBoard } from './app-status';

/** A browser that stops reading (a sleeping tablet) is dropped before its backlog costs the Pi memory. */
const MAX_BACKLOG_BYTES = 256 * 1024;
/** Comments keep proxies from closing an idle stream and let the server notice a vanished client. */
const KEEPALIVE_MS = 15_000;

export interface EventStreamOptions {
  bus: EventBus;
  store: StateStore;
  apps: AppStatusBoard;
}

/**
 * `GET /api/v1/stream`: the core's event bus as server-sent events — `reading`, `actuator`, `event`,
 * `app` — after a `snapshot` of the current readings, actuators and app statuses. The console listens
 * here instead of polling.
 */
export function registerEventStream(app: FastifyInstance, o: EventStreamOptions): void {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get(
    '/api/v1/stream',
    {
      schema: {
        tags: ['console'],
        description:
          'Server-sent events: `snapshot`, then `reading`, `actuator`, `event` and `app` as they happen.',
      },
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const offs: (() => void)[] = [];
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        for (const off of offs) off();
        open.delete(close);
        res.end();
      };
      const send = (name: string, data: unknown) => {
        if (closed) return;
        if (res.writableLength > MAX_BACKLOG_BYTES) {
          close();
          return;
        }
        res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const keepalive = setInterval(() => {
        if (!closed) res.write(': keepalive\n\n');
      }, KEEPALIVE_MS);
      keepalive.unref();
      open.add(close);
      req.raw.on('close', close);
      res.on('error', close);

      send('snapshot', {
        readings: o.store.readings(),
        actuators: [...o.store.actuatorEntries()].map(([id, a]) => ({ id, ...a.state, ts: a.ts })),
        apps: o.apps.all(),
      });
      offs.push(
        o.bus.on('reading', (r) => send('reading', r)),
        o.bus.on('actuator', (a) => send('actuator', { id: a.id, ...a.state, ts: a.ts, source: a.source })),
        o.bus.on('event', (e) => send('event', e)),
        o.apps.onChange((s) => send('app', s)),
      );
    },
  );
}
