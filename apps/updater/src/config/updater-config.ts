import {
  defineEnv,
  moduleIdVariable,
  shutdownDeadlineVariable,
  mqttSection,
  parseEnv,
  variable,
  type ConfigOf,
} from '@growoff/config';
import { telemetrySection } from '@growoff/telemetry';
import { Type } from '@sinclair/typebox';
import { CORE_HEALTH_REASONS } from '../install/health-gate';
import { layoutVariables, SELF_CONTAINER_VARIABLE } from '../spec/app-spec';

const REPOSITORY = /^[a-z0-9][a-z0-9._/:-]*$/;
const REPOSITORY_EXPECTED = 'a repository such as registry.example/growoff/core, without tag or digest';
const IMAGE_BY_DIGEST = /^[a-z0-9][a-z0-9._/:-]*@sha256:[a-f0-9]{64}$/;

const imageRepo = (name: string) =>
  variable.string(name, { pattern: REPOSITORY, expected: REPOSITORY_EXPECTED });
const installedImage = (name: string, app: string) =>
  variable.string(name, {
    pattern: IMAGE_BY_DIGEST,
    expected: 'an image by digest (repository@sha256:…)',
    description: `the ${app} image tools/base installed, run until a release names one`,
  });

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
  /** Unset: the app's container is not managed. */
  telegrafImageRepo: imageRepo('GROWOFF_TELEGRAF_IMAGE_REPO'),
  tunnelImageRepo: imageRepo('GROWOFF_TUNNEL_IMAGE_REPO'),
  /** Unset: the updater does not update itself. */
  updaterImageRepo: imageRepo('GROWOFF_UPDATER_IMAGE_REPO'),
  telegrafImage: installedImage('GROWOFF_TELEGRAF_IMAGE', 'Telegraf'),
  tunnelImage: installedImage('GROWOFF_TUNNEL_IMAGE', 'tunnel'),
  /** Set by the launcher (or a handing-over updater): the name of this updater's own container. */
  selfContainer: variable.string(SELF_CONTAINER_VARIABLE, {
    pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/,
    expected: 'a container name',
  }),
  /** Set by a handing-over updater: where this one answers /health until it holds the journal lock. */
  handoverPort: variable.port('GROWOFF_HANDOVER_PORT', { min: 1 }),
  httpPort: variable.port('GROWOFF_UPDATER_HTTP_PORT', { default: 8081, min: 1 }),
  dataDir: variable.path('GROWOFF_DATA_DIR', { default: '/var/lib/growoff/updater' }),
  /** Its events, as the core's and the tunnel's, also go to Telegraf; the queue lives in the data dir. */
  telemetry: telemetrySection(),
  ...layoutVariables,
  /** The core's REST port when its container does not set GROWOFF_HTTP_PORT. */
  coreHttpPort: variable.port('GROWOFF_CORE_HTTP_PORT', { default: 8080, min: 1 }),
  healthTimeoutMs: variable.seconds('GROWOFF_HEALTH_TIMEOUT_S', { default: 120, above: 0, max: 86_400 }),
  probationMs: variable.seconds('GROWOFF_PROBATION_S', { default: 300, above: 0, max: 86_400 }),
  crashLoopRestarts: variable.integer('GROWOFF_CRASHLOOP_RESTARTS', { default: 3, min: 1, max: 100 }),
  /** `degraded` reasons of the core's /health that still pass the gate (the core names them). */
  healthTolerate: variable.list('GROWOFF_HEALTH_TOLERATE', {
    pattern: new RegExp(`^(${CORE_HEALTH_REASONS.join('|')})$`),
    expected: `a reason the core's /health gives: ${CORE_HEALTH_REASONS.join(', ')}`,
  }),
  /** The longest the core's update lock may hold one release back; then the update goes ahead. */
  updateLockMaxMs: variable.seconds('GROWOFF_UPDATE_LOCK_MAX_S', { default: 900, above: 0, max: 86_400 }),
  /** Whether the health gate waits for a retained `core/status` online from the new core. */
  healthRequiresMqtt: variable.boolean('GROWOFF_HEALTH_REQUIRE_MQTT', { default: true }),
  checkIntervalMs: variable.seconds('GROWOFF_CHECK_INTERVAL_S', { default: 300, above: 0, max: 86_400 }),
  pullRetryMs: variable.seconds('GROWOFF_PULL_RETRY_S', { default: 600, above: 0, max: 86_400 }),
  /**
   * A pull of which the engine reports nothing for this long is cancelled and tried again: a
   * registry connection that hangs without closing would otherwise hold the pull, and the work
   * queue behind it (probations, rollbacks), for good.
   */
  pullStallMs: variable.seconds('GROWOFF_PULL_STALL_S', { default: 60, above: 0, max: 3600 }),
  diskReserveBytes: Type.Transform(
    variable.integer('GROWOFF_DISK_RESERVE_MB', { default: 256, min: 0, max: 1_000_000 }),
  )
    .Decode((mb) => mb * 1024 * 1024)
    .Encode((bytes) => bytes / (1024 * 1024)),
  /** Where the engine keeps images, for the free-disk check; unset: the engine's DockerRootDir. */
  dockerDataRoot: variable.path('GROWOFF_DOCKER_DATA_ROOT'),
  shutdownDeadlineMs: shutdownDeadlineVariable(),
});

export type UpdaterConfig = ConfigOf<typeof UpdaterEnv>;

/** Reads the updater's configuration; bad values throw one CONFIG_INVALID naming every bad variable. */
export function updaterConfigFromEnv(env: NodeJS.ProcessEnv): UpdaterConfig {
  return parseEnv(UpdaterEnv, env);
}
