import { request, type IncomingMessage } from 'node:http';
import { describeError } from '@growoff/protocol';
import type { RegistryAuth } from '../registry/ecr-credentials';
import { UpdaterError } from '../updater-error';

/**
 * The few Docker Engine API calls the updater makes, over `node:http` on the engine's Unix socket
 * (or plain HTTP to `tcp://host:port`). A client of its own instead of dockerode, whose gRPC,
 * protobuf and SSH dependencies were about 25 MB of an idle updater's memory. Paths are unversioned:
 * the engine answers in its own API version. Every failure is `ENGINE_FAILED`; one the engine
 * answered carries its HTTP status (`engineStatus`), one from a pull's stream `{ stream: true }`.
 */
export class DockerEngine {
  private readonly endpoint: { socketPath: string } | { host: string; port: number };
  private readonly callTimeoutMs: number;

  /**
   * `host`: `unix:///path/docker.sock`, `tcp://host:port` or `http://host:port` (port 2375 by default).
   * `callTimeoutMs` bounds each call's whole answer (a stop's grace comes on top; a pull's stream has
   * its stall watchdog instead): an engine that accepts a call and never answers it would otherwise
   * hold the updater's work queue, and with it every rollback, for good.
   */
  constructor(
    readonly host: string,
    options: { callTimeoutMs?: number } = {},
  ) {
    this.callTimeoutMs = options.callTimeoutMs ?? ENGINE_CALL_TIMEOUT_MS;
    if (host.startsWith('unix://')) {
      this.endpoint = { socketPath: host.slice('unix://'.length) };
    } else {
      const url = new URL(host.replace(/^tcp:/, 'http:'));
      this.endpoint = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
    }
  }

  /** Resolves when the engine answers `GET /_ping` within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<void> {
    await this.call('GET', '/_ping', { timeoutMs });
  }

  /** `GET /version`: the engine's platform, which is the one a pull fetches. */
  version(): Promise<EngineVersion> {
    return this.json('GET', '/version');
  }

  /** `GET /info`. */
  info(): Promise<EngineInfo> {
    return this.json('GET', '/info');
  }

  /** `GET /images/json`: every image the engine holds. */
  listImages(): Promise<ImageSummary[]> {
    return this.json('GET', '/images/json');
  }

  /** `GET /images/{name}/json`; null when the engine has no such image. */
  inspectImage(name: string): Promise<ImageInspect | null> {
    return this.json<ImageInspect>('GET', `/images/${pathName(name)}/json`, { absent: [404] });
  }

  /** `DELETE /images/{id}` without force: refused (409) while a container uses it. */
  async removeImage(id: string): Promise<void> {
    await this.call('DELETE', `/images/${pathName(id)}`, { query: { force: 'false' } });
  }

  /** `GET /containers/json?all=true`, only those carrying every label given (`key=value`). */
  listContainers(labels: readonly string[] = []): Promise<ContainerSummary[]> {
    const query: Record<string, string> = { all: 'true' };
    if (labels.length > 0) query.filters = JSON.stringify({ label: labels });
    return this.json('GET', '/containers/json', { query });
  }

  /** `GET /containers/{id}/json` (an id or a name); null when there is no such container. */
  inspectContainer(id: string): Promise<ContainerInspect | null> {
    return this.json<ContainerInspect>('GET', `/containers/${pathName(id)}/json`, { absent: [404] });
  }

  /** `POST /containers/create?name=`; the new container's id. */
  async createContainer(name: string, config: ContainerCreate): Promise<string> {
    const created = await this.json<{ Id: string }>('POST', '/containers/create', {
      query: { name },
      body: config,
    });
    return created.Id;
  }

