import type { ECRClient } from '@aws-sdk/client-ecr';
import { describeError } from '@growoff/protocol';
import { UpdaterError } from '../updater-error';

/** The registry login the engine pulls with (its X-Registry-Auth). */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export interface RegistryToken {
  auth: RegistryAuth;
  /** The registry's base URL (ECR's proxyEndpoint). */
  endpoint: string;
  expiresAt: number;
  issuedAt: number;
}

export type TokenSource = () => Promise<Omit<RegistryToken, 'issuedAt'>>;

/**
 * GetAuthorizationToken through @aws-sdk/client-ecr; `endpoint` points it at a non-AWS ECR API.
 * The SDK is loaded at the first token, not at start: most days the updater pulls nothing, and the
 * SDK with its credential chain is several MB of a module's memory.
 */
export function ecrTokenSource(options: { region: string; endpoint?: string }): TokenSource {
  let client: Promise<{ ecr: ECRClient; sdk: typeof import('@aws-sdk/client-ecr') }> | undefined;
  const ecr = () =>
    (client ??= import('@aws-sdk/client-ecr').then(
      (sdk) => ({
        sdk,
        ecr: new sdk.ECRClient({ region: options.region, endpoint: options.endpoint, maxAttempts: 2 }),
      }),
      (error: unknown) => {
        client = undefined; // the next token tries again
        throw error;
      },
    ));
  return async () => {
    let data;
    try {
      const { sdk, ecr: c } = await ecr();
      const answer = await c.send(new sdk.GetAuthorizationTokenCommand({}));
      data = answer.authorizationData?.[0];
    } catch (error) {
      throw new UpdaterError(
        'REGISTRY_AUTH_FAILED',
        `ECR GetAuthorizationToken failed: ${describeError(error).message}`,
      );
    }
    if (!data?.authorizationToken || !data.proxyEndpoint) {
      throw new UpdaterError('REGISTRY_AUTH_FAILED', 'ECR returned no authorization data');
    }
    const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new UpdaterError('REGISTRY_AUTH_FAILED', 'the ECR token is not user:password');
    const endpoint = data.proxyEndpoint.replace(/\/+$/, '');
    return {
      auth: {
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        serveraddress: endpoint.replace(/^https?:\/\//, ''),
      },
      endpoint,
      expiresAt: data.expiresAt ? data.expiresAt.getTime() : Date.now() + 3600_000,
    };
  };
}

/**
 * Caches the registry token and fetches a new one before it expires: when less than a quarter of
 * its lifetime (at most 30 minutes) is left, so a pull never starts with a token about to lapse.
 */
export class RegistryCredentials {
  private token?: RegistryToken;
  private inflight?: Promise<RegistryToken>;
  issued = 0;

  constructor(
    private readonly source: TokenSource,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<RegistryToken> {
    if (this.token && !this.needsRenewal(this.token)) return this.token;
    this.inflight ??= this.fetch().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Forgets the token, e.g. after the registry refused it. */
  invalidate(): void {
    this.token = undefined;
  }

  private needsRenewal(token: RegistryToken): boolean {
    const lifetime = token.expiresAt - token.issuedAt;
    const margin = Math.min(lifetime / 4, 30 * 60_000);
    return this.now() >= token.expiresAt - margin;
  }

  private async fetch(): Promise<RegistryToken> {
    const issuedAt = this.now();
    const token = { ...(await this.source()), issuedAt };
    this.issued++;
    this.token = token;
    return token;
  }
}
