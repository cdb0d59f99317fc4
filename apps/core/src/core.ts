import { mkdir, readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { createHal, parseProfile, type Hal } from '@growoff/hal';
import { createTelemetry, type Telemetry } from '@growoff/telemetry';
import packageJson from '../package.json';
import type { CoreEnvConfig } from './config/env-config';
import type { Feature } from './core-types';
import { EventBus } from './event-bus';
import { StateStore } from './state/state-store';
import { Sampler } from './state/sampler';
import { ThresholdEvents } from './state/thresholds';
import { ConfigStore } from './config/config-store';
import { ConfigHolder } from './config/config-holder';
import { ActuatorController } from './control/actuators';
import { UpdateLock } from './control/update-lock';
import { LightSchedule } from './control/light-schedule';
import { ClimateControl } from './control/climate';
import { IrrigationCycles } from './control/irrigation';
import { CommandService } from './commands';
import { MqttLink } from './mqtt/mqtt-link';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded-broker';
import { TelemetryBridge } from './telemetry-bridge';
import { createRestServer } from './http/rest-server';
import { AppStatusBoard } from './console/app-status';

export const CORE_VERSION: string = packageJson.version;

export interface CoreTuning {
  /** Sample every sensor at this interval instead of its own (tests, benches). */
  sampleIntervalMs?: number;
  /** MQTT reconnect delay; default 1000 ms. */
  reconnectPeriodMs?: number;
  /** Seed of the simulated cabinet. */
  seed?: number;
}

export interface RunningCore {
  readonly config: CoreEnvConfig;
  readonly bus: EventBus;
  readonly store: StateStore;
  readonly hal: Hal;
  readonly commands: CommandService;
  /** The REST base URL actually bound (port 0 resolves to a real port). */
  readonly httpUrl: string;
  readonly mqttUrl: string;
  health(): Record<string, unknown> & { status: 'ok' | 'degraded' };
  /** Actuators safe, `offline` published, telemetry flushed — all within the shutdown deadline. */
  stop(): Promise<void>;
}

/** Starts the core's features in order; a failure on the way stops what already started. */
export async function startCore(config: CoreEnvConfig, tuning: CoreTuning = {}): Promise<RunningCore> {
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true });
  const bus = new EventBus();
  const store = new StateStore();
  bus.on('event', (e) => store.addEvent(e));
  const holder = new ConfigHolder(
    await new ConfigStore(config.dataDir).load(),
    new ConfigStore(config.dataDir),
    bus,
  );

  const cleanups: (() => Promise<void> | void)[] = [];
  const started: Feature[] = [];
  let broker: EmbeddedBroker | undefined;
  let telemetry: Telemetry | undefined;
  let rest: FastifyInstance | undefined;
  const profile = config.halProfileFile
    ? parseProfile(JSON.parse(await readFile(config.halProfileFile, 'utf8')))
    : undefined;
  const hal = await createHal({
    mode: config.hal,
    ...(profile === undefined ? {} : { profile }),
    ...(config.i2cBus === undefined ? {} : { busNumber: config.i2cBus }),
    ...(config.simTimeScale === undefined ? {} : { timeScale: config.simTimeScale }),
    ...(tuning.seed === undefined ? {} : { seed: tuning.seed }),
  });
  cleanups.push(() => hal.close());

  try {
    telemetry = await createTelemetry(config.telemetry);
    const tel = telemetry;
    cleanups.push(() => tel.close({ deadlineMs: Math.max(500, config.shutdownDeadlineMs - 1500) }));
    if (config.mqttUrl === undefined) {
      broker = await startEmbeddedBroker(config.embeddedMqttHost, config.embeddedMqttPort);
      const b = broker;
      cleanups.push(() => b.close());
    }
    const mqttUrl = config.mqttUrl ?? broker!.url;
    const lock = new UpdateLock(bus, holder);
    const actuators = new ActuatorController(hal, store, bus, holder);
    const irrigation = new IrrigationCycles(actuators, holder, lock, bus);
    const commands = new CommandService({ hal, store, bus, config: holder, actuators, irrigation, lock });
    const mqtt = new MqttLink(
      {
        url: mqttUrl,
        moduleId: config.moduleId,
        version: CORE_VERSION,
        protocolVersion: config.mqttProtocolVersion,
        username: config.mqttUsername,
        password: config.mqttPassword,
        caFile: config.mqttCaFile,
        certFile: config.mqttCertFile,
        keyFile: config.mqttKeyFile,
        reconnectPeriodMs: tuning.reconnectPeriodMs,
      },
      bus,
      store,
      commands,
      lock,
    );
    // Listening before MQTT connects: the retained statuses arrive right after the subscription.
    const apps = new AppStatusBoard(bus, () => mqtt.status('online'));
    // Order matters: outputs (telemetry, MQTT) listen before inputs produce; actuators before loops.
    const features: Feature[] = [
      new TelemetryBridge(tel, bus),
      mqtt,
      actuators,
      new ThresholdEvents(bus, holder),
      new Sampler(hal, store, bus, { intervalMs: tuning.sampleIntervalMs }),
      new LightSchedule(actuators, holder, bus),
      new ClimateControl(actuators, store, holder, bus),
      irrigation,
    ];
    for (const f of features) {
      await f.start();
      started.push(f);
    }

    const health = () => {
      const halHealth = hal.health();
      const sensorsOk = store.readings().every((r) => r.quality === 'ok');
      const devicesOk = Object.values(halHealth.devices).every((d) => d.state === 'ok');
      const status: 'ok' | 'degraded' = mqtt.connected && sensorsOk && devicesOk ? 'ok' : 'degraded';
      return {
        status,
        version: CORE_VERSION,
        moduleId: config.moduleId,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
        mqtt: mqtt.stats(),
        telemetry: tel.stats(),
        hal: halHealth,
        updateLock: lock.state(),
      };
    };
    rest = await createRestServer({
      host: config.httpHost,
      port: config.httpPort,
      token: config.httpToken,
      version: CORE_VERSION,
      commands,
      hal,
      health,
      console: { bus, store, apps },
    });
    const address = rest.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
    const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
    const restServer = rest;

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= shutdown(config.shutdownDeadlineMs, async () => {
        // Reverse order: loops stop before actuators go safe, MQTT says offline after that.
        // One step failing must not keep the later ones (offline status, telemetry flush) from running.
        const steps = [
          () => restServer.close(),
          ...[...started].reverse().map((f) => () => f.stop()),
          ...[...cleanups].reverse(),
        ];
        for (const step of steps) {
          try {
            await step();
          } catch (e) {
            console.error(`growoff core: stop step failed: ${(e as Error).message}`);
          }
        }
      });
      return stopping;
    };
    return {
      config,
      bus,
      store,
      hal,
      commands,
      httpUrl: `http://${host}:${port}`,
      mqttUrl,
      health,
      stop,
    };
  } catch (e) {
    await rest?.close();
    for (const f of [...started].reverse()) await Promise.resolve(f.stop()).catch(() => undefined);
    for (const c of [...cleanups].reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw e;
  }
}

async function shutdown(deadlineMs: number, work: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  await Promise.race([work(), deadline]);
  clearTimeout(timer);
}