  /** `POST /containers/{id}/start`; one already running (304) counts as started. */
  async startContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${pathName(id)}/start`, { absent: [304] });
  }

  /** `POST /containers/{id}/stop?t=`: SIGTERM, SIGKILL after `graceS`; one already stopped (304) counts. */
  async stopContainer(id: string, graceS: number): Promise<void> {
    await this.call('POST', `/containers/${pathName(id)}/stop`, {
      query: { t: String(graceS) },
      absent: [304],
      timeoutMs: graceS * 1000 + this.callTimeoutMs,
    });
  }

  /** `DELETE /containers/{id}`, its anonymous volumes kept; `force` kills a running one first. */
  async removeContainer(id: string, options: { force: boolean }): Promise<void> {
    await this.call('DELETE', `/containers/${pathName(id)}`, {
      query: { force: String(options.force), v: 'false' },
    });
  }

  /**
   * `POST /images/create` of `repository@sha256:<digest>` with the registry login in `X-Registry-Auth`:
   * resolves when the engine's progress stream ends, and fails at its first `{"error": ...}` line
   * (an error after the pull began comes in the 200 stream, not as a status). Closing the
   * connection cancels the pull on the engine's side, so a failure closes it.
   *
   * The engine writes progress while a pull moves. With `stallMs`, a pull of which the engine says
   * nothing for that long (a registry connection that hangs without closing: the engine itself
   * waits on it for good) fails PULL_FAILED and is cancelled, so that it can be tried again.
   */
  async pull(
    image: string,
    auth: RegistryAuth,
    onEvent: (event: PullEvent) => void,
    options: { stallMs?: number } = {},
  ): Promise<void> {
    const at = image.lastIndexOf('@');
    // Without a digest (or tag) the engine would pull every tag of the repository.
    if (at <= 0) throw new UpdaterError('IMAGE_NOT_BY_DIGEST', `${image} is not repository@digest`);
    const query = { fromImage: image.slice(0, at), tag: image.slice(at + 1) };
    const res = await this.open('POST', '/images/create', {
      query,
      headers: { 'x-registry-auth': registryAuthHeader(auth) },
      headTimeoutMs: this.callTimeoutMs,
    });
    if (res.statusCode !== 200) throw await this.answerError(res);
    await new Promise<void>((resolve, reject) => {
      let rest = '';
      let settled = false;
      let stall: NodeJS.Timeout | undefined;
      const { stallMs } = options;
      const watch = () => {
        if (stallMs === undefined || settled) return;
        if (stall) stall.refresh();
        else
          stall = setTimeout(
            () =>
              fail(
                new UpdaterError(
                  'PULL_FAILED',
                  `the engine reported no progress of the pull of ${image} for ${stallMs / 1000} s (a stalled registry connection?); the pull was cancelled`,
                  { stalledMs: stallMs },
                ),
              ),
            stallMs,
          );
      };
      const fail = (error: UpdaterError) => {
        if (settled) return;
        settled = true;
        clearTimeout(stall);
        res.destroy();
        reject(error);
      };
      watch();
      const take = (line: string) => {
        if (!line.trim() || settled) return;
        let event: PullEvent;
        try {
          event = JSON.parse(line) as PullEvent;
        } catch {
          fail(
            this.failure(`the pull's progress stream carries a line that is not JSON: ${line.slice(0, 200)}`),
          );
          return;
        }
        if (event.error !== undefined || event.errorDetail !== undefined) {
          const message = event.errorDetail?.message ?? event.error ?? 'unknown error';
          fail(new UpdaterError('ENGINE_FAILED', message, { stream: true }));
          return;
        }
        try {
          onEvent(event);
        } catch (error) {
          // A listener's failure ends the pull here instead of escaping the stream's handler.
          fail(this.failure(`the pull's progress listener failed: ${describeError(error).message}`));
        }
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        watch();
        rest += chunk;
        for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
          take(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
        if (rest.length > MAX_PROGRESS_LINE)
          fail(this.failure("a line of the pull's progress stream is over 1 MB"));
      });
      res.on('end', () => {
        take(rest);
        if (!settled) {
          settled = true;
          clearTimeout(stall);
          resolve();
        }
      });
      res.on('error', (error) => fail(this.failure(`the pull's stream broke: ${error.message}`)));
      res.on('close', () => fail(this.failure("the engine closed the pull's stream before its end")));
    });
  }

  private async json<T>(method: Method, path: string, options: CallOptions = {}): Promise<T> {
    const { status, body } = await this.call(method, path, options);
    if (options.absent?.includes(status)) return null as T;
    try {
      return JSON.parse(body) as T;
    } catch {
      throw this.failure(`${method} ${path}: the engine's answer is not JSON`, status);
    }
  }

  /** One call and its whole answer; a status outside 2xx (and `absent`) is thrown. */
  private async call(
    method: Method,
    path: string,
    options: CallOptions = {},
  ): Promise<{ status: number; body: string }> {
    const res = await this.open(method, path, {
      ...options,
      timeoutMs: options.timeoutMs ?? this.callTimeoutMs,
    });
    const status = res.statusCode ?? 0;
    if ((status < 200 || status > 299) && !options.absent?.includes(status))
      throw await this.answerError(res);
    return { status, body: await this.read(res) };
  }

  /**
   * Sends the request; resolves with the response head. A `timeoutMs` covers the whole answer, a
   * `headTimeoutMs` only its head (a stream's body has a watchdog of its own).
   */
  private open(method: Method, path: string, options: CallOptions): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const search = options.query ? `?${new URLSearchParams(options.query).toString()}` : '';
      const req = request({
        ...this.endpoint,
        method,
        path: `${path}${search}`,
        headers: {
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...options.headers,
        },
      });
      let response: IncomingMessage | undefined;
      const deadline = options.timeoutMs ?? options.headTimeoutMs;
      if (deadline !== undefined) {
        const timer = setTimeout(() => {
          const error = this.failure(`${method} ${path}: no answer within ${deadline} ms`);
          // A body that stopped half-way fails with this error, not the socket's "aborted".
          response?.destroy(error);
          req.destroy(error);
        }, deadline);
        req.once('close', () => clearTimeout(timer));
        if (options.timeoutMs === undefined) req.once('response', () => clearTimeout(timer));
      }
      req.once('response', (res) => {
        response = res;
        resolve(res);
      });
      req.once('error', (error) =>
        reject(
          error instanceof UpdaterError
            ? error
            : this.failure(`the Docker engine at ${this.host} cannot be reached: ${error.message}`),
        ),
      );
      req.end(body);
    });
  }

  private read(res: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.once('error', (error) =>
        reject(
          error instanceof UpdaterError
            ? error
            : this.failure(`the engine's answer broke off: ${error.message}`),
        ),
      );
    });
  }

  /** The engine's answer to a failed call: its status and the `message` of its JSON body. */
  private async answerError(res: IncomingMessage): Promise<UpdaterError> {
    const status = res.statusCode ?? 0;
    const body = await this.read(res).catch(() => '');
    let message = body.trim();
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // a plain-text answer (e.g. a proxy's): its text is the message
    }
    return this.failure(`the engine answered ${status}: ${message || 'no message'}`, status);
  }

  private failure(message: string, status?: number): UpdaterError {
    return new UpdaterError('ENGINE_FAILED', message, status === undefined ? undefined : { status });
  }
}

