import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ProtocolError, SessionState, SignInRequest } from '@growoff/protocol';

export const SESSION_COOKIE = 'growoff_session';
const DEFAULT_TTL_MS = 12 * 60 * 60 * 1000;
/** A module has a handful of testers; a flood of sign-ins must not grow memory without bound. */
const MAX_SESSIONS = 64;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Sessions of the console, in memory: a restart signs everyone out, which is the safe side. An id is
 * 32 random bytes; only its holder's cookie names it.
 */
export class SessionStore {
  private readonly sessions = new Map<string, number>();

  constructor(
    readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  create(): string {
    this.prune();
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, this.now() + this.ttlMs);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, expires] of this.sessions) if (expires <= now) this.sessions.delete(id);
  }
}

/**
 * Wrong tokens allowed per window across all callers: a guesser on the cabinet's network gets a few
 * tries a minute, a person who mistyped waits at most a minute.
 */
export class SignInThrottle {
  private failures: number[] = [];

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another try is allowed; 0 when it is allowed now. */
  waitMs(): number {
    const now = this.now();
    this.failures = this.failures.filter((t) => t > now - this.windowMs);
    return this.failures.length < this.maxFailures ? 0 : this.failures[0]! + this.windowMs - now;
  }

  failed(): void {
    this.failures.push(this.now());
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Pages and assets anyone may load: they hold no data, and the sign-in page must be reachable. */
function isPublic(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0]!;
  if (path === '/health' || path === '/' || path === '/sign-in' || path.startsWith('/console/')) return true;
  return path === '/api/v1/session' && req.method !== 'DELETE';
}

/**
 * A cookie rides along with any request the browser makes to this host, also one a foreign page
 * triggers. SameSite=Strict keeps it off cross-site requests in current browsers; for older ones an
 * unsafe request signed in by cookie must also come from a page of this very origin.
 */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (origin === undefined || host === undefined) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

export interface SessionAuthOptions {
  /** The REST token (`GROWOFF_HTTP_TOKEN`); without one the API is open (loopback) and sign-in is moot. */
  token: string | undefined;
  sessions?: SessionStore;
  throttle?: SignInThrottle;
}

/**
 * Authentication of every route: the Bearer token, or a session cookie that `POST /api/v1/session`
 * gives for that token. A browser that is not signed in and asks for a page is sent to the sign-in
 * page; anything else gets 401 UNAUTHORIZED in the error contract's shape.
 */
export function installSessionAuth(fastify: FastifyInstance, o: SessionAuthOptions): SessionStore {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const sessions = o.sessions ?? new SessionStore();
  const throttle = o.throttle ?? new SignInThrottle();
  const { token } = o;
  const setCookie = (reply: FastifyReply, value: string, maxAgeS: number) =>
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}`,
    );

  if (token !== undefined) {
    const bearer = `Bearer ${token}`;
    app.addHook('onRequest', async (req, reply) => {
      if (isPublic(req)) return;
      if (req.headers.authorization !== undefined && sameSecret(req.headers.authorization, bearer)) return;
      if (sessions.valid(cookieValue(req.headers.cookie, SESSION_COOKIE))) {
        if (SAFE_METHODS.has(req.method) || sameOrigin(req)) return;
        throw new ProtocolError(
          'UNAUTHORIZED',
          'cross-site request refused: a change signed in by cookie must come from this console',
        );
      }
      if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
        return reply.redirect(`/sign-in?next=${encodeURIComponent(req.url)}`, 303);
      }
      throw new ProtocolError('UNAUTHORIZED', 'missing or wrong bearer token (GROWOFF_HTTP_TOKEN)');
    });
  }

  app.get(
    '/api/v1/session',
    {
      schema: {
        tags: ['session'],
        description: 'Whether this API needs a sign-in, and whether the caller is signed in.',
        response: { 200: SessionState },
      },
    },
    (req) => ({
      required: token !== undefined,
      authenticated: token === undefined || sessions.valid(cookieValue(req.headers.cookie, SESSION_COOKIE)),
    }),
  );
  app.post(
    '/api/v1/session',
    {
      schema: {
        tags: ['session'],
        description:
          'Sign in: exchanges the REST token for a session cookie (HttpOnly, SameSite=Strict, expiring).',
        body: SignInRequest,
      },
    },
    (req, reply) => {
      if (token === undefined) return { signedIn: true, expiresInS: null };
      const waitMs = throttle.waitMs();
      if (waitMs > 0) {
        throw new ProtocolError(
          'UNAUTHORIZED',
          `too many wrong tokens: try again in ${Math.ceil(waitMs / 1000)} s`,
          { retryAfterS: Math.ceil(waitMs / 1000) },
        );
      }
      if (!sameSecret(req.body.token, token)) {
        throttle.failed();
        throw new ProtocolError(
          'UNAUTHORIZED',
          'wrong token: give the module REST token (GROWOFF_HTTP_TOKEN)',
        );
      }
      const id = sessions.create();
      const maxAgeS = Math.floor(sessions.ttlMs / 1000);
      setCookie(reply, id, maxAgeS);
      return { signedIn: true, expiresInS: maxAgeS };
    },
  );
  app.delete('/api/v1/session', { schema: { tags: ['session'], description: 'Sign out.' } }, (req, reply) => {
    sessions.delete(cookieValue(req.headers.cookie, SESSION_COOKIE));
    setCookie(reply, '', 0);
    return { signedIn: false };
  });
  return sessions;
}
