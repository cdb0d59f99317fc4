import { existsSync, readFileSync, statSync } from 'node:fs';
import { variable } from '@growoff/config';
import { UpdaterError } from '../updater-error';

/** Every container on a module is one of these apps, each set by the signed fleet release. */
export type ManagedAppId = 'core' | 'telegraf' | 'tunnel' | 'updater';

export const MANAGED_APPS: readonly ManagedAppId[] = ['core', 'telegraf', 'tunnel', 'updater'];

export const LABEL_APP = 'growoff.app';
export const LABEL_MANAGED_BY = 'growoff.managed-by';
export const LABEL_VERSION = 'growoff.release-version';
export const LABEL_IMAGE = 'growoff.release-image';

/** The updater's own container name, so it can tell itself from an updater it hands over to. */
export const SELF_CONTAINER_VARIABLE = 'GROWOFF_SELF_CONTAINER';

/**
 * How one app's container is made, declared once: the updater creates every container from it and
 * tools/base's launcher runs the updater from it (`main.js spec updater`). The image is not part of
 * it: it comes from the release, by digest.
 */
export interface AppSpec {
  app: ManagedAppId;
  /** The container's base name; each container is `<name>-<random>`. */
  name: string;
  /** KEY=VALUE lines on the host, at the same path as the updater sees them. */
  envFile: string;
  /** Variables beside the env file's. */
  env: string[];
  /** `host:container[:ro]` binds, or `volume:container` named volumes. */
  binds: string[];
  /** `/dev/x` or `/dev/host:/dev/container`, read and write. */
  devices: string[];
  /** Supplementary groups (names or ids). */
  groups: string[];
  /** Unset: the image's user. */
  user?: string;
  readOnlyRoot: boolean;
  /** Mounted as tmpfs (needed beside a read-only root). */
  tmpfs: string[];
  capDrop: string[];
  securityOpt: string[];
  network: 'host' | 'none';
  /** The updater is supervised by the launcher ('no'); Docker restarts the others. */
  restart: 'no' | 'unless-stopped';
  labels: Record<string, string>;
}

/** An AppSpec with its env file read: what a container is created with. */
export interface ContainerSpec extends Omit<AppSpec, 'envFile'> {
  /** The env file's lines, then the spec's own variables. */
  env: string[];
}

/** Where the module keeps what its containers bind, as the host names it. */
export interface ModuleLayout {
  /** Env files, release keys and secrets (tools/base: /etc/growoff); the updater sees it at this path. */
  etcDir: string;
  /** The apps' data folders (tools/base: /var/lib/growoff). */
  dataRoot: string;
  /** The Docker socket on the host. */
  dockerSocket: string;
  /** The host's root, read-only to Telegraf for host metrics. */
  hostRoot: string;
  /** The group id of the Docker socket, for Telegraf's user; unset: read from the socket. */
  dockerGid?: string;
  names: Record<ManagedAppId, string>;
  managedBy: string;
  /** The core's host devices, groups (the i2c group) and extra binds (/sys/bus/w1). */
  coreDevices: string[];
  coreGroups: string[];
  coreVolumes: string[];
}

const ABSOLUTE = String.raw`\/[^:,\s]*`;
const DEVICE = new RegExp(`^${ABSOLUTE}(:${ABSOLUTE})?$`);
const VOLUME = new RegExp(`^${ABSOLUTE}:${ABSOLUTE}(:(ro|rw))?$`);
const GROUP = /^([a-z_][a-z0-9_-]{0,31}|\d{1,10})$/;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$/;

const containerName = (name: string, fallback: string) =>
  variable.string(name, { default: fallback, pattern: CONTAINER_NAME, expected: 'a container name' });

/** A path as the host names it (the updater may not see it, so it is not checked). */
const hostPath = (name: string, fallback: string) =>
  variable.string(name, { default: fallback, pattern: /^\/\S*$/, expected: 'an absolute path' });

