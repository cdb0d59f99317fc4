import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getService } from '@growoff/test-services';
import mqtt, { type MqttClient } from 'mqtt';
import { runFleet, type CliIo } from '../src';

export const broker = getService('mosquitto');
export const unique = (what: string) => `fleet-cli-${what}-${randomBytes(4).toString('hex')}`;
export const digest = (fill: string) => fill.repeat(64).slice(0, 64);

export interface Run {
  code: number;
  out: string;
  err: string;
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Fleet Test',
  GIT_AUTHOR_EMAIL: 'fleet@test.invalid',
  GIT_COMMITTER_NAME: 'Fleet Test',
  GIT_COMMITTER_EMAIL: 'fleet@test.invalid',
};

/**
 * Runs the CLI in-process against the shared Mosquitto, in a temp working directory that is a git
 * repository with one commit (releases get tagged there) and holds the release store.
 */
export class FleetHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
  readonly env: NodeJS.ProcessEnv = {
    GROWOFF_MQTT_URL: broker.url,
    GROWOFF_FLEET_STORE: join(this.dir, 'store'),
    PATH: process.env.PATH,
    ...GIT_IDENTITY,
  };

  constructor() {
    this.git(['init', '-q']);
    this.git(['commit', '-q', '--allow-empty', '-m', 'first']);
  }

  /** Runs git in the harness's repository. */
  git(args: string[]): string {
    return execFileSync('git', args, {
      cwd: this.dir,
      env: { ...process.env, ...GIT_IDENTITY },
      encoding: 'utf8',
    }).trim();
  }

  async run(args: string[], extra: Partial<CliIo> = {}): Promise<Run> {
    let out = '';
    let err = '';
    const code = await runFleet(args, {
      env: this.env,
      cwd: this.dir,
      out: (text) => (out += text),
      err: (text) => (err += text),
      ...extra,
    });
    return { code, out, err };
  }

  /** A key pair made by the CLI itself, set as GROWOFF_RELEASE_SIGNING_KEY. */
  async keygen(name = 'release'): Promise<{ privateKeyPath: string; publicKeyPath: string }> {
    const result = await this.run(['keygen', '--out', 'keys', '--name', name]);
    if (result.code !== 0) throw new Error(result.err);
    const paths = {
      privateKeyPath: join(this.dir, 'keys', `${name}.key`),
      publicKeyPath: join(this.dir, 'keys', `${name}.pub`),
    };
    this.env.GROWOFF_RELEASE_SIGNING_KEY = paths.privateKeyPath;
    return paths;
  }
}

/** A plain MQTT client that watches what the CLI retains, and clears it afterwards. */
export class Observer {
  private constructor(
    readonly client: MqttClient,
    private readonly url: string,
  ) {}
  private readonly touched = new Set<string>();

  static async connect(url = broker.url): Promise<Observer> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
    return new Observer(client, url);
  }

  /** The retained message a new subscriber receives on `topic`, awaited until it arrives. */
  async retained(topic: string, timeoutMs = 5_000): Promise<Buffer> {
    this.touched.add(topic);
    const sub = await mqtt.connectAsync(this.url, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no retained message on ${topic}`)), timeoutMs);
        sub.on('message', (received, payload, packet) => {
          if (received === topic && packet.retain) {
            clearTimeout(timer);
            resolve(payload);
          }
        });
        void sub.subscribeAsync(topic, { qos: 1 });
      });
    } finally {
      await sub.endAsync();
    }
  }

  async publishRetained(topic: string, payload: unknown): Promise<void> {
    this.touched.add(topic);
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      qos: 1,
      retain: true,
    });
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.client.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
  }

  track(topic: string): void {
    this.touched.add(topic);
  }

  /** Clears every retained topic this test used. */
  async close(): Promise<void> {
    for (const topic of this.touched) await this.client.publishAsync(topic, '', { qos: 1, retain: true });
    await this.client.endAsync();
  }
}
