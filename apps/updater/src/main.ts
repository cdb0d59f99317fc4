import { appVersion } from '@growoff/app-version';
import { describe } from '@growoff/config';
import { describeError, exitOnSignal, settleWithin } from '@growoff/protocol';
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
  const deadlineMs = config.shutdownDeadlineMs;
  const started: {
    http?: Awaited<ReturnType<typeof startHttpApi>>;
    updater?: Updater;
    lock?: JournalLock;
  } = {};
  const waiting = new AbortController();
  const stop = async () => {
    waiting.abort();
    const t0 = Date.now();
    if (started.http) await settleWithin(started.http.close(), deadlineMs / 4);
    await started.updater?.stop(deadlineMs - (Date.now() - t0) - 100);
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
  await updater.start();
  started.http = await startHttpApi(updater, config.httpPort);
  console.log(`growoff-updater REST on http://127.0.0.1:${config.httpPort}`);
  void updater.check();
}

const run = process.argv[2] === 'spec' ? specCommand(process.argv.slice(3), process.env) : main();
run.catch((error: unknown) => {
  const { code, message } = describeError(error);
  console.error(`growoff-updater: ${code}: ${message}`);
  process.exit(1);
});
