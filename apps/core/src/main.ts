import { describe, ignoredText, ignoredVariables, isConfigInvalid, maskUrl } from '@growoff/config';
import { exitOnSignal } from '@growoff/protocol';
import { coreConfigFromEnv } from './config/env-config';
import { CORE_VERSION, startCore } from './core';

/** The entry the image runs: config from the environment, start, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = coreConfigFromEnv(process.env);
  } catch (e) {
    if (isConfigInvalid(e)) {
      console.error(`growoff core: ${e.code}: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  console.log(`growoff core ${CORE_VERSION} starting with ${describe(config)}`);
  for (const ignored of ignoredVariables(config)) {
    console.warn(`growoff core: warning: ${ignoredText(ignored, 'core')}`);
  }
  // Installed before the start: a signal while the core starts stops it as soon as it has started
  // (safe state included). Exit 3 when an actuator was not confirmed safe.
  const starting = startCore(config);
  exitOnSignal({
    deadlineMs: config.shutdownDeadlineMs,
    stop: async () => {
      const running = await starting;
      const report = await running.stop();
      if (running.hal.simulation) {
        console.log(
          `growoff core: simulated outputs at exit ${JSON.stringify(running.hal.simulation.outputs())}`,
        );
      }
      for (const u of report.unconfirmed) {
        console.error(`growoff core: NOT SAFE: ${u.id} was not confirmed safe: ${u.error}`);
      }
      return report.unconfirmed.length === 0 ? 0 : 3;
    },
    log: (line) => console.log(`growoff core: ${line}`),
  });
  const core = await starting;
  console.log(`growoff core: module ${config.moduleId} running`);
  console.log(
    `  console     ${core.httpUrl}/${config.httpToken === undefined ? '' : '  (sign in with GROWOFF_HTTP_TOKEN)'}`,
  );
  console.log(
    `  REST        ${core.httpUrl}  (Swagger UI ${core.httpUrl}/docs, health ${core.httpUrl}/health)`,
  );
  console.log(
    `  MQTT        ${config.mqtt === undefined ? `${core.mqttUrl} (embedded broker)` : (maskUrl(core.mqttUrl) ?? '***')}`,
  );
  console.log(`  topics      growoff/v1/modules/${config.moduleId}/#`);
  console.log(`  data dir    ${config.dataDir}`);
  if (config.hal === 'sim') {
    console.log(
      `  simulation  PUT ${core.httpUrl}/api/v1/sim/environment, POST ${core.httpUrl}/api/v1/sim/faults, GET ${core.httpUrl}/api/v1/sim/outputs`,
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
