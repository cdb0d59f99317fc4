import {
  defineEnv,
  moduleIdVariable,
  shutdownDeadlineVariable,
  mqttSection,
  parseEnv,
  variable,
  type ConfigOf,
} from '@growoff/config';
import { Type } from '@sinclair/typebox';

const ABSOLUTE = String.raw`\/[^:,\s]*`;
const DEVICE = new RegExp(`^${ABSOLUTE}(:${ABSOLUTE})?$`);
const VOLUME = new RegExp(`^${ABSOLUTE}:${ABSOLUTE}(:(ro|rw))?$`);
const GROUP = /^([a-z_][a-z0-9_-]{0,31}|\d{1,10})$/;
const REPOSITORY = /^[a-z0-9][a-z0-9._/:-]*$/;
const REPOSITORY_EXPECTED = 'a repository such as registry.example/growoff/core, without tag or digest';
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$/;

const containerName = (name: string, fallback: string) =>
  variable.string(name, { default: fallback, pattern: CONTAINER_NAME, expected: 'a container name' });

/** The updater's environment (see the README's configuration). */
export const UpdaterEnv = defineEnv({
  moduleId: moduleIdVariable(),
  mqtt: mqttSection(),
  dockerHost: variable.url('GROWOFF_DOCKER_HOST', {
    schemes: ['unix', 'tcp', 'http'],
    default: 'unix:///var/run/docker.sock',
    description: 'the Docker engine',
  }),
  /** Unset: AWS's own endpoint for the region. */
  ecrEndpoint: variable.url('GROWOFF_ECR_ENDPOINT', {
    schemes: ['http', 'https'],
    description: 'ECR API endpoint',
  }),
  awsRegion: variable.string('AWS_REGION', { also: ['AWS_DEFAULT_REGION'], default: 'eu-central-1' }),
  releaseKeysPath: variable.file('GROWOFF_RELEASE_KEYS', {
    folder: true,
    default: '/etc/growoff/release-keys',
    description: 'trusted Ed25519 public keys: a PEM file or a folder of them',
  }),
  /** Unset: `release-floor` in the data dir, where tools/base/install.sh --release-floor writes it. */
  releaseFloorFile: variable.path('GROWOFF_RELEASE_FLOOR_FILE', {
    description: "the installer's release floor: documents with a lower sequence are refused",
  }),
  channel: variable.string('GROWOFF_CHANNEL', {
    default: 'stable',
    pattern: /^[a-z0-9][a-z0-9._-]{0,62}$/,
    expected: '1-63 of a-z 0-9 . _ -',
  }),
  coreImageRepo: variable.string('GROWOFF_CORE_IMAGE_REPO', {
    required: true,
    pattern: REPOSITORY,
    expected: REPOSITORY_EXPECTED,
  }),
  /** Unset: the Telegraf container is not managed. */
  telegrafImageRepo: variable.string('GROWOFF_TELEGRAF_IMAGE_REPO', {
    pattern: REPOSITORY,
    expected: REPOSITORY_EXPECTED,
  }),
  httpPort: variable.port('GROWOFF_UPDATER_HTTP_PORT', { default: 8081, min: 1 }),
  dataDir: variable.path('GROWOFF_DATA_DIR', { default: '/var/lib/growoff/updater' }),
  coreContainerName: containerName('GROWOFF_CORE_CONTAINER', 'growoff-core'),
  telegrafContainerName: containerName('GROWOFF_TELEGRAF_CONTAINER', 'growoff-telegraf'),
  /** KEY=VALUE lines for a first install, when there is no core container to carry settings from. */
  coreEnvFile: variable.file('GROWOFF_CORE_ENV_FILE', {
    description: "the core's environment for a first install",
  }),
  /** Host devices (`/dev/i2c-1` or `/dev/x:/dev/y`) given to a first-installed core. */
  coreDevices: variable.list('GROWOFF_CORE_DEVICES', {
    pattern: DEVICE,
    expected: 'an absolute device path (or host:container)',
  }),
  /** Bind mounts (`/host:/container[:ro|rw]`) given to a first-installed core. */
  coreVolumes: variable.list('GROWOFF_CORE_VOLUMES', {
    pattern: VOLUME,
    expected: 'a bind mount /host:/container[:ro|rw]',
  }),
  /** Supplementary groups (names or ids, e.g. the host's i2c group) of a first-installed core. */
  coreGroups: variable.list('GROWOFF_CORE_GROUPS', { pattern: GROUP, expected: 'a group name or id' }),
  /** The core's REST port when its container does not set GROWOFF_HTTP_PORT. */
  coreHttpPort: variable.port('GROWOFF_CORE_HTTP_PORT', { default: 8080, min: 1 }),
  healthTimeoutMs: variable.seconds('GROWOFF_HEALTH_TIMEOUT_S', { default: 120, above: 0, max: 86_400 }),
  probationMs: variable.seconds('GROWOFF_PROBATION_S', { default: 300, above: 0, max: 86_400 }),
  crashLoopRestarts: variable.integer('GROWOFF_CRASHLOOP_RESTARTS', { default: 3, min: 1, max: 100 }),
  /** Whether the health gate waits for a retained `core/status` online from the new core. */
  healthRequiresMqtt: variable.boolean('GROWOFF_HEALTH_REQUIRE_MQTT', { default: true }),
  checkIntervalMs: variable.seconds('GROWOFF_CHECK_INTERVAL_S', { default: 300, above: 0, max: 86_400 }),
  pullRetryMs: variable.seconds('GROWOFF_PULL_RETRY_S', { default: 600, above: 0, max: 86_400 }),
  diskReserveBytes: Type.Transform(
    variable.integer('GROWOFF_DISK_RESERVE_MB', { default: 256, min: 0, max: 1_000_000 }),
  )
    .Decode((mb) => mb * 1024 * 1024)
    .Encode((bytes) => bytes / (1024 * 1024)),
  /** Where the engine keeps images, for the free-disk check; unset: the engine's DockerRootDir. */
  dockerDataRoot: variable.path('GROWOFF_DOCKER_DATA_ROOT'),
  /** Value of the `growoff.managed-by` label on every container this updater owns. */
  managedBy: variable.string('GROWOFF_MANAGED_BY', { default: 'growoff-updater' }),
  shutdownDeadlineMs: shutdownDeadlineVariable(),
});

export type UpdaterConfig = ConfigOf<typeof UpdaterEnv>;

/** Reads the updater's configuration; bad values throw one CONFIG_INVALID naming every bad variable. */
export function updaterConfigFromEnv(env: NodeJS.ProcessEnv): UpdaterConfig {
  return parseEnv(UpdaterEnv, env);
}
