import { appVersion } from '@growoff/app-version';
import { describe, ignoredText, ignoredVariables, isConfigInvalid } from '@growoff/config';
import { describeError, exitOnSignal } from '@growoff/protocol';
import { createTelemetry, isTelemetryError, telemetryOptionsOf } from '@growoff/telemetry';
import { tunnelConfigFromEnv } from './config';
import { loadModuleKey } from './module-key';
import { isTunnelError } from './tunnel-error';
import { TunnelMqtt } from './tunnel-mqtt';
import { TunnelSupervisor } from './tunnel-supervisor';

const APP_VERSION = appVersion(new URL('../package.json', import.meta.url));

async function main(): Promise<void> {
  const config = tunnelConfigFromEnv(process.env);
  console.log(`[tunnel] @growoff/tunnel ${APP_VERSION} configuration: ${describe(config)}`);
  for (const ignored of ignoredVariables(config)) {
    console.warn(`[tunnel] warning: ${ignoredText(ignored, 'tunnel')}`);
  }
  const key = loadModuleKey(config.keyFile);
  const telemetry = await createTelemetry(
    telemetryOptionsOf(config.telemetry, { module: config.moduleId, dataDir: config.dataDir }),
  );
  console.log(`[tunnel] module key ${key.fingerprint} (${key.publicKey})`);
  const supervisor = new TunnelSupervisor({
    session: {
      host: config.bastion.host,
      port: config.bastion.port,
      username: config.bastionUser,
      privateKey: key.privateKey,
      hostKeyFingerprints: config.bastionHostKeys,
      keepaliveIntervalMs: config.keepaliveIntervalMs,
      keepaliveCountMax: config.keepaliveCountMax,
      connectTimeoutMs: config.connectTimeoutMs,
      localHost: config.localHost,
      localPort: config.localPort,
    },
    remotePort: config.remotePort,
    maxTtlS: config.maxTtlS,
    alwaysOn: config.alwaysOn,
    probeIntervalMs: config.probeIntervalMs,
    probeTimeoutMs: config.probeTimeoutMs,
    probeFailuresMax: config.probeFailuresMax,
    backoffMinMs: config.backoffMinMs,
    backoffMaxMs: config.backoffMaxMs,
    portBusyRetries: config.portBusyRetries,
  });
  supervisor.on('status', (s) =>
    console.log(
      `[tunnel] status ${s.tunnel}${s.remotePort ? ` port ${s.remotePort}` : ''}${s.reason ? ` (${s.reason})` : ''}`,
    ),
  );
  const mqtt = TunnelMqtt.start(supervisor, {
    connection: config.mqtt,
    moduleId: config.moduleId,
    version: APP_VERSION,
    bastion: `${config.bastionUser}@${config.bastion.host}:${config.bastion.port}`,
    openAnswerTimeoutMs: Math.min(config.connectTimeoutMs + 2000, 15_000),
    // Audit events also go to telemetry, which queues them on disk while the cloud is unreachable.
    record: (event) => telemetry.event(event),
  });
  supervisor.start();

  const deadlineMs = config.shutdownDeadlineMs;
  exitOnSignal({
    deadlineMs,
    stop: async () => {
      await supervisor.shutdown();
      await mqtt.stop(Math.min(1500, deadlineMs / 4));
      await telemetry.close({ deadlineMs: deadlineMs / 2 });
    },
    log: (line) => console.log(`[tunnel] ${line}`),
  });
}

main().catch((error: unknown) => {
  if (isTunnelError(error) || isTelemetryError(error) || isConfigInvalid(error))
    console.error(`[tunnel] ${error.code}: ${error.message}`);
  else console.error(`[tunnel] failed to start: ${describeError(error).message}`);
  const badConfig =
    isConfigInvalid(error) || (isTelemetryError(error) && error.code === 'TELEMETRY_BAD_OPTION');
  process.exit(badConfig ? 2 : 1);
});
