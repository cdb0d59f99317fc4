import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import mqtt, { type MqttClient } from 'mqtt';
import {
  generateReleaseKeyPair,
  signEnvelope,
  topics,
  type DocumentSlot,
  type FleetPayload,
  type ReleaseDocument,
  type ReleaseImage,
  type ReleaseKeyPair,
} from '@growoff/protocol';
import { startEcrStandin, type EcrStandin } from '@growoff/ecr-standin';
import {
  freePort,
  getService,
  isAlive,
  portAnswers,
  startRegistry,
  stopProcess,
  waitUntil,
  type RegistryInfo,
} from '@growoff/test-services';
import { updaterConfigFromEnv } from '../../src/config/updater-config';
import { Updater, type UpdaterEvent, type UpdaterOptions } from '../../src/updater';
import { testManagedBy } from './stale-containers';
import { TestImages } from './test-images';

// The AWS SDK's credential chain wants credentials; the stand-in does not check them.
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDUPDATERTEST';
process.env.AWS_SECRET_ACCESS_KEY ??= 'updater-test-secret';

/** How a test release differs from the default: this channel at 100 %, core only, the next sequence. */
export interface ReleaseOptions {
  percent?: number;
  telegraf?: ReleaseImage;
  tunnel?: ReleaseImage;
  updater?: ReleaseImage;
  sequence?: number;
  name?: string;
  /** The channel a channel release targets (default the harness's channel). */
  channel?: string;
  /** The module a pin targets (default the harness's module). */
  module?: string;
}

export interface HarnessOptions {
  registry?: RegistryInfo;
  tokenTtlSeconds?: number;
  sharedBytes?: number;
  env?: Record<string, string>;
  /** A broker of the test's own (one it may stop) instead of the shared Mosquitto. */
  mqttUrl?: string;
}

