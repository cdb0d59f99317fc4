import { appVersion } from '@growoff/app-version';
import { describeConfig, updaterConfigFromEnv } from './config/updater-config';
import { startHttpApi } from './reporting/http-api';
import { Updater } from './updater';
import { describeError } from './updater-error';

const APP_VERSION = appVersion(new URL('../package.json', import.meta.url));

async function main(): Promise<void> {
  const config = updaterConfigFromEnv(process.env);
  console.log(`growoff-updater ${APP_VERSION} starting with ${JSON.stringify(describeConfig(config))}`);
  const updater = new Updater({ config, version: APP_VERSION, log: (line) => console.log(line) });
  await updater.start();
  const http = await startHttpApi(updater, config.httpPort);
  console.log(`growoff-updater REST on http://127.0.0.1:${config.httpPort}`);
  void updater.check();
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await http.close();
    await updater.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

main().catch((error: unknown) => {
  const { code, message } = describeError(error);
  console.error(`growoff-updater: ${code}: ${message}`);
  process.exit(1);
});