/** The environment variables of the module layout; part of the updater's config. */
export const layoutVariables = {
  hostEtcDir: hostPath('GROWOFF_HOST_ETC', '/etc/growoff'),
  hostDataRoot: hostPath('GROWOFF_HOST_DATA', '/var/lib/growoff'),
  hostDockerSocket: hostPath('GROWOFF_HOST_DOCKER_SOCKET', '/var/run/docker.sock'),
  hostRoot: hostPath('GROWOFF_HOST_ROOT', '/'),
  dockerGid: variable.string('GROWOFF_DOCKER_GID', { pattern: /^\d{1,10}$/, expected: 'a group id' }),
  coreContainerName: containerName('GROWOFF_CORE_CONTAINER', 'growoff-core'),
  telegrafContainerName: containerName('GROWOFF_TELEGRAF_CONTAINER', 'growoff-telegraf'),
  tunnelContainerName: containerName('GROWOFF_TUNNEL_CONTAINER', 'growoff-tunnel'),
  updaterContainerName: containerName('GROWOFF_UPDATER_CONTAINER', 'growoff-updater'),
  /** Value of the `growoff.managed-by` label on every container this updater owns. */
  managedBy: variable.string('GROWOFF_MANAGED_BY', { default: 'growoff-updater' }),
  /** Host devices (`/dev/i2c-1` or `/dev/x:/dev/y`) given to the core. */
  coreDevices: variable.list('GROWOFF_CORE_DEVICES', {
    pattern: DEVICE,
    expected: 'an absolute device path (or host:container)',
  }),
  /** Binds (`/host:/container[:ro|rw]`) given to the core beside its data folder. */
  coreVolumes: variable.list('GROWOFF_CORE_VOLUMES', {
    pattern: VOLUME,
    expected: 'a bind mount /host:/container[:ro|rw]',
  }),
  /** Supplementary groups (names or ids, e.g. the host's i2c group) of the core. */
  coreGroups: variable.list('GROWOFF_CORE_GROUPS', { pattern: GROUP, expected: 'a group name or id' }),
};

/** The layout fields of a parsed config holding `layoutVariables`. */
export type LayoutConfig = {
  hostEtcDir: string;
  hostDataRoot: string;
  hostDockerSocket: string;
  hostRoot: string;
  dockerGid?: string;
  coreContainerName: string;
  telegrafContainerName: string;
  tunnelContainerName: string;
  updaterContainerName: string;
  managedBy: string;
  coreDevices: string[];
  coreVolumes: string[];
  coreGroups: string[];
};

export function moduleLayout(config: LayoutConfig): ModuleLayout {
  return {
    etcDir: config.hostEtcDir,
    dataRoot: config.hostDataRoot,
    dockerSocket: config.hostDockerSocket,
    hostRoot: config.hostRoot,
    dockerGid: config.dockerGid,
    names: {
      core: config.coreContainerName,
      telegraf: config.telegrafContainerName,
      tunnel: config.tunnelContainerName,
      updater: config.updaterContainerName,
    },
    managedBy: config.managedBy,
    coreDevices: config.coreDevices,
    coreGroups: config.coreGroups,
    coreVolumes: config.coreVolumes,
  };
}

const LOCKED_DOWN = { capDrop: ['ALL'], securityOpt: ['no-new-privileges'] };

/**
 * Where the core, the tunnel and the updater find the module's broker TLS files (tools/base writes
 * `secrets/mqtt/{ca.pem,client.crt,client.key}` and points GROWOFF_MQTT_CA/_CERT/_KEY here).
 */
export const MQTT_SECRETS_IN_CONTAINER = '/run/secrets/mqtt';