/** A registry of the test's own, to stop and start again; the shared one is never stopped. */
export class PrivateRegistry {
  private constructor(
    public info: RegistryInfo,
    readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRegistry> {
    const dir = mkdtempSync(join(tmpdir(), 'updater-registry-'));
    return new PrivateRegistry(await startRegistry({ dir, port: await freePort() }), dir);
  }

  /** Kills it (SIGKILL) and waits until its port refuses. */
  async kill(): Promise<void> {
    process.kill(this.info.pid, 'SIGKILL');
    await waitUntil(
      'the private registry to be down',
      async () => !(await portAnswers(this.info.port)),
      10_000,
    );
  }

  /**
   * Freezes it (SIGSTOP): its connections stay open and take no more, and nothing is answered, as
   * with a registry or a link that hangs without closing. `thaw` lets it go on.
   */
  freeze(): void {
    process.kill(this.info.pid, 'SIGSTOP');
  }

  thaw(): void {
    process.kill(this.info.pid, 'SIGCONT');
  }

  /** Starts it again on the same port, with the same data and login. */
  async restart(): Promise<void> {
    const { port, username, password } = this.info;
    this.info = await startRegistry({ dir: this.dir, port, username, password });
  }

  async close(): Promise<void> {
    if (isAlive(this.info.pid)) this.thaw();
    await stopProcess(this.info.pid);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The next event of `type` (matching `where`) from `updater`, registered now so nothing is missed. */
export function nextEvent(
  updater: Updater,
  type: string,
  where: (e: UpdaterEvent) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<UpdaterEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = updater.onEvent((e) => {
      if (e.type === type && where(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

/** One isolated updater world: its module id, channel, keys, repository, ECR stand-in and labels. */
export class UpdaterHarness {
  readonly id = randomBytes(4).toString('hex');
  readonly moduleId = `updater-test-${this.id}`;
  readonly channel = `t-${this.id}`;
  readonly managedBy = testManagedBy(this.id);
  readonly keys = generateReleaseKeyPair();
  readonly dir = mkdtempSync(join(tmpdir(), 'updater-test-'));
  readonly docker = new Docker({ socketPath: getService('docker').socket });
  updater?: Updater;
  /** The harness's stand-in for the fleet-wide counter every document takes its sequence from. */
  private sequence = 0;
  private publisher?: MqttClient;
  /** Whether this harness wrote a fleet-wide retained topic (shared by every test on the broker). */
  private publishedFleetWide = false;

  private constructor(
    readonly images: TestImages,
    readonly ecr: EcrStandin,
    readonly corePort: number,
    readonly httpPort: number,
    private readonly options: HarnessOptions,
  ) {
    mkdirSync(join(this.dir, 'keys'));
    writeFileSync(join(this.dir, 'keys', 'release.pem'), this.keys.publicKeyPem);
    writeFileSync(
      join(this.dir, 'core.env'),
      [
        `GROWOFF_HTTP_PORT=${corePort}`,
        'GROWOFF_HTTP_HOST=127.0.0.1',
        `GROWOFF_MODULE_ID=${this.moduleId}`,
        `GROWOFF_MQTT_URL=${this.mqttUrl}`,
        '',
      ].join('\n'),
    );
  }

  static async create(options: HarnessOptions = {}): Promise<UpdaterHarness> {
    const registry = options.registry ?? getService('registry');
    const images = new TestImages({ registry, sharedBytes: options.sharedBytes });
    const ecr = await startEcrStandin({ registry, tokenTtlSeconds: options.tokenTtlSeconds });
    return new UpdaterHarness(images, ecr, await freePort(), await freePort(), options);
  }

  get mqttUrl(): string {
    return this.options.mqttUrl ?? getService('mosquitto').url;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  env(): Record<string, string> {
    return {
      GROWOFF_MODULE_ID: this.moduleId,
      GROWOFF_MQTT_URL: this.mqttUrl,
      GROWOFF_DOCKER_HOST: getService('docker').host,
      GROWOFF_ECR_ENDPOINT: this.ecr.url,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID!,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY!,
      GROWOFF_RELEASE_KEYS: join(this.dir, 'keys'),
      GROWOFF_CHANNEL: this.channel,
      GROWOFF_CORE_IMAGE_REPO: this.images.repo,
      GROWOFF_UPDATER_HTTP_PORT: String(this.httpPort),
      GROWOFF_DATA_DIR: this.dataDir,
      GROWOFF_CORE_CONTAINER: `updater-test-core-${this.id}`,
      GROWOFF_TELEGRAF_CONTAINER: `updater-test-telegraf-${this.id}`,
      GROWOFF_TUNNEL_CONTAINER: `updater-test-tunnel-${this.id}`,
      // The module's layout: env files (core.env) in this folder, the apps' data folders below it.
      GROWOFF_HOST_ETC: this.dir,
      GROWOFF_HOST_DATA: join(this.dir, 'host-data'),
      // What tools/base gives a module's core: the I2C device (here /dev/null stands in).
      GROWOFF_CORE_DEVICES: '/dev/null:/dev/i2c-1',
      GROWOFF_HEALTH_TIMEOUT_S: '20',
      GROWOFF_PROBATION_S: '10',
      GROWOFF_CRASHLOOP_RESTARTS: '1',
      GROWOFF_PULL_RETRY_S: '60',
      GROWOFF_MANAGED_BY: this.managedBy,
      ...this.options.env,
    };
  }

  async startUpdater(
    env: Record<string, string> = {},
    options: Pick<UpdaterOptions, 'engineCallTimeoutMs'> = {},
  ): Promise<Updater> {
    const config = updaterConfigFromEnv({ ...this.env(), ...env });
    this.updater = new Updater({
      ...options,
      config,
      version: '0.0.0-test',
      log: process.env.UPDATER_TEST_LOG
        ? (line) => console.log(`${new Date().toISOString()} ${line}`)
        : undefined,
    });
    await this.updater.start();
    return this.updater;
  }

  async stopUpdater(): Promise<void> {
    await this.updater?.stop();
    this.updater = undefined;
  }

  /** The next event of `type` (matching `where`), registered now so nothing is missed. */
  nextEvent(
    type: string,
    where: (e: UpdaterEvent) => boolean = () => true,
    timeoutMs = 60_000,
  ): Promise<UpdaterEvent> {
    if (!this.updater) throw new Error('start the updater first');
    return nextEvent(this.updater, type, where, timeoutMs);
  }

  /** Publishes a release and waits until it passed probation (the module's settled starting point). */
  async installed(image: string, version: string): Promise<void> {
    const passed = this.nextEvent('probation.passed', (e) => e.data?.image === image);
    await this.publish(image, version);
    await passed;
  }

  /** The next sequence of the harness's fleet counter. */
  nextSequence(): number {
    return ++this.sequence;
  }

  /** A release of the core `image` (and Telegraf), for this channel or, as a pin, this module. */
  payload(
    image: string,
    version: string,
    over: ReleaseOptions = {},
    target: 'channel' | 'pin' = 'channel',
  ): ReleaseDocument {
    return {
      kind: 'release',
      sequence: over.sequence ?? this.nextSequence(),
      issuedAt: new Date().toISOString(),
      name: over.name ?? `v${version.replace(/-.*$/, '')}`,
      apps: {
        core: { version, image },
        ...(over.telegraf ? { telegraf: over.telegraf } : {}),
        ...(over.tunnel ? { tunnel: over.tunnel } : {}),
        ...(over.updater ? { updater: over.updater } : {}),
      },
      target:
        target === 'pin'
          ? { module: over.module ?? this.moduleId }
          : { channel: over.channel ?? this.channel, rollout: { percent: over.percent ?? 100 } },
    };
  }

  /** The retained topic of a document slot, as this module subscribes to it. */
  topicOf(slot: DocumentSlot): string {
    switch (slot) {
      case 'channel':
        return topics.fleetRelease(this.channel);
      case 'pin':
        return topics.release(this.moduleId);
      case 'revocations':
        return topics.fleetRevocations();
      case 'keys':
        return topics.fleetKeys();
    }
  }

  /** Publishes a retained text on a slot's topic (default the channel). */
  async publishRaw(text: string, slot: DocumentSlot = 'channel'): Promise<void> {
    this.publisher ??= await mqtt.connectAsync(this.mqttUrl, {
      clientId: `updater-test-pub-${this.id}`,
    });
    if (slot === 'revocations' || slot === 'keys') this.publishedFleetWide = true;
    await this.publisher.publishAsync(this.topicOf(slot), text, { retain: true, qos: 1 });
  }

  /** Signs (with the harness key unless told) and publishes a fleet document, retained. */
  async publishDocument(
    doc: FleetPayload,
    slot: DocumentSlot,
    signer: ReleaseKeyPair = this.keys,
  ): Promise<void> {
    await this.publishRaw(this.sign(doc, signer), slot);
  }

  sign(doc: FleetPayload, signer: ReleaseKeyPair = this.keys): string {
    return JSON.stringify(signEnvelope(doc, { privateKeyPem: signer.privateKeyPem }));
  }

  async publish(
    image: string,
    version: string,
    over: ReleaseOptions = {},
    target: 'channel' | 'pin' = 'channel',
  ): Promise<ReleaseDocument> {
    const payload = this.payload(image, version, over, target);
    await this.publishDocument(payload, target);
    return payload;
  }

  /** A signed unpin of this module, retained on its release topic. */
  async unpin(): Promise<void> {
    await this.publishDocument(
      {
        kind: 'unpin',
        sequence: this.nextSequence(),
        issuedAt: new Date().toISOString(),
        module: this.moduleId,
      },
      'pin',
    );
  }

  /** This test's core containers as the engine sees them. */
  async coreContainers(): Promise<Array<{ id: string; running: boolean; image: string; version: string }>> {
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`growoff.managed-by=${this.managedBy}`] },
    });
    return list.map((c) => ({
      id: c.Id,
      running: c.State === 'running',
      image: c.Labels['growoff.release-image'] ?? '',
      version: c.Labels['growoff.release-version'] ?? '',
    }));
  }

  /** The version the core on this test's port reports, or null when it does not answer. */
  async coreHealth(): Promise<string | null> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.corePort}/health`, {
        signal: AbortSignal.timeout(1000),
      });
      if (res.status !== 200) return null;
      return ((await res.json()) as { version: string }).version;
    } catch {
      return null;
    }
  }

  async cleanup(): Promise<void> {
    await this.stopUpdater().catch(() => undefined);
    for (const c of await this.coreContainers()) {
      await this.docker
        .getContainer(c.id)
        .remove({ force: true })
        .catch(() => undefined);
    }
    if (this.publisher) {
      await this.publisher.publishAsync(topics.fleetRelease(this.channel), '', { retain: true, qos: 1 });
      await this.publisher.publishAsync(topics.release(this.moduleId), '', { retain: true, qos: 1 });
      if (this.publishedFleetWide) {
        for (const slot of ['revocations', 'keys'] as const) {
          await this.publisher.publishAsync(this.topicOf(slot), '', { retain: true, qos: 1 });
        }
      }
      for (const app of ['core', 'updater'] as const) {
        await this.publisher.publishAsync(topics.status(this.moduleId, app), '', { retain: true, qos: 1 });
      }
      await this.publisher.endAsync();
    }
    await this.ecr.close();
    await this.images.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
