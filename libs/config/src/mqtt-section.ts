import type { MqttConnection } from '@growoff/protocol';
import { Type, type StaticDecode } from '@sinclair/typebox';
import { defineEnv, parseEnv, type Env } from './parse-env';
import { file, oneOf, string, url } from './variables';

/** The schemes every client accepts: plain and TLS MQTT, plain and TLS WebSocket. */
export const MQTT_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;

/** The broker a module's own apps reach when none is configured (the core's embedded one). */
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

/** The one place the `GROWOFF_MQTT_*` connection variables are declared. */
function mqttVariables() {
  return defineEnv({
    url: url('GROWOFF_MQTT_URL', { schemes: MQTT_SCHEMES, description: 'the broker' }),
    username: string('GROWOFF_MQTT_USERNAME', { description: 'broker user name' }),
    password: string('GROWOFF_MQTT_PASSWORD', { secret: true, description: 'broker password' }),
    caFile: file('GROWOFF_MQTT_CA', { description: 'PEM CA bundle the broker certificate must chain to' }),
    certFile: file('GROWOFF_MQTT_CERT', { description: 'PEM client certificate' }),
    keyFile: file('GROWOFF_MQTT_KEY', { description: 'PEM key of the client certificate' }),
    protocolVersion: oneOf('GROWOFF_MQTT_PROTOCOL_VERSION', ['5', '4'], {
      description: 'MQTT 5 (default) or 4 (3.1.1)',
    }),
  });
}

type MqttVariables = StaticDecode<ReturnType<typeof mqttVariables>>;

function connectionOf(v: MqttVariables, url: string): MqttConnection {
  return {
    url,
    protocolVersion: v.protocolVersion === '4' ? 4 : 5,
    ...(v.username === undefined ? {} : { username: v.username }),
    ...(v.password === undefined ? {} : { password: v.password }),
    ...(v.caFile === undefined ? {} : { caFile: v.caFile }),
    ...(v.certFile === undefined ? {} : { certFile: v.certFile }),
    ...(v.keyFile === undefined ? {} : { keyFile: v.keyFile }),
  };
}

/** The MQTT connection section of an app's environment: read as an `MqttConnection`. */
export function mqttSection(defaultUrl: string = DEFAULT_MQTT_URL) {
  return Type.Transform(mqttVariables())
    .Decode((v): MqttConnection => connectionOf(v, v.url ?? defaultUrl))
    .Encode((c) => ({ ...c, protocolVersion: c.protocolVersion === 4 ? ('4' as const) : ('5' as const) }));
}

/** As `mqttSection`, but an unset `GROWOFF_MQTT_URL` reads as undefined (the core then embeds a broker). */
export function optionalMqttSection() {
  return Type.Transform(mqttVariables())
    .Decode((v): MqttConnection | undefined => (v.url === undefined ? undefined : connectionOf(v, v.url)))
    .Encode((c) =>
      c === undefined
        ? {}
        : { ...c, protocolVersion: c.protocolVersion === 4 ? ('4' as const) : ('5' as const) },
    );
}

/**
 * The MQTT section read on its own, for tools: `url` (e.g. a `--mqtt-url` flag) comes before
 * GROWOFF_MQTT_URL and is checked the same way. Throws CONFIG_INVALID.
 */
export function mqttConnectionFromEnv(
  env: Env,
  options: { url?: string; cwd?: string } = {},
): MqttConnection {
  const given = options.url === undefined ? env : { ...env, GROWOFF_MQTT_URL: options.url };
  return parseEnv(defineEnv({ mqtt: mqttSection() }), given, { cwd: options.cwd }).mqtt;
}