/** The one spec of `app` on a module laid out as `layout`. */
export function appSpec(app: ManagedAppId, layout: ModuleLayout): AppSpec {
  const { etcDir, dataRoot } = layout;
  const mqttSecrets = `${etcDir}/secrets/mqtt:${MQTT_SECRETS_IN_CONTAINER}:ro`;
  const base = {
    app,
    name: layout.names[app],
    envFile: `${etcDir}/${app}.env`,
    env: [],
    devices: [],
    groups: [],
    readOnlyRoot: false,
    tmpfs: [],
    network: 'host' as const,
    restart: 'unless-stopped' as const,
    labels: { [LABEL_APP]: app, [LABEL_MANAGED_BY]: layout.managedBy },
  };
  switch (app) {
    case 'core':
      // The image's `node` user; /dev/i2c-1 through the host's i2c group, by number.
      return {
        ...base,
        ...LOCKED_DOWN,
        binds: [`${dataRoot}/core:/data`, mqttSecrets, ...layout.coreVolumes],
        devices: layout.coreDevices,
        groups: layout.coreGroups,
      };
    case 'telegraf':
      // The official image would drop a --group-add when it switches to its telegraf user, so the
      // Docker socket's group is the user's primary group instead.
      return {
        ...base,
        capDrop: [],
        securityOpt: ['no-new-privileges'],
        binds: [
          `${layout.hostRoot}:/hostfs:ro`,
          `${layout.dockerSocket}:/var/run/docker.sock:ro`,
          `${layout.names.telegraf}:/var/lib/telegraf`,
        ],
        user: `telegraf:${layout.dockerGid ?? socketGroup(layout.dockerSocket)}`,
      };
    case 'tunnel':
      return {
        ...base,
        ...LOCKED_DOWN,
        binds: [
          `${dataRoot}/tunnel:/data`,
          `${etcDir}/secrets/tunnel_ed25519:/run/secrets/tunnel_ed25519:ro`,
          mqttSecrets,
        ],
        readOnlyRoot: true,
        tmpfs: ['/tmp'],
      };
    case 'updater':
      // Root for the Docker socket (root on the host for whoever opens it), every capability
      // dropped. It reads the other apps' env files at their host paths, and its journal, lock
      // and the launcher's state live in its data folder.
      return {
        ...base,
        ...LOCKED_DOWN,
        binds: [
          `${layout.dockerSocket}:${layout.dockerSocket}`,
          `${dataRoot}/updater:/data`,
          `${etcDir}:${etcDir}:ro`,
          mqttSecrets,
        ],
        readOnlyRoot: true,
        tmpfs: ['/tmp'],
        restart: 'no',
      };
  }
}

/** The spec with its env file read; a missing or unreadable env file is a coded error. */
export function resolveSpec(spec: AppSpec): ContainerSpec {
  const { envFile, ...rest } = spec;
  return { ...rest, env: [...readEnvFile(envFile), ...spec.env] };
}

/** KEY=VALUE lines; blank lines and # comments skipped. */
export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UpdaterError(
      'NO_CONTAINER_SPEC',
      `cannot read the env file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && l.includes('='));
}

/**
 * `docker run` arguments for the spec (before the image), as the launcher runs the updater: the env
 * file by path, so the docker CLI reads it on the host.
 */
export function dockerRunArgs(spec: AppSpec, containerName: string): string[] {
  const args = ['--name', containerName, '--network', spec.network, '--restart', spec.restart];
  args.push('--env-file', spec.envFile);
  for (const e of [...spec.env, `${SELF_CONTAINER_VARIABLE}=${containerName}`]) args.push('--env', e);
  for (const b of spec.binds) args.push('--volume', b);
  for (const d of spec.devices) args.push('--device', d);
  for (const g of spec.groups) args.push('--group-add', g);
  if (spec.user) args.push('--user', spec.user);
  if (spec.readOnlyRoot) args.push('--read-only');
  for (const t of spec.tmpfs) args.push('--tmpfs', t);
  for (const c of spec.capDrop) args.push('--cap-drop', c);
  for (const s of spec.securityOpt) args.push('--security-opt', s);
  for (const [k, v] of Object.entries(spec.labels)) args.push('--label', `${k}=${v}`);
  return args;
}

/** `/dev/i2c-1` or `/dev/host:/dev/container` as the engine's device mapping (read and write). */
export function deviceMapping(device: string): {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
} {
  const [onHost, inContainer = onHost] = device.split(':') as [string, string?];
  return { PathOnHost: onHost, PathInContainer: inContainer, CgroupPermissions: 'rwm' };
}

function socketGroup(socket: string): string {
  return existsSync(socket) ? String(statSync(socket).gid) : '0';
}