/** The HTTP status the engine answered a failed call with, if it answered. */
export function engineStatus(error: unknown): number | undefined {
  if (!(error instanceof UpdaterError)) return undefined;
  const status = (error.details as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** `X-Registry-Auth`: the login as JSON in URL-safe base64, padded, as the docker CLI sends it. */
export function registryAuthHeader(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Image references and container names in a path: `/` stays (a repository path), the rest is escaped. */
function pathName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

const MAX_PROGRESS_LINE = 1024 * 1024;

/**
 * The default deadline of one engine call: far above what a create, start, inspect or remove takes
 * on a Pi's SD card (seconds), far below "for good".
 */
export const ENGINE_CALL_TIMEOUT_MS = 120_000;

type Method = 'GET' | 'POST' | 'DELETE';

interface CallOptions {
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are an answer, not a failure: the JSON calls return null for them. */
  absent?: number[];
  /** The whole answer's deadline; `call` gives every call the client's own unless one is set. */
  timeoutMs?: number;
  /** The answer's head only. */
  headTimeoutMs?: number;
}

/** One line of a pull's progress stream. */
export interface PullEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface EngineVersion {
  Os: string;
  Arch: string;
  ApiVersion: string;
  Version: string;
}

export interface EngineInfo {
  DockerRootDir: string;
}

export interface ImageSummary {
  Id: string;
  RepoDigests?: string[] | null;
}

export interface ImageInspect {
  Id: string;
  RepoDigests?: string[] | null;
  RootFS?: { Layers?: string[] | null };
}

export interface ContainerSummary {
  Id: string;
  ImageID: string;
  Names: string[];
  Labels?: Record<string, string> | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  RestartCount: number;
  Config: { Image: string; Env?: string[] | null; Labels?: Record<string, string> | null };
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    StartedAt: string;
    Health?: { Status: string };
  };
}

/** The body of `POST /containers/create`, as far as the updater's specs use it. */
export interface ContainerCreate {
  Image: string;
  Env: string[];
  User?: string;
  Labels: Record<string, string>;
  HostConfig: {
    Binds: string[];
    Devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
    NetworkMode: string;
    GroupAdd: string[];
    ReadonlyRootfs: boolean;
    Tmpfs: Record<string, string>;
    CapDrop: string[];
    SecurityOpt: string[];
    RestartPolicy: { Name: string };
  };
}
