import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A database name no other test or helper uses. */
export function uniqueDb(label: string): string {
  return `telemetry_${label}_${randomBytes(4).toString('hex')}`;
}

const tempDirs: string[] = [];

export function tempDataDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `growoff-telemetry-${label}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes the directories tempDataDir made in this test file. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

interface InfluxResult {
  results: Array<{
    error?: string;
    series?: Array<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }>;
  }>;
}

export async function influxQl(url: string, q: string, db?: string): Promise<InfluxResult> {
  const params = new URLSearchParams({ q, epoch: 'ms' });
  if (db) params.set('db', db);
  const res = await fetch(`${url}/query`, { method: 'POST', body: params });
  const body = (await res.json()) as InfluxResult;
  if (!res.ok || body.results[0]?.error) throw new Error(`InfluxQL ${q}: ${JSON.stringify(body)}`);
  return body;
}

export const createDb = (url: string, db: string) => influxQl(url, `CREATE DATABASE "${db}"`);
export const dropDb = (url: string, db: string) => influxQl(url, `DROP DATABASE "${db}"`);

/** Rows of a SELECT as objects keyed by column. */
export async function rows(url: string, db: string, q: string): Promise<Array<Record<string, unknown>>> {
  const body = await influxQl(url, q, db);
  const series = body.results[0]?.series ?? [];
  return series.flatMap((s) =>
    s.values.map((v) =>
      Object.fromEntries(s.columns.map((c, i) => [c, v[i]]).concat(Object.entries(s.tags ?? {}))),
    ),
  );
}

/** `SELECT count(field) FROM measurement`, 0 when there is no data. */
export async function countOf(url: string, db: string, measurement: string, field: string): Promise<number> {
  const r = await rows(url, db, `SELECT count("${field}") FROM "${measurement}"`);
  return Number(r[0]?.count ?? 0);
}

/** Field types as InfluxDB recorded them (float, string, integer, boolean). */
export async function fieldTypes(
  url: string,
  db: string,
  measurement: string,
): Promise<Record<string, string>> {
  const r = await rows(url, db, `SHOW FIELD KEYS FROM "${measurement}"`);
  return Object.fromEntries(r.map((x) => [String(x.fieldKey), String(x.fieldType)]));
}

export function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Sends a request's body on to `target` unchanged (path rewritten), and the answer back. */
function forward(req: IncomingMessage, res: import('node:http').ServerResponse, target: URL): void {
  const upstream = request(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.writeHead(502).end();
  });
  req.pipe(upstream);
}

export interface V2Proxy {
  url: string;
  requests: Array<{ path: string; authorization?: string; encoding?: string }>;
  close(): Promise<void>;
}

/**
 * The v2 write API in front of a real InfluxDB 1.x: `/api/v2/write?bucket=B&precision=P` is sent
 * on as `/write?db=B&precision=P` with the body untouched, so the real parser judges every line.
 * Like Telegraf's influxdb_v2_listener it wants `Authorization: Token <token>` and answers
 * `/api/v2/ready`, and has no `/ping`.
 */
export async function startV2Proxy(influxUrl: string, token: string): Promise<V2Proxy> {
  const requests: V2Proxy['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const entry: V2Proxy['requests'][number] = { path: url.pathname };
    if (req.headers.authorization) entry.authorization = req.headers.authorization;
    if (req.headers['content-encoding']) entry.encoding = String(req.headers['content-encoding']);
    requests.push(entry);
    if (url.pathname === '/api/v2/ready') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    if (url.pathname !== '/api/v2/write' || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Token ${token}`) {
      req.resume();
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"code":"unauthorized","message":"bad token"}');
      return;
    }
    const target = new URL('/write', influxUrl);
    target.searchParams.set('db', url.searchParams.get('bucket') ?? '');
    const precision = url.searchParams.get('precision');
    if (precision) target.searchParams.set('precision', precision);
    forward(req, res, target);
  });
  const url = await listen(server);
  return { url, requests, close: () => closeServer(server) };
}

/** Forwards everything to `influxUrl` except the writes `refuse` answers for. */
export async function startFaultProxy(
  influxUrl: string,
  refuse: (writeNumber: number) => { status: number; headers?: Record<string, string> } | undefined,
): Promise<{ url: string; writes: number[]; close(): Promise<void> }> {
  const writes: number[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.pathname === '/write') {
      count += 1;
      writes.push(Date.now());
      const answer = refuse(count);
      if (answer) {
        req.resume();
        res.writeHead(answer.status, answer.headers ?? {}).end('{"error":"refused by the test proxy"}');
        return;
      }
    }
    forward(req, res, new URL(`${url.pathname}${url.search}`, influxUrl));
  });
  const url = await listen(server);
  return { url, writes, close: () => closeServer(server) };
}
