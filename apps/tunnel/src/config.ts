import {
  defineEnv,
  moduleIdVariable,
  shutdownDeadlineVariable,
  mqttSection,
  parseEnv,
  variable,
  type ConfigIssue,
  type ConfigOf,
} from '@growoff/config';
import { telemetrySection } from '@growoff/telemetry';
import { Type } from '@sinclair/typebox';
import { FINGERPRINT_PATTERN } from './host-key';

/** `host`, `host:port` or `[v6]:port`; the port defaults to SSH's 22. */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

function hostPort(raw: string): { host: string; port: number } {
  const match = HOST_PORT.exec(raw);
  return {
    host: (match?.[1] ?? raw).replace(/^\[|\]$/g, ''),
    port: match?.[2] === undefined ? 22 : Number(match[2]),
  };
}

/** The tunnel's environment (see its README). */
export const TunnelEnv = defineEnv({
  moduleId: moduleIdVariable(),
  /** The telemetry queue (and the file sink when GROWOFF_TELEMETRY_URL is unset) live here. */
  dataDir: variable.path('GROWOFF_DATA_DIR', { default: 'data' }),
  mqtt: mqttSection(),
  telemetry: telemetrySection(),
  bastion: Type.Transform(
    variable.string('GROWOFF_BASTION', {
      required: true,
      pattern: HOST_PORT,
      expected: 'host:port of the bastion',
    }),
  )
    .Decode(hostPort)
    .Encode(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`),
  bastionUser: variable.string('GROWOFF_BASTION_USER', {
    default: 'growoff-tunnel',
    pattern: /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/,
    expected: 'a user name',
  }),
  /** The bastion's host keys, `SHA256:…` as OpenSSH prints them, comma-separated: any one may match. */
  bastionHostKeys: variable.list('GROWOFF_BASTION_HOSTKEY', {
    pattern: FINGERPRINT_PATTERN,
    expected: 'a SHA256:… fingerprint as `ssh-keygen -l -f <host key>.pub` prints it',
  }),
  keyFile: variable.file('GROWOFF_TUNNEL_KEY', {
    default: '/run/secrets/tunnel_ed25519',
    description: "the module's Ed25519 private key",
  }),
  /** Where forwarded connections go on the module: its SSH server. */
  localHost: variable.string('GROWOFF_TUNNEL_LOCAL_HOST', { default: '127.0.0.1' }),
  localPort: variable.port('GROWOFF_TUNNEL_LOCAL_PORT', { default: 22, min: 1 }),
  /** The loopback port on the bastion that the module's key may listen on. */
  remotePort: variable.integer('GROWOFF_TUNNEL_REMOTE_PORT', { required: true, min: 1024, max: 65_535 }),
  maxTtlS: variable.integer('GROWOFF_TUNNEL_MAX_TTL', { default: 8 * 3600, min: 1, max: 7 * 24 * 3600 }),
  alwaysOn: variable.boolean('GROWOFF_TUNNEL_ALWAYS_ON', { default: false }),
  /** A keepalive every interval; the link is dead after `keepaliveCountMax` more go unanswered. */
  keepaliveIntervalMs: variable.seconds('GROWOFF_TUNNEL_KEEPALIVE_INTERVAL', {
    default: 8,
    min: 0.05,
    max: 60,
  }),
  keepaliveCountMax: variable.integer('GROWOFF_TUNNEL_KEEPALIVE_COUNT_MAX', { default: 2, min: 1, max: 10 }),
  /** The end-to-end probe through the bastion while open; 0 turns it off. */
  probeIntervalMs: variable.seconds('GROWOFF_TUNNEL_PROBE_INTERVAL', { default: 60, min: 0, max: 3600 }),
  probeTimeoutMs: variable.seconds('GROWOFF_TUNNEL_PROBE_TIMEOUT', { default: 10, min: 0.1, max: 120 }),
  /** Failed probes in a row before the session (and the engineers' connections in it) is remade. */
  probeFailuresMax: variable.integer('GROWOFF_TUNNEL_PROBE_FAILURES', { default: 3, min: 1, max: 100 }),
  /** Reconnect delays: exponential from min to max, with jitter. */
  backoffMinMs: variable.seconds('GROWOFF_TUNNEL_BACKOFF_MIN', { default: 1, min: 0.01, max: 600 }),
  backoffMaxMs: variable.seconds('GROWOFF_TUNNEL_BACKOFF_MAX', { default: 60, min: 0.01, max: 3600 }),
  /** Refusals of the remote port (a dead session may still hold it) before the status says error. */
  portBusyRetries: variable.integer('GROWOFF_TUNNEL_PORT_BUSY_RETRIES', { default: 5, min: 0, max: 1000 }),
  connectTimeoutMs: variable.seconds('GROWOFF_TUNNEL_CONNECT_TIMEOUT', { default: 20, min: 0.1, max: 300 }),
  shutdownDeadlineMs: shutdownDeadlineVariable(),
});

export type TunnelConfig = ConfigOf<typeof TunnelEnv>;

/** The tunnel's configuration from the environment; bad values throw one CONFIG_INVALID naming each variable. */
export function tunnelConfigFromEnv(env: NodeJS.ProcessEnv): TunnelConfig {
  return parseEnv(TunnelEnv, env, {
    refine: (c) => {
      const issues: ConfigIssue[] = [];
      if (c.bastion.port < 1 || c.bastion.port > 65_535) {
        issues.push({
          variable: 'GROWOFF_BASTION',
          expected: 'a port from 1 to 65535',
          got: String(c.bastion.port),
        });
      }
      if (c.bastionHostKeys.length === 0) {
        issues.push({
          variable: 'GROWOFF_BASTION_HOSTKEY',
          expected: 'the bastion host key fingerprint(s), SHA256:…, comma-separated',
          missing: true,
        });
      }
      if (c.backoffMaxMs < c.backoffMinMs) {
        issues.push({
          variable: 'GROWOFF_TUNNEL_BACKOFF_MAX',
          expected: 'not below GROWOFF_TUNNEL_BACKOFF_MIN',
        });
      }
      return issues;
    },
  });
}
