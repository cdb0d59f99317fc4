import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from '@growoff/protocol';
import { EcrApi, EcrException } from './ecr-api';
import { RegistryClient, type RegistryAccess } from './registry-client';

export interface EcrStandinOptions {
  /** The docker-registry it fronts, with its htpasswd user (e.g. `getService('registry')`). */
  registry: RegistryAccess;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Lifetime announced in `expiresAt`; ECR's is 12 h, tests use seconds to see renewal. */
  tokenTtlSeconds?: number;
  /** The account id ECR reports as registryId (default `000000000000`). */
  registryId?: string;
}

export interface EcrStandinStats {
  /** GetAuthorizationToken answers given so far. */
  tokensIssued: number;
  /** Requests per ECR action (including refused ones). */
  requests: Record<string, number>;
}

export interface EcrStandin {
  /** `http://127.0.0.1:PORT`, the `endpoint` to give @aws-sdk/client-ecr. */
  url: string;
  port: number;
  registryId: string;
  stats(): EcrStandinStats;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_BODY = 1024 * 1024;

/**
 * A loopback server speaking ECR's JSON 1.1 protocol as @aws-sdk/client-ecr sends it (POST / with
 * X-Amz-Target) for GetAuthorizationToken, DescribeImages, BatchGetImage, PutImage (a new tag
 * for a pushed manifest) and BatchDeleteImage. Requests must carry a
 * SigV4 Authorization header, but the signature is not checked: any AWS credentials will do.
 */
export async function startEcrStandin(options: EcrStandinOptions): Promise<EcrStandin> {
  const registryId = options.registryId ?? '000000000000';
  const api = new EcrApi({
    registry: new RegistryClient(options.registry),
    registryId,
    username: options.registry.username,
    password: options.registry.password,
    proxyEndpoint: options.registry.url,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 12 * 3600,
    now: Date.now,
  });
  const stats: EcrStandinStats = { tokensIssued: 0, requests: {} };

  async function dispatch(action: string, body: unknown): Promise<unknown> {
    switch (action) {
      case 'GetAuthorizationToken':
        stats.tokensIssued++;
        return api.getAuthorizationToken();
      case 'DescribeImages':
        return api.describeImages(body as Parameters<EcrApi['describeImages']>[0]);
      case 'BatchGetImage':
        return api.batchGetImage(body as Parameters<EcrApi['batchGetImage']>[0]);
      case 'PutImage':
        return api.putImage(body as Parameters<EcrApi['putImage']>[0]);
      case 'BatchDeleteImage':
        return api.batchDeleteImage(body as Parameters<EcrApi['batchDeleteImage']>[0]);
      default:
        throw new EcrException('UnknownOperationException', `operation ${action} is not supported`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    stats.requests[action] = (stats.requests[action] ?? 0) + 1;
    try {
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
        throw new EcrException('UnknownOperationException', 'ECR is served at POST /', 404);
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new EcrException('MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      if (!target.startsWith(TARGET_PREFIX)) {
        throw new EcrException('UnknownOperationException', `unknown X-Amz-Target '${target}'`);
      }
      const text = await readBody(req);
      let body: unknown;
      try {
        body = text.length === 0 ? {} : JSON.parse(text);
      } catch {
        throw new EcrException('SerializationException', 'the request body is not JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new EcrException('SerializationException', 'the request body is not a JSON object');
      }
      send(res, 200, await dispatch(action, body));
    } catch (error) {
      const exception =
        error instanceof EcrException
          ? error
          : new EcrException('ServerException', describeError(error).message);
      res.setHeader('x-amzn-ErrorType', exception.type);
      send(res, exception.status, { __type: exception.type, message: exception.message });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  // The SDK keeps connections alive; Node's 5 s default closes them under a client that waits
  // a few seconds between calls (a docker push), which then sees ECONNRESET on its next request.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    registryId,
    stats: () => ({ tokensIssued: stats.tokensIssued, requests: { ...stats.requests } }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new EcrException('InvalidParameterException', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
