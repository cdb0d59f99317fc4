import { Type } from '@sinclair/typebox';

/** What the workspace knows about one error code: how REST answers it and whether a retry may help. */
export interface ErrorCodeInfo {
  /** The HTTP status a REST server answers with. */
  status: number;
  /** True when the same request may well succeed later without a change by the caller. */
  retryable: boolean;
  /** One line for operators and the JSON Schema table. */
  description: string;
}

const code = (status: number, retryable: boolean, description: string): ErrorCodeInfo => ({
  status,
  retryable,
  description,
});

/**
 * Every error code used anywhere in apps/, libs/ and tools/. A code is one entry here; a code
 * that is not here does not compile where a code is expected (`CodedError`, `codedError()`).
 */
export const ERROR_REGISTRY = {
  // The protocol: MQTT request/command answers and the core's REST API.
  BAD_JSON: code(400, false, 'the payload is not JSON (or not UTF-8)'),
  INVALID_MESSAGE: code(400, false, 'JSON, but not the shape the topic or endpoint expects'),
  UNKNOWN_METHOD: code(404, false, 'a request names a method the app does not offer'),
  UNKNOWN_SENSOR: code(404, false, 'no sensor has this id'),
  UNKNOWN_ACTUATOR: code(404, false, 'no actuator has this id'),
  INTERLOCK: code(409, false, 'a safety interlock refused the command; the message says which and why'),
  PUMP_RESTING: code(409, true, 'the pump used its run budget and rests; try again after the rest period'),
  CONFLICT: code(409, false, 'the command conflicts with the current state (e.g. a cycle already running)'),
  UNAVAILABLE: code(503, true, 'a device or dependency needed to answer is not available right now'),
  INTERNAL: code(500, true, 'an unexpected failure inside the app; the message is generic'),
  UNAUTHORIZED: code(401, false, 'missing or wrong bearer token'),
  NOT_FOUND: code(404, false, 'no such route or resource'),
  EVENT_INVALID: code(500, false, 'an event of an unregistered type, or data that does not match its schema'),

  // Configuration, read at start (libs/config).
  CONFIG_INVALID: code(500, false, 'an environment variable or config file has a bad or missing value'),

  // Signed release envelopes (libs/protocol release, the updater, the fleet CLI).
  UNSIGNED: code(400, false, 'the release envelope carries no signature'),
  BAD_SIGNATURE: code(403, false, 'a signature names a trusted key but does not verify'),
  UNTRUSTED_KEY: code(403, false, 'no signature was made by a trusted key'),
  MALFORMED: code(400, false, 'not a DSSE v1 envelope: bad JSON, missing fields or bad base64'),
  BAD_PAYLOAD: code(400, false, 'signed correctly, but the payload is not a valid fleet document'),
  BAD_KEY: code(400, false, 'a PEM key that cannot be parsed or is not Ed25519'),
  NO_TRUSTED_KEYS: code(500, false, 'the trusted key file or folder is missing or holds no public key'),
  REPLAYED: code(
    409,
    false,
    'the document sequence is below the module floor or not above the one its topic already accepted',
  ),
  WRONG_CHANNEL: code(409, false, 'the release is for another channel than this module follows'),
  WRONG_MODULE: code(409, false, 'the pin or unpin names another module'),
  WRONG_TARGET: code(
    409,
    false,
    'the document does not belong on its topic (e.g. a channel release as a pin)',
  ),
  REVOKED: code(409, false, 'the release names a revoked image'),

  // The updater.
  IMAGE_REPO_MISMATCH: code(400, false, 'the release names an image outside the configured repository'),
  IMAGE_NOT_BY_DIGEST: code(400, false, 'the release names an image by tag, not by digest'),
  REGISTRY_AUTH_FAILED: code(502, true, 'the registry (ECR) refused or could not issue credentials'),
  REGISTRY_UNREACHABLE: code(503, true, 'the registry cannot be reached'),
  PULL_FAILED: code(502, true, 'the image pull failed'),
  DISK_SPACE_LOW: code(507, true, 'not enough disk space to pull the image'),
  HEALTH_GATE_FAILED: code(502, false, 'the new container did not become healthy in time'),
  CRASH_LOOP: code(500, false, 'the new container keeps restarting in probation'),
  NO_CONTAINER_SPEC: code(500, false, 'no container settings to create the app from'),
  ENGINE_FAILED: code(502, true, 'the Docker engine refused or failed a call'),
  JOURNAL_CORRUPT: code(500, false, 'the update journal on disk cannot be read'),
  JOURNAL_WRITE_FAILED: code(
    507,
    true,
    'the update journal cannot be written (full or read-only disk); the running release is kept',
  ),
  HEALTH_VERSION_MISMATCH: code(502, false, 'the new container runs another version than the release names'),
  HEALTH_DEGRADED: code(502, false, "the new container's /health is not ok for a reason not tolerated"),
  BROKER_DOWN: code(503, true, 'the health gate could not finish because the MQTT broker was unreachable'),
  ROLLBACK_FAILED: code(
    500,
    true,
    'the previous release could not be restored (image missing and not pullable)',
  ),

  // The core.
  CORE_CONFIG_FILE_INVALID: code(
    500,
    false,
    'the saved module config is not valid; it is refused, not replaced',
  ),

  // libs/hal: I2C / 1-Wire hardware.
  HAL_I2C_BUS_MISSING: code(503, false, 'the I2C bus device does not exist'),
  HAL_I2C_NACK: code(503, true, 'the device did not acknowledge its address or a byte'),
  HAL_I2C_IO: code(503, true, 'an I2C transfer failed'),
  HAL_TIMEOUT: code(504, true, 'the device did not answer in time'),
  HAL_CRC: code(502, true, 'the reading failed its checksum'),
  HAL_RANGE: code(502, false, 'the reading is outside the sensor\u2019s range'),
  HAL_DEVICE_BUSY: code(503, true, 'the device is busy with a previous command'),
  HAL_DEVICE_ERROR: code(502, false, 'the device reported an error of its own'),
  HAL_CIRCUIT_OPEN: code(503, false, 'the bus breaker is open after repeated faults'),
  HAL_W1_MISSING: code(503, false, 'the 1-Wire device is not present'),
  HAL_W1_EMPTY: code(503, true, 'the 1-Wire device returned an empty read'),
  HAL_PROFILE_INVALID: code(500, false, 'the hardware profile is not valid'),
  HAL_UNKNOWN_SENSOR: code(404, false, 'the hardware has no sensor with this id'),
  HAL_UNKNOWN_ACTUATOR: code(404, false, 'the hardware has no actuator with this id'),
  HAL_BAD_COMMAND: code(400, false, 'the actuator command is not valid for this actuator'),
  HAL_CLOSED: code(503, false, 'the hardware layer is closed'),

  // libs/telemetry.
  TELEMETRY_BAD_OPTION: code(500, false, 'a telemetry option has a bad value'),
  TELEMETRY_QUEUE_IO: code(507, true, 'the durable queue could not be read or written'),
  TELEMETRY_SINK_UNREACHABLE: code(503, true, 'the telemetry sink cannot be reached'),
  TELEMETRY_SINK_REFUSED: code(502, false, 'the telemetry sink refused the write'),
  TELEMETRY_CLOSED: code(503, false, 'the telemetry client is closed'),
  TELEMETRY_INVALID_POINT: code(400, false, 'the point cannot be written as line protocol'),

  // The tunnel.
  TUNNEL_KEY_UNREADABLE: code(500, false, 'the module\u2019s private key cannot be read or parsed'),
  TUNNEL_KEY_NOT_ED25519: code(500, false, 'the module\u2019s key is not Ed25519'),
  TUNNEL_HOSTKEY_MISMATCH: code(502, false, 'the bastion presented another host key than the pinned one'),
  TUNNEL_AUTH_REFUSED: code(502, false, 'the bastion refused the module\u2019s key'),
  TUNNEL_CONNECT_FAILED: code(503, true, 'TCP connect or SSH handshake to the bastion failed'),
  TUNNEL_LINK_DEAD: code(503, true, 'keepalives went unanswered: the link to the bastion is dead'),
  TUNNEL_SESSION_CLOSED: code(503, true, 'the bastion closed the session'),
  TUNNEL_REMOTE_PORT_BUSY: code(409, true, 'the bastion refused to listen on the remote port'),
  TUNNEL_PROBE_FAILED: code(503, true, 'the end-to-end probe through the bastion did not come back'),

  // The release manager's CLI (tools/fleet).
  FLEET_USAGE: code(400, false, 'unknown command or option, or a missing required option'),
  FLEET_BAD_OPTION: code(400, false, 'an option or environment variable with a value that cannot be used'),
  FLEET_KEY_EXISTS: code(409, false, 'keygen would overwrite an existing key (use --force)'),
  FLEET_BAD_FILE: code(400, false, 'a key, payload or envelope file that cannot be read or parsed'),
  FLEET_MQTT_UNREACHABLE: code(503, true, 'the broker cannot be reached'),
  FLEET_NO_RELEASE: code(
    404,
    false,
    'no such release in the store, or none this CLI can verify on the channel',
  ),
  FLEET_ROLLOUT_NARROWING: code(
    409,
    false,
    'rollout to a lower percent than the current one (without --force)',
  ),
  FLEET_STALE_SEQUENCE: code(409, false, 'the envelope\u2019s sequence is not above the retained one'),
  FLEET_STORE_LOCKED: code(409, true, 'another fleet command holds the release store\u2019s counter'),
  FLEET_RELEASE_EXISTS: code(409, false, 'the release name already names other images'),
  FLEET_CHECKLIST_INCOMPLETE: code(409, false, 'promote of a candidate whose checklist is not complete'),
  FLEET_RELEASE_IN_USE: code(409, false, 'delete of a release a channel, a pin or a module still uses'),
  FLEET_ECR: code(502, true, 'ECR refused or failed a call'),
  FLEET_GIT: code(500, false, 'git failed (no repository, or tagging failed)'),
  FLEET_GIT_TAG_EXISTS: code(409, false, 'the release\u2019s git tag already points at another commit'),
  FLEET_FAILED: code(500, false, 'the CLI failed unexpectedly'),

  // The fleet simulator (tools/fleet-sim).
  FLEET_SIM_WORKER_FAILED: code(500, false, 'a simulator worker failed'),
  FLEET_SIM_BAD_OPTION: code(400, false, 'a simulator option has a bad value'),
  FLEET_SIM_TIMEOUT: code(504, true, 'the simulated fleet did not reach the expected state in time'),
  FLEET_SIM_FAILED: code(500, false, 'the simulator failed unexpectedly'),

  // Image builds (tools/images).
  IMAGE_UNKNOWN_APP: code(400, false, 'no image is built for this app'),
  IMAGE_APP_BUILD_FAILED: code(500, false, 'building the app bundle failed'),
  IMAGE_APP_NOT_BUILT: code(409, false, 'the app bundle an image takes is not built'),
  IMAGE_DEPLOY_FAILED: code(500, false, 'pnpm deploy of the app failed'),
  IMAGE_BUILD_FAILED: code(500, false, 'docker build failed'),
  IMAGE_NOT_FOUND: code(404, false, 'the image does not exist in the engine'),

  // Fleet broker configuration (tools/broker).
  BROKER_BAD_USERNAME: code(400, false, 'a broker user name that cannot be written safely'),
  BROKER_DUPLICATE_USER: code(409, false, 'the broker user already exists'),
  BROKER_PASSWD_FAILED: code(500, false, 'mosquitto_passwd failed'),
  BROKER_NO_SUCH_USER: code(404, false, 'the broker user does not exist'),

  // The ECR API stand-in (tools/ecr-standin): ECR's own exception names, as its JSON protocol carries them.
  UnknownOperationException: code(400, false, 'ECR: the operation or target is not supported'),
  MissingAuthenticationTokenException: code(403, false, 'ECR: the request is not signed'),
  SerializationException: code(400, false, 'ECR: the request body is not a JSON object'),
  InvalidParameterException: code(400, false, 'ECR: a request parameter is not valid'),
  RepositoryNotFoundException: code(400, false, 'ECR: the repository does not exist'),
  ImageNotFoundException: code(400, false, 'ECR: the image does not exist in the repository'),
  ImageAlreadyExistsException: code(400, false, 'ECR: the image already has this tag'),
  ImageDigestDoesNotMatchException: code(400, false, 'ECR: the given digest is not the manifest\u2019s'),
  LayersNotFoundException: code(400, false, 'ECR: the manifest names layers the repository lacks'),
  ServerException: code(500, true, 'ECR: the service failed'),
  REGISTRY_NOT_FOUND: code(404, false, 'the registry answered 404 for a repository or manifest'),
} as const satisfies Record<string, ErrorCodeInfo>;

/** A code in the registry; the type every coded error's code must fit. */
export type RegisteredErrorCode = keyof typeof ERROR_REGISTRY;

export const REGISTERED_ERROR_CODES = Object.keys(ERROR_REGISTRY) as RegisteredErrorCode[];

export function isRegisteredErrorCode(value: unknown): value is RegisteredErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_REGISTRY, value);
}

/** The registry's entry for a code; an unknown code is treated as INTERNAL (500, generic). */
export function errorCodeInfo(value: unknown): ErrorCodeInfo & { code: RegisteredErrorCode } {
  const known: RegisteredErrorCode = isRegisteredErrorCode(value) ? value : 'INTERNAL';
  return { code: known, ...ERROR_REGISTRY[known] };
}

/** The registry as JSON Schema: an enum of the codes, each with its status, retryability and description. */
export const ErrorCodeSchema = Type.Union(
  REGISTERED_ERROR_CODES.map((c) => {
    const { status, retryable, description } = ERROR_REGISTRY[c];
    return Type.Literal(c, { description, 'x-http-status': status, 'x-retryable': retryable });
  }),
  { $id: 'ErrorCode', description: 'every error code of the workspace (the error code registry)' },
);
