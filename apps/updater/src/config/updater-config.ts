import { isValidTopicSegment } from '@growoff/protocol';
import { UpdaterError } from '../updater-error';

export interface UpdaterConfig {
  moduleId: string;
  mqttUrl: string;
  dockerHost: string;
  /** Unset: AWS's own endpoint for the region. */
  ecrEndpoint?: string;
  awsRegion: string;
  releaseKeysPath: string;
  channel: string;
  coreImageRepo: string;
  /** Unset: the Telegraf container is not managed. */
  telegrafImageRepo?: string;
  httpPort: number;
  dataDir: string;
  coreContainerName: string;
  telegrafContainerName: string;
  /** KEY=VALUE lines for a first install, when there is no core container to carry settings from. */
  coreEnvFile?: string;
  /** Host devices (`/dev/i2c-1` or `/dev/x:/dev/y`) given to a first-installed core. */
  coreDevices: string[];
  /** Bind mounts (`/host:/container[:ro|rw]`) given to a first-installed core. */
  coreVolumes: string[];
  /** Supplementary groups (names or ids, e.g. the host's i2c group) of a first-installed core. */
  coreGroups: string[];
  /** The core's REST port when its container does not set GROWOFF_HTTP_PORT. */
  coreHttpPort: number;
  healthTimeoutMs: number;
  probationMs: number;
  crashLoopRestarts: number;
  /** Whether the health gate waits for a retained `core/status` online from the new core. */
  healthRequiresMqtt: boolean;
  checkIntervalMs: number;
  pullRetryMs: number;
  diskReserveBytes: number;
  /** Where the engine keeps images, for the free-disk check; unset: the engine's DockerRootDir. */
  dockerDataRoot?: string;
  /** Value of the `growoff.managed-by` label on every container this updater owns. */
  managedBy: string;
  /** SIGTERM to exit, whatever the broker and the engine do; the journal makes a cut install safe. */
  shutdownDeadlineMs: number;
}

type Env = NodeJS.ProcessEnv;

function invalid(name: string, value: string, why: string): UpdaterError {
  return new UpdaterError('CONFIG_INVALID', `${name}=${JSON.stringify(value)} is invalid: ${why}`, {
    variable: name,
  });
}

function text(env: Env, name: string, fallback?: string): string {
  const value = env[name]?.trim();
  if (value) return value;
  if (fallback === undefined) {
    throw new UpdaterError('CONFIG_INVALID', `${name} is required but not set`, { variable: name });
  }
  return fallback;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A comma-separated list, each item checked by `pattern` (`what` names the expected form). */
function list(env: Env, name: string, pattern: RegExp, what: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  const items = raw.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!pattern.test(item)) throw invalid(name, raw, `${JSON.stringify(item)} is not ${what}`);
  }
  return items;
}

const ABSOLUTE = String.raw`\/[^:,\s]*`;
const DEVICE = new RegExp(`^${ABSOLUTE}(:${ABSOLUTE})?$`);
const VOLUME = new RegExp(`^${ABSOLUTE}:${ABSOLUTE}(:(ro|rw))?$`);
const GROUP = /^([a-z_][a-z0-9_-]{0,31}|\d{1,10})$/;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw invalid(name, raw, 'not a whole number');
  const value = Number(raw);
  if (value < min || value > max) throw invalid(name, raw, `must be between ${min} and ${max}`);
  return value;
}

function seconds(env: Env, name: string, fallbackS: number, maxS = 86_400): number {
  const raw = env[name]?.trim();
  if (!raw) return fallbackS * 1000;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw invalid(name, raw, 'not a number of seconds');
  const value = Number(raw);
  if (value <= 0 || value > maxS) throw invalid(name, raw, `must be above 0 and at most ${maxS}`);
  return Math.round(value * 1000);
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw invalid(name, raw, 'expected true or false');
}

function url(env: Env, name: string, value: string, protocols: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw invalid(name, value, 'not a URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw invalid(name, value, `expected one of ${protocols.join(', ')}`);
  }
  return value;
}

const REPOSITORY = /^[a-z0-9][a-z0-9._/:-]*$/;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$/;

function repository(env: Env, name: string, value: string): string {
  if (!REPOSITORY.test(value) || value.includes('@')) {
    throw invalid(
      name,
      value,
      'expected a repository such as registry.example/growoff/core, without tag or digest',
    );
  }
  return value;
}

function containerName(env: Env, name: string, fallback: string): string {
  const value = text(env, name, fallback);
  if (!CONTAINER_NAME.test(value)) throw invalid(name, value, 'not a valid container name');
  return value;
}

