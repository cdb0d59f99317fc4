import { appVersion } from '@growoff/app-version';
import { createTelemetry, isTelemetryError, telemetryOptionsFromEnv } from '@growoff/telemetry';
import { describeConfig, tunnelConfigFromEnv } from './config';
import { loadModuleKey } from './module-key';
import { isTunnelError } from './tunnel-error';
import { TunnelMqtt } from './tunnel-mqtt';
import { TunnelSupervisor } from './tunnel-supervisor';

const APP_VERSION = appVersion(new URL('../package.json', import.meta.url));

async function main(): Promise<void> {
  const config = tunnelConfigFromEnv(process.env);
  console.log(
    `[tunnel] @growoff/tunnel ${APP_VERSION} configuration: ${JSON.stringify(describeConfig(config))}`,
  );
  const key = loadModuleKey(config.keyFile);
  const telemetry = await createTelemetry(
    telemetryOptionsFromEnv(process.env, { module: config.moduleId, dataDir: config.dataDir }),
  );
  console.log(`[tunnel] module key ${key.fingerprint} (${key.publicKey})`);
  const supervisor = new TunnelSupervisor({
    session: {
      host: config.bastionHost,
      port: config.bastionPort,
      username: config.bastionUser,
      privateKey: key.privateKey,
      hostKeyFingerprint: config.bastionHostKey,
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
    url: config.mqttUrl,
    moduleId: config.moduleId,
    version: APP_VERSION,
    bastion: `${config.bastionUser}@${config.bastionHost}:${config.bastionPort}`,
    openAnswerTimeoutMs: Math.min(config.connectTimeoutMs + 2000, 15_000),
    // Audit events also go to telemetry, which queues them on disk while the cloud is unreachable.
    record: (event) => telemetry.event(event),
  });
  supervisor.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[tunnel] ${signal}: closing`);
    await supervisor.shutdown();
    await mqtt.stop();
    await telemetry.close({ deadlineMs: 2000 });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (isTunnelError(error) || isTelemetryError(error))
    console.error(`[tunnel] ${error.code}: ${error.message}`);
  else console.error(`[tunnel] failed to start: ${error instanceof Error ? error.message : String(error)}`);
  const badConfig =
    (isTunnelError(error) && error.code === 'TUNNEL_BAD_CONFIG') ||
    (isTelemetryError(error) && error.code === 'TELEMETRY_BAD_OPTION');
  process.exit(badConfig ? 2 : 1);
});
