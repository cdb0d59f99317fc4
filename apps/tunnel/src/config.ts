import { resolve } from 'node:path';
import { FINGERPRINT_PATTERN } from './host-key';
import { TunnelError } from './tunnel-error';

export interface TunnelConfig {
  moduleId: string;
  /** The telemetry queue (and the file sink when GROWOFF_TELEMETRY_URL is unset) live here. */
  dataDir: string;
  mqttUrl: string;
  bastionHost: string;
  bastionPort: number;
  bastionUser: string;
  /** The bastion's host key, `SHA256:…` as OpenSSH prints it. */
  bastionHostKey: string;
  keyFile: string;
  /** Where forwarded connections go on the module: its SSH server. */
  localHost: string;
  localPort: number;
  /** The loopback port on the bastion that the module's key may listen on. */
  remotePort: number;
  maxTtlS: number;
  alwaysOn: boolean;
  /** A keepalive every interval; the link is dead after `keepaliveCountMax` more go unanswered. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** The end-to-end probe through the bastion while open; 0 turns it off. */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** Reconnect delays: exponential from min to max, with jitter. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Refusals of the remote port (a dead session may still hold it) before the status says error. */
  portBusyRetries: number;
  connectTimeoutMs: number;
  /** SIGTERM to exit, whatever the broker and the bastion do. */
  shutdownDeadlineMs: number;
}

const MODULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function bad(variable: string, message: string): never {
  throw new TunnelError('TUNNEL_BAD_CONFIG', `${variable}: ${message}`, { variable });
}

function text(env: NodeJS.ProcessEnv, name: string, fallback?: string): string {
  const value = env[name]?.trim();
  if (value) return value;
  if (fallback !== undefined) return fallback;
  return bad(name, 'is required');
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback ?? bad(name, 'is required');
  if (!/^\d+$/.test(raw)) bad(name, `"${raw}" is not a whole number`);
  const value = Number(raw);
  if (value < min || value > max) bad(name, `${value} is outside ${min}..${max}`);
  return value;
}

/** Seconds, fractions allowed (tests use short intervals); returned in milliseconds. */
function seconds(env: NodeJS.ProcessEnv, name: string, fallbackS: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallbackS * 1000;
  if (!/^\d+(\.\d+)?$/.test(raw)) bad(name, `"${raw}" is not a number of seconds`);
  const value = Number(raw);
  if (value < min || value > max) bad(name, `${value} s is outside ${min}..${max} s`);
  return Math.round(value * 1000);
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  return bad(name, `"${raw}" is not on/off`);
}

function hostPort(name: string, raw: string): { host: string; port: number } {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(raw);
  if (!match?.[1]) bad(name, `"${raw}" is not host:port`);
  const port = match[2] === undefined ? 22 : Number(match[2]);
  if (port < 1 || port > 65535) bad(name, `port ${port} is outside 1..65535`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** The tunnel's configuration from the environment; a bad value is refused naming its variable. */
export function tunnelConfigFromEnv(env: NodeJS.ProcessEnv): TunnelConfig {
  const moduleId = text(env, 'GROWOFF_MODULE_ID', 'dev-module');
  if (!MODULE_ID.test(moduleId)) bad('GROWOFF_MODULE_ID', `"${moduleId}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  const mqttUrl = text(env, 'GROWOFF_MQTT_URL', 'mqtt://127.0.0.1:1883');
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqttUrl))
    bad('GROWOFF_MQTT_URL', 'must be an mqtt://, mqtts://, ws:// or wss:// URL');
  const bastion = hostPort('GROWOFF_BASTION', text(env, 'GROWOFF_BASTION'));
  const bastionUser = text(env, 'GROWOFF_BASTION_USER', 'growoff-tunnel');
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(bastionUser))
    bad('GROWOFF_BASTION_USER', `"${bastionUser}" is not a user name`);
  const bastionHostKey = text(env, 'GROWOFF_BASTION_HOSTKEY');
  if (!FINGERPRINT_PATTERN.test(bastionHostKey)) {
    bad(
      'GROWOFF_BASTION_HOSTKEY',
      'must be the SHA256:… fingerprint as `ssh-keygen -l -f <host key>.pub` prints it',
    );
  }
  const keepaliveIntervalMs = seconds(env, 'GROWOFF_TUNNEL_KEEPALIVE_INTERVAL', 8, 0.05, 60);
  const keepaliveCountMax = integer(env, 'GROWOFF_TUNNEL_KEEPALIVE_COUNT_MAX', 2, 1, 10);
  const backoffMinMs = seconds(env, 'GROWOFF_TUNNEL_BACKOFF_MIN', 1, 0.01, 600);
  const backoffMaxMs = seconds(env, 'GROWOFF_TUNNEL_BACKOFF_MAX', 60, 0.01, 3600);
  if (backoffMaxMs < backoffMinMs)
    bad('GROWOFF_TUNNEL_BACKOFF_MAX', 'must not be below GROWOFF_TUNNEL_BACKOFF_MIN');
  return {
    moduleId,
    dataDir: resolve(text(env, 'GROWOFF_DATA_DIR', 'data')),
    mqttUrl,
    bastionHost: bastion.host,
    bastionPort: bastion.port,
    bastionUser,
    bastionHostKey,
    keyFile: text(env, 'GROWOFF_TUNNEL_KEY', '/run/secrets/tunnel_ed25519'),
    localHost: text(env, 'GROWOFF_TUNNEL_LOCAL_HOST', '127.0.0.1'),
    localPort: integer(env, 'GROWOFF_TUNNEL_LOCAL_PORT', 22, 1, 65535),
    remotePort: integer(env, 'GROWOFF_TUNNEL_REMOTE_PORT', undefined, 1024, 65535),
    maxTtlS: integer(env, 'GROWOFF_TUNNEL_MAX_TTL', 8 * 3600, 1, 7 * 24 * 3600),
    alwaysOn: flag(env, 'GROWOFF_TUNNEL_ALWAYS_ON', false),
    keepaliveIntervalMs,
    keepaliveCountMax,
    probeIntervalMs: seconds(env, 'GROWOFF_TUNNEL_PROBE_INTERVAL', 60, 0, 3600),
    probeTimeoutMs: seconds(env, 'GROWOFF_TUNNEL_PROBE_TIMEOUT', 10, 0.1, 120),
    backoffMinMs,
    backoffMaxMs,
    portBusyRetries: integer(env, 'GROWOFF_TUNNEL_PORT_BUSY_RETRIES', 5, 0, 1000),
    connectTimeoutMs: seconds(env, 'GROWOFF_TUNNEL_CONNECT_TIMEOUT', 20, 0.1, 300),
    shutdownDeadlineMs: integer(env, 'GROWOFF_SHUTDOWN_DEADLINE_MS', 5000, 100, 600_000),
  };
}

/** The configuration as printed at start: credentials in the MQTT URL are masked. */
export function describeConfig(config: TunnelConfig): Record<string, unknown> {
  let mqttUrl = config.mqttUrl;
  try {
    const url = new URL(config.mqttUrl);
    if (url.username || url.password) {
      url.username = url.username ? '***' : '';
      url.password = url.password ? '***' : '';
      mqttUrl = url.toString();
    }
  } catch {
    mqttUrl = '***';
  }
  return { ...config, mqttUrl };
}
