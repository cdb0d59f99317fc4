import { mkdir, readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { appVersion } from '@growoff/app-version';
import { createHal, parseProfile, type Hal } from '@growoff/hal';
import { settleWithin, type EventRateLimit } from '@growoff/protocol';
import { createTelemetry, telemetryOptionsOf, type Telemetry } from '@growoff/telemetry';
import { EMBEDDED_PROTOCOL_VERSION, type CoreEnvConfig } from './config/env-config';
import type { Feature } from './core-types';
import { EventBus } from './event-bus';
import { StateStore } from './state/state-store';
import { Sampler } from './state/sampler';
import { ThresholdEvents } from './state/thresholds';
import { ConfigStore } from './config/config-store';
import { ConfigHolder } from './config/config-holder';
import { ActuatorController, isUnknown, type SafeStateReport } from './control/actuators';
import { UpdateLock } from './control/update-lock';
import { LightSchedule } from './control/light-schedule';
import { ClimateControl } from './control/climate';
import { IrrigationCycles } from './control/irrigation';
import { IrrigationMemory } from './control/irrigation-memory';
import { DEFAULT_MODULE_CONFIG } from './config/module-config';
import { EventLoopLag } from './state/event-loop-lag';
import { isValidTimeZone } from './control/local-time';
import { CommandService } from './commands';
import { MqttLink } from './mqtt/mqtt-link';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded-broker';
import { TelemetryBridge } from './telemetry-bridge';
import { HardwareWatch } from './hardware/hardware-watch';
import { buildRestServer, listenRestServer } from './http/rest-server';
import { HistoryStore, type HistoryOptions } from './history/history-store';
import { CalibrationService } from './calibration/calibration-service';
import { CalibrationStore } from './calibration/calibration-store';
import { AlarmMonitor } from './alarms/alarm-monitor';
import { AppStatusBoard } from './console/app-status';

export const CORE_VERSION = appVersion(new URL('../package.json', import.meta.url));

export interface CoreTuning {
  /** Sample every sensor at this interval instead of its own (tests, benches). */
  sampleIntervalMs?: number;
  /** MQTT reconnect delay; default 1000 ms. */
  reconnectPeriodMs?: number;
  /** Seed of the simulated cabinet. */
  seed?: number;
  /** How often missing hardware is probed again; default 10 s. */
  hardwareRetryMs?: number;
  /** Retention, size cap and flush period of the sensor history. */
  history?: HistoryOptions;
  /** Events per type and window before they are summarised; default 20 a minute. */
  eventRateLimit?: EventRateLimit;
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
  /**
   * Actuators safe, `offline` published, telemetry flushed — all within the shutdown deadline.
   * The report names every actuator that did not read back safe.
   */
  stop(): Promise<SafeStateReport>;
}

/** Starts the core's features in order; a failure on the way stops what already started. */
export async function startCore(config: CoreEnvConfig, tuning: CoreTuning = {}): Promise<RunningCore> {
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true });
  const bus = new EventBus({ eventRateLimit: tuning.eventRateLimit });
  const store = new StateStore();
  bus.on('event', (e) => store.addEvent(e));
  // A module that saved no config yet follows the host's time zone (GROWOFF_TIMEZONE).
  const configStore = new ConfigStore(config.dataDir, {
    ...DEFAULT_MODULE_CONFIG,
    timezone: config.timezone ?? DEFAULT_MODULE_CONFIG.timezone,
  });
  const holder = new ConfigHolder(await configStore.load(), configStore, bus);
  const lag = new EventLoopLag();

  const cleanups: (() => Promise<void> | void)[] = [];
  const started: Feature[] = [];
  let broker: EmbeddedBroker | undefined;
  let telemetry: Telemetry | undefined;
  let building: Promise<FastifyInstance> | undefined;
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
    lag.start();
    // Missing hardware degrades the core instead of stopping it: the loops driving it stay off.
    // The probe starts now and runs while telemetry, MQTT and the REST server come up.
    const hardware = new HardwareWatch(hal, bus, tuning.hardwareRetryMs);
    hardware.probeAhead();
    telemetry = await createTelemetry(
      telemetryOptionsOf(config.telemetry, { module: config.moduleId, dataDir: config.dataDir }),
    );
    const tel = telemetry;
    cleanups.push(() => tel.close({ deadlineMs: Math.max(500, config.shutdownDeadlineMs - 1500) }));
    if (config.mqtt === undefined) {
      broker = await startEmbeddedBroker(config.embeddedMqttHost, config.embeddedMqttPort);
      const b = broker;
      cleanups.push(() => b.close());
    }
    const connection = config.mqtt ?? { url: broker!.url, protocolVersion: EMBEDDED_PROTOCOL_VERSION };
    const mqttUrl = connection.url;
    const lock = new UpdateLock(bus, holder);
    const roles = hal.roles();
    const actuators = new ActuatorController(hal, store, bus, holder);
    const irrigation = new IrrigationCycles(
      actuators,
      holder,
      lock,
      bus,
      new IrrigationMemory(config.dataDir),
    );
    const history = new HistoryStore(config.dataDir, bus, tuning.history);
    const calibration = new CalibrationService(hal, new CalibrationStore(config.dataDir), bus, holder);
    const alarms = new AlarmMonitor(bus, holder);
    const commands = new CommandService({
      hal,
      store,
      bus,
      config: holder,
      actuators,
      irrigation,
      lock,
      history,
      calibration,
      alarms,
    });
    const mqtt = new MqttLink(
      {
        connection,
        moduleId: config.moduleId,
        version: CORE_VERSION,
        reconnectPeriodMs: tuning.reconnectPeriodMs,
        // A quarter of the deadline at most: actuators are already safe, telemetry still has to flush.
        stopDeadlineMs: Math.min(1500, config.shutdownDeadlineMs / 4),
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
      hardware,
      actuators,
      new ThresholdEvents(bus, holder, roles.waterLevels),
      history,
      alarms,
      calibration,
      new Sampler(hal, store, bus, {
        intervalMs: tuning.sampleIntervalMs,
        adjust: (id, value) => calibration.adjust(id, value),
      }),
      hardware.gate(new LightSchedule(actuators, holder, bus), [roles.light]),
      hardware.gate(new ClimateControl(actuators, store, holder, bus), [roles.fan]),
      hardware.gate(irrigation, [roles.pump]),
    ];
    const health = () => {
      const halHealth = hal.health();
      const sensorsOk = store.readings().every((r) => r.quality === 'ok');
      const devicesOk = Object.values(halHealth.devices).every((d) => d.state === 'ok');
      const actuatorsKnown = store.actuatorEntries().every(([, a]) => !isUnknown(a.state));
      const hw = hardware.health();
      // Named so the updater's health gate can tolerate some of them (GROWOFF_HEALTH_TOLERATE).
      const reasons = [
        ...(mqtt.connected ? [] : ['mqtt']),
        ...(sensorsOk ? [] : ['sensors']),
        ...(devicesOk ? [] : ['devices']),
        ...(actuatorsKnown ? [] : ['actuators']),
        ...(hw.missing.length === 0 ? [] : ['hardware']),
      ];
      const status: 'ok' | 'degraded' = reasons.length === 0 ? 'ok' : 'degraded';
      return {
        status,
        ...(reasons.length > 0 ? { reasons } : {}),
        version: CORE_VERSION,
        moduleId: config.moduleId,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
        mqtt: mqtt.stats(),
        telemetry: tel.stats(),
        hal: halHealth,
        ...hw,
        updateLock: lock.state(),
        eventLoop: lag.snapshot(),
      };
    };
    const restOptions = {
      host: config.httpHost,
      port: config.httpPort,
      token: config.httpToken,
      version: CORE_VERSION,
      commands,
      hal,
      health,
      console: { bus, store, apps },
    };
    // Built while the features start (the HAL's chips take their time to come up, the CPU is free
    // meanwhile); it listens, and so answers /health, only once they all have.
    building = buildRestServer(restOptions);
    building.catch(() => undefined); // awaited below, or closed by the failure path
    // The time zone's formatter (ICU's zone data, some 30 ms) is made now, while the chips come up,
    // rather than in the light schedule's first tick after them.
    isValidTimeZone(holder.get().timezone);
    for (const f of features) {
      await f.start();
      started.push(f);
    }
    rest = await building;
    await listenRestServer(rest, restOptions);
    const address = rest.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
    const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
    const restServer = rest;

    let stopping: Promise<SafeStateReport> | undefined;
    const stop = () => {
      // Safe state first and at once, not behind the API, the loops or queued commands; its own budget
      // leaves the rest of the deadline for the offline status and the telemetry flush.
      const safe = actuators.safeState(Math.max(1000, config.shutdownDeadlineMs - 2000));
      stopping ??= settleWithin(
        (async () => {
          // Reverse order: loops stop before actuators go safe, MQTT says offline after that.
          // One step failing must not keep the later ones (offline status, telemetry flush) from running.
          const steps = [
            () => restServer.close(),
            // Flood summaries still in their window go out while MQTT and telemetry still listen.
            () => bus.flushEventSummaries(),
            ...[...started].reverse().map((f) => () => f.stop()),
            () => lag.stop(),
            ...[...cleanups].reverse(),
          ];
          for (const step of steps) {
            try {
              await step();
            } catch (e) {
              console.error(`growoff core: stop step failed: ${(e as Error).message}`);
            }
          }
        })(),
        config.shutdownDeadlineMs,
      ).then(() => safe);
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
    lag.stop();
    // A server built, listening or not, is closed (listenRestServer closed one that could not listen).
    if (rest === undefined) await building?.then((app) => app.close()).catch(() => undefined);
    for (const f of [...started].reverse()) await Promise.resolve(f.stop()).catch(() => undefined);
    for (const c of [...cleanups].reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw e;
  }
}
