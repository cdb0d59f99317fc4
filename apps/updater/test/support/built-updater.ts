import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, getService } from '@growoff/test-services';

/**
 * The environment of a built updater (`dist/main.js`) of its own module under `dir`: a release key
 * of its own, the shared broker, engine and registry, names labelled `label`, and an ECR endpoint
 * nothing answers (checks fail and are retried later; the updater still runs and answers).
 */
export async function builtUpdaterEnv(label: string, dir: string) {
  const id = randomBytes(4).toString('hex');
  mkdirSync(join(dir, 'keys'), { recursive: true });
  const { publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'keys', 'release.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    GROWOFF_MODULE_ID: `updater-${label}-${id}`,
    GROWOFF_MQTT_URL: getService('mosquitto').url,
    GROWOFF_UPDATER_HTTP_PORT: String(await freePort()),
    GROWOFF_DOCKER_HOST: `unix://${getService('docker').socket}`,
    GROWOFF_RELEASE_KEYS: join(dir, 'keys'),
    GROWOFF_CORE_IMAGE_REPO: `${getService('registry').host}/updater-${label}-${id}/core`,
    GROWOFF_ECR_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: `updater-${label}-test`,
    AWS_SECRET_ACCESS_KEY: `updater-${label}-test`,
    GROWOFF_DATA_DIR: join(dir, 'data'),
    GROWOFF_CORE_CONTAINER: `updater-${label}-core-${id}`,
    GROWOFF_TELEGRAF_CONTAINER: `updater-${label}-telegraf-${id}`,
    GROWOFF_MANAGED_BY: `updater-${label}-${id}`,
  };
}
