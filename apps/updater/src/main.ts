import { appVersion } from '@growoff/app-version';
import { describe } from '@growoff/config';
import { describeError, exitOnSignal, settleWithin } from '@growoff/protocol';
import { updaterConfigFromEnv } from './config/updater-config';
import { startHttpApi } from './reporting/http-api';
import { Updater } from './updater';

const APP_VERSION = appVersion(new URL('../package.json', import.meta.url));

async function main(): Promise<void> {
  const config = updaterConfigFromEnv(process.env);
  console.log(`growoff-updater ${APP_VERSION} starting with ${describe(config)}`);
  const updater = new Updater({ config, version: APP_VERSION, log: (line) => console.log(line) });
  const deadlineMs = config.shutdownDeadlineMs;
  const started: { http?: Awaited<ReturnType<typeof startHttpApi>> } = {};
  // Installed before the start: a signal while the updater starts stops it within the deadline too.
  exitOnSignal({
    deadlineMs,
    stop: async () => {
      const t0 = Date.now();
      if (started.http) await settleWithin(started.http.close(), deadlineMs / 4);
      await updater.stop(deadlineMs - (Date.now() - t0) - 100);
    },
    log: (line) => console.log(`growoff-updater: ${line}`),
  });
  await updater.start();
  started.http = await startHttpApi(updater, config.httpPort);
  console.log(`growoff-updater REST on http://127.0.0.1:${config.httpPort}`);
  void updater.check();
}

main().catch((error: unknown) => {
  const { code, message } = describeError(error);
  console.error(`growoff-updater: ${code}: ${message}`);
  process.exit(1);
});
