import { appVersion } from '@growoff/app-version';
import { describe, ignoredText, ignoredVariables } from '@growoff/config';
import { describeError, exitOnSignal, settleWithin } from '@growoff/protocol';
import { createTelemetry, telemetryOptionsOf, type Telemetry } from '@growoff/telemetry';
import { updaterConfigFromEnv } from './config/updater-config';
import { JournalLock } from './journal/journal-lock';
import { startHttpApi } from './reporting/http-api';
import { startHandoverHealth } from './self/handover-health';
import { specCommand } from './spec/spec-command';
import { Updater } from './updater';

const APP_VERSION = appVersion(new URL('../package.json', import.meta.url));

async function main(): Promise<void> {
  const config = updaterConfigFromEnv(process.env);
  console.log(`growoff-updater ${APP_VERSION} starting with ${describe(config)}`);
  for (const ignored of ignoredVariables(config)) {
    console.warn(`growoff-updater: warning: ${ignoredText(ignored, 'updater')}`);
  }
  const deadlineMs = config.shutdownDeadlineMs;
  const started: {
    http?: Awaited<ReturnType<typeof startHttpApi>>;
    updater?: Updater;
    telemetry?: Telemetry;
    lock?: JournalLock;
  } = {};
  const waiting = new AbortController();
  const stop = async () => {
    waiting.abort();
    const t0 = Date.now();
    if (started.http) await settleWithin(started.http.close(), deadlineMs / 4);
    await started.updater?.stop(deadlineMs - (Date.now() - t0) - 100);
    // At most a second, since a handing-over updater holds the journal lock until it is done: what
    // Telegraf has not taken by then (it may be away) stays queued on disk for the next start.
    const left = deadlineMs - (Date.now() - t0) - 100;
    await started.telemetry?.close({ deadlineMs: Math.max(100, Math.min(1000, left)) });
    await started.lock?.release();
  };
  // Installed before the start: a signal while the updater starts stops it within the deadline too.
  exitOnSignal({ deadlineMs, stop, log: (line) => console.log(`growoff-updater: ${line}`) });

  // A new updater started by the old one answers /health on its hand-over port while it waits for
  // the old one to free the journal; only the lock's holder touches the journal and the engine.
  const handover = config.handoverPort ? await startHandoverHealth(APP_VERSION, config.handoverPort) : null;
  started.lock = await JournalLock.acquire(config.dataDir, {
    signal: waiting.signal,
    onWaiting: () => console.log('growoff-updater: waiting for the journal lock'),
  });
  console.log('growoff-updater: holds the journal lock');
  await handover?.close();
  // Its queue is in the data dir, so only the lock's holder opens it. Telemetry is a copy of the
  // events for the cloud's InfluxDB: when it cannot start, the updater still keeps the module's apps.
  let telemetryOff = '';
  started.telemetry = await createTelemetry(
    telemetryOptionsOf(config.telemetry, { module: config.moduleId, dataDir: config.dataDir }),
  ).catch((error: unknown) => {
    const { code, message } = describeError(error);
    telemetryOff = `${code}: ${message}`;
    console.error(`growoff-updater: telemetry off: ${telemetryOff}`);
    return undefined;
  });

  const updater = new Updater({
    config,
    version: APP_VERSION,
    log: (line) => console.log(line),
    onHandOver: () => {
      console.log('growoff-updater: handing over to the new updater');
      void stop().then(() => process.exit(0));
    },
  });
  started.updater = updater;
  const telemetry = started.telemetry;
  // Every event but download progress, as the journal keeps them.
  if (telemetry) {
    updater.onEvent((event) => {
      if (event.type !== 'download.progress') telemetry.event(event);
    });
  }
  await updater.start();
  started.http = await startHttpApi(updater, config.httpPort, () =>
    telemetry ? telemetry.stats() : { off: telemetryOff },
  );
  console.log(`growoff-updater REST on http://127.0.0.1:${config.httpPort}`);
  void updater.check();
}

const run = process.argv[2] === 'spec' ? specCommand(process.argv.slice(3), process.env) : main();
run.catch((error: unknown) => {
  const { code, message } = describeError(error);
  console.error(`growoff-updater: ${code}: ${message}`);
  process.exit(1);
});
