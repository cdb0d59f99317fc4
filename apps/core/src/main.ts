import { exitOnSignal } from '@growoff/protocol';
import { coreConfigFromEnv, describeConfig, EnvConfigError } from './config/env-config';
import { CORE_VERSION, startCore } from './core';

/** The entry the image runs: config from the environment, start, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = coreConfigFromEnv(process.env);
  } catch (e) {
    if (e instanceof EnvConfigError) {
      console.error(`growoff core: bad configuration: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  console.log(`growoff core ${CORE_VERSION} starting with ${JSON.stringify(describeConfig(config))}`);
  // Installed before the start: a signal while the core starts stops it as soon as it has started.
  const starting = startCore(config);
  exitOnSignal({
    deadlineMs: config.shutdownDeadlineMs,
    stop: async () => (await starting).stop(),
    log: (line) => console.log(`growoff core: ${line}`),
  });
  const core = await starting;
  console.log(`growoff core: module ${config.moduleId} running`);
  console.log(
    `  REST        ${core.httpUrl}  (Swagger UI ${core.httpUrl}/docs, health ${core.httpUrl}/health)`,
  );
  console.log(
    `  MQTT        ${config.mqttUrl === undefined ? `${core.mqttUrl} (embedded broker)` : describeConfig(config).mqttUrl}`,
  );
  console.log(`  topics      growoff/v1/modules/${config.moduleId}/#`);
  console.log(`  data dir    ${config.dataDir}`);
  if (config.hal === 'sim') {
    console.log(
      `  simulation  PUT ${core.httpUrl}/api/v1/sim/environment, POST ${core.httpUrl}/api/v1/sim/faults`,
    );
  }
}

main().catch((e: unknown) => {
  const code = (e as { code?: unknown }).code;
  console.error(
    `growoff core: failed to start: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`,
  );
  process.exit(1);
});