/** Reads the updater's configuration; a bad value throws CONFIG_INVALID naming the variable. */
export function updaterConfigFromEnv(env: Env): UpdaterConfig {
  const moduleId = text(env, 'GROWOFF_MODULE_ID', 'dev-module');
  if (!isValidTopicSegment(moduleId)) {
    throw invalid('GROWOFF_MODULE_ID', moduleId, 'use 1-64 of A-Z a-z 0-9 _ . -');
  }
  const channel = text(env, 'GROWOFF_CHANNEL', 'stable');
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(channel)) {
    throw invalid('GROWOFF_CHANNEL', channel, 'use 1-63 of a-z 0-9 . _ -');
  }
  const dockerHost = text(env, 'GROWOFF_DOCKER_HOST', 'unix:///var/run/docker.sock');
  url(env, 'GROWOFF_DOCKER_HOST', dockerHost, ['unix:', 'tcp:', 'http:']);
  const ecrEndpoint = optional(env, 'GROWOFF_ECR_ENDPOINT');
  const telegrafRepo = optional(env, 'GROWOFF_TELEGRAF_IMAGE_REPO');
  return {
    moduleId,
    mqttUrl: url(env, 'GROWOFF_MQTT_URL', text(env, 'GROWOFF_MQTT_URL', 'mqtt://127.0.0.1:1883'), [
      'mqtt:',
      'mqtts:',
      'ws:',
      'wss:',
    ]),
    dockerHost,
    ecrEndpoint: ecrEndpoint ? url(env, 'GROWOFF_ECR_ENDPOINT', ecrEndpoint, ['http:', 'https:']) : undefined,
    awsRegion: text(env, 'AWS_REGION', env.AWS_DEFAULT_REGION?.trim() || 'eu-central-1'),
    releaseKeysPath: text(env, 'GROWOFF_RELEASE_KEYS', '/etc/growoff/release-keys'),
    channel,
    coreImageRepo: repository(env, 'GROWOFF_CORE_IMAGE_REPO', text(env, 'GROWOFF_CORE_IMAGE_REPO')),
    telegrafImageRepo: telegrafRepo
      ? repository(env, 'GROWOFF_TELEGRAF_IMAGE_REPO', telegrafRepo)
      : undefined,
    httpPort: integer(env, 'GROWOFF_UPDATER_HTTP_PORT', 8081, 1, 65_535),
    dataDir: text(env, 'GROWOFF_DATA_DIR', '/var/lib/growoff/updater'),
    coreContainerName: containerName(env, 'GROWOFF_CORE_CONTAINER', 'growoff-core'),
    telegrafContainerName: containerName(env, 'GROWOFF_TELEGRAF_CONTAINER', 'growoff-telegraf'),
    coreEnvFile: optional(env, 'GROWOFF_CORE_ENV_FILE'),
    coreDevices: list(env, 'GROWOFF_CORE_DEVICES', DEVICE, 'an absolute device path (or host:container)'),
    coreVolumes: list(env, 'GROWOFF_CORE_VOLUMES', VOLUME, 'a bind mount /host:/container[:ro|rw]'),
    coreGroups: list(env, 'GROWOFF_CORE_GROUPS', GROUP, 'a group name or id'),
    coreHttpPort: integer(env, 'GROWOFF_CORE_HTTP_PORT', 8080, 1, 65_535),
    healthTimeoutMs: seconds(env, 'GROWOFF_HEALTH_TIMEOUT_S', 120),
    probationMs: seconds(env, 'GROWOFF_PROBATION_S', 300),
    crashLoopRestarts: integer(env, 'GROWOFF_CRASHLOOP_RESTARTS', 3, 1, 100),
    healthRequiresMqtt: flag(env, 'GROWOFF_HEALTH_REQUIRE_MQTT', true),
    checkIntervalMs: seconds(env, 'GROWOFF_CHECK_INTERVAL_S', 300),
    pullRetryMs: seconds(env, 'GROWOFF_PULL_RETRY_S', 600),
    diskReserveBytes: integer(env, 'GROWOFF_DISK_RESERVE_MB', 256, 0, 1_000_000) * 1024 * 1024,
    dockerDataRoot: optional(env, 'GROWOFF_DOCKER_DATA_ROOT'),
    managedBy: text(env, 'GROWOFF_MANAGED_BY', 'growoff-updater'),
    shutdownDeadlineMs: integer(env, 'GROWOFF_SHUTDOWN_DEADLINE_MS', 5000, 100, 600_000),
  };
}

/** The configuration as printed at start: credentials inside URLs are masked. */
export function describeConfig(config: UpdaterConfig): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...config };
  for (const key of ['mqttUrl', 'ecrEndpoint', 'dockerHost'] as const) {
    const value = config[key];
    if (value) masked[key] = maskUrl(value);
  }
  return masked;
}

function maskUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return value;
  }
}
