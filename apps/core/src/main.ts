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
  const core = await startCore(config);
  console.log(`growoff core: module ${config.moduleId} running`);
  console.log(
    `  console     ${core.httpUrl}/${config.httpToken === undefined ? '' : '  (sign in with GROWOFF_HTTP_TOKEN)'}`,
  );
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

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    console.log(`growoff core: ${signal}: actuators to safe state, going offline`);
    void core.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`growoff core: unclean stop: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((e: unknown) => {
  const code = (e as { code?: unknown }).code;
  console.error(
    `growoff core: failed to start: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`,
  );
  process.exit(1);
});
