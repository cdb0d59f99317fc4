import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { freePort, waitUntil } from '@growoff/test-services';
import { coreConfigFromEnv, type CoreEnvConfig } from '../src/config/env-config';
import { startCore, type CoreTuning, type RunningCore } from '../src/core';

export function uniqueModuleId(tag: string): string {
  return `core-${tag}-${randomBytes(4).toString('hex')}`;
}

/** A core on the simulated cabinet with a fresh data dir, REST on a free loopback port. */
/**
 * For tests that count one `command.rejected` event per refusal over many refusals a minute: the
 * per-type event rate limit (20 a minute by default, finding 17) would summarise the rest.
 */
export const UNLIMITED_EVENTS: CoreTuning = { eventRateLimit: { burst: 1_000_000, windowMs: 60_000 } };

export async function startTestCore(
  env: Record<string, string>,
  tuning: CoreTuning = {},
): Promise<RunningCore & { config: CoreEnvConfig }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'growoff-core-test-'));
  const config = coreConfigFromEnv({
    GROWOFF_HAL: 'sim',
    GROWOFF_HTTP_PORT: '0',
    GROWOFF_DATA_DIR: dataDir,
    GROWOFF_SHUTDOWN_DEADLINE_MS: '4000',
    GROWOFF_SIM_TIME_SCALE: '20',
    ...env,
  });
  return startCore(config, { sampleIntervalMs: 200, reconnectPeriodMs: 250, seed: 7, ...tuning });
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
  json(): unknown;
}

/** An MQTT test client that records everything it receives and can await a matching message. */
export class TestClient {
  readonly messages: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m: Received = { topic, payload, packet, json: () => JSON.parse(payload.toString()) };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<TestClient> {
    const client = await connectAsync(url, {
      reconnectPeriod: 200,
      clientId: `core-test-${randomBytes(4).toString('hex')}`,
      ...options,
    });
    return new TestClient(client);
  }

  async subscribe(...filters: string[]): Promise<void> {
    await this.client.subscribeAsync(filters, { qos: 1 });
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor(match: (m: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Only messages that arrive from now on. */
  next(match: (m: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    const skip = new Set(this.messages);
    return this.waitFor((m) => !skip.has(m) && match(m), what, timeoutMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export function jsonOf(m: Received): Record<string, unknown> {
  return m.json() as Record<string, unknown>;
}

export async function rest(
  core: { httpUrl: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> & unknown[] }> {
  const res = await fetch(`${core.httpUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const spawned: ChildProcess[] = [];

/** SIGKILLs every core process a test spawned that is still running (for afterEach). */
export function killCoreProcesses(): void {
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export interface CoreProcess {
  child: ChildProcess;
  httpPort: number;
  dataDir: string;
  output: () => string;
}

/**
 * The core in its own process, as the image runs it: `args` after node (the source through tsx,
 * or the built dist/main.js), on the simulated cabinet against `mqttUrl`, REST on a free port,
 * a fresh data dir (with `moduleConfig` saved in it when given). Resolves once it says it runs.
 */
export async function spawnCoreProcess(o: {
  args: string[];
  moduleId: string;
  mqttUrl: string;
  env?: Record<string, string>;
  moduleConfig?: unknown;
}): Promise<CoreProcess> {
  const httpPort = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'core-proc-'));
  if (o.moduleConfig !== undefined) {
    await writeFile(join(dataDir, 'module-config.json'), JSON.stringify(o.moduleConfig));
  }
  const child = spawn(process.execPath, o.args, {
    cwd: join(import.meta.dirname, '..'),
    env: {
      ...process.env,
      GROWOFF_MODULE_ID: o.moduleId,
      GROWOFF_MQTT_URL: o.mqttUrl,
      GROWOFF_HTTP_PORT: String(httpPort),
      GROWOFF_DATA_DIR: dataDir,
      GROWOFF_HAL: 'sim',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // Under a loaded CI machine tsx's first transpile of the whole core can take tens of seconds.
  await waitUntil('core process up', () => out.includes('running') || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`core exited at start: ${out}`);
  return { child, httpPort, dataDir, output: () => out };
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
