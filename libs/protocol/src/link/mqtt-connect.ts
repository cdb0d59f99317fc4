import { createRequire } from 'node:module';
import { createConnection, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parse as parseUrl } from 'node:url';
import MqttClientModule from 'mqtt/lib/client';
import type { IClientOptions, MqttClient } from 'mqtt';

type StreamBuilder = (client: MqttClient) => ReturnType<ConstructorParameters<typeof MqttClient>[0]>;
type BuilderOf = (client: MqttClient, opts: IClientOptions) => ReturnType<StreamBuilder>;

/** mqtt's own transport modules, loaded only for a WebSocket URL or a SOCKS proxy. */
const MQTT_TRANSPORTS = {
  ws: () => import('mqtt/lib/connect/ws').then((m) => m.streamBuilder as BuilderOf),
  tcp: () => import('mqtt/lib/connect/tcp').then(defaultBuilder),
  tls: () => import('mqtt/lib/connect/tls').then(defaultBuilder),
};

/** A CommonJS module's `exports.default`, whether the loader interops it once or twice. */
function defaultBuilder(m: { default: unknown }): BuilderOf {
  const d = m.default as BuilderOf | { default: BuilderOf };
  return typeof d === 'function' ? d : d.default;
}

/**
 * mqtt.js's `connect(url, options)`, the same options and the same client, without loading its
 * WebSocket and SOCKS transports (ws, socks, ip-address: about 2.5 MiB of RSS in each app) for a
 * plain `mqtt:` or `mqtts:` broker. Those stay mqtt.js's own, loaded on demand: a `ws:`/`wss:` URL or
 * `MQTTJS_SOCKS_PROXY` connects once they are (the client exists at once, its first connect waits).
 * The URL and option handling and the TCP and TLS streams follow mqtt.js 5's connect/index, tcp and tls.
 */
export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const parsed = parseUrl(url, true);
  const opts: IClientOptions & { auth?: string; query?: Record<string, unknown>; defaultProtocol?: string } =
    {
      ...(parsed.port === null ? {} : { port: Number(parsed.port) }),
      host: parsed.hostname ?? undefined,
      query: parsed.query as Record<string, string>,
      auth: parsed.auth ?? undefined,
      protocol: parsed.protocol as IClientOptions['protocol'],
      path: parsed.path ?? undefined,
      ...options,
    };
  if (!opts.protocol) throw new Error('Missing protocol');
  opts.protocol = opts.protocol.replace(/:$/, '') as IClientOptions['protocol'];
  if (!opts.protocol!.startsWith('ws')) delete opts.path;
  if (opts.auth) {
    const m = /^(.+):(.+)$/.exec(opts.auth);
    opts.username = m ? m[1] : opts.auth;
    if (m) opts.password = m[2];
  }
  if (typeof opts.query?.clientId === 'string') opts.clientId = opts.query.clientId;
  if (opts.socksProxy === undefined) opts.socksProxy = process.env.MQTTJS_SOCKS_PROXY;
  if (opts.cert && opts.key && opts.protocol !== 'mqtts' && opts.protocol !== 'wss') {
    if (opts.protocol === 'mqtt') opts.protocol = 'mqtts';
    else if (opts.protocol === 'ws') opts.protocol = 'wss';
    else throw new Error(`Unknown protocol for secure connection: "${opts.protocol}"!`);
  }
  if (opts.clean === false && !opts.clientId) throw new Error('Missing clientId for unclean clients');
  opts.defaultProtocol = opts.protocol;

  const protocol: string = opts.protocol!;
  const transport =
    protocol === 'ws' || protocol === 'wss'
      ? 'ws'
      : protocol === 'mqtt' || protocol === 'tcp'
        ? 'tcp'
        : protocol === 'mqtts' || protocol === 'ssl' || protocol === 'tls'
          ? 'tls'
          : undefined;
  if (transport === undefined) throw new Error(`Unknown protocol "${protocol}"`);
  const MqttClientClass =
    (MqttClientModule as unknown as { default?: typeof MqttClient }).default ?? MqttClientModule;

  if (transport !== 'ws' && !opts.socksProxy) {
    const build: BuilderOf = transport === 'tcp' ? tcpStream : tlsStream;
    return withQuietErrors(new MqttClientClass((client) => build(client, opts), opts));
  }
  let build: BuilderOf | undefined;
  // Its first connect waits for the transport; then the client is as mqtt.js makes it.
  const client = new MqttClientClass((c) => build!(c, opts), Object.assign(opts, { manualConnect: true }));
  delete opts.manualConnect;
  MQTT_TRANSPORTS[transport]().then(
    (loaded) => {
      build = loaded;
      if (!client.disconnecting && !client.disconnected) client.connect();
    },
    (error: unknown) => client.emit('error', error as Error),
  );
  return withQuietErrors(client);
}

/** mqtt.js's connect gives every client a listener, so an error nobody else hears is not thrown. */
function withQuietErrors(client: MqttClient): MqttClient {
  client.on('error', () => undefined);
  return client;
}

/** mqtt.js's tcp transport without its SOCKS branch. */
function tcpStream(_client: MqttClient, opts: IClientOptions): ReturnType<StreamBuilder> {
  opts.port = opts.port || 1883;
  opts.hostname = opts.hostname || opts.host || 'localhost';
  return createConnection({ port: opts.port, host: opts.hostname, path: opts.path } as never);
}

/** node:tls, loaded for the first `mqtts:` connection only: about 1 MiB of an app's RSS otherwise. */
let tls: typeof import('node:tls') | undefined;

/** mqtt.js's tls transport without its SOCKS branch. */
function tlsStream(client: MqttClient, opts: IClientOptions): ReturnType<StreamBuilder> {
  tls ??= createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
  opts.port = opts.port || 8883;
  opts.host = opts.hostname || opts.host || 'localhost';
  if (isIP(opts.host) === 0 && !opts.servername) opts.servername = opts.host;
  opts.rejectUnauthorized = opts.rejectUnauthorized !== false;
  delete opts.path;
  const connection: TLSSocket = tls.connect(opts as never);
  const handleTlsErrors = (error: Error) => {
    if (opts.rejectUnauthorized) client.emit('error', error);
    connection.end();
  };
  connection.on('secureConnect', () => {
    if (opts.rejectUnauthorized && !connection.authorized) {
      connection.emit('error', new Error('TLS not authorized'));
    } else {
      connection.removeListener('error', handleTlsErrors);
    }
  });
  connection.on('error', handleTlsErrors);
  return connection;
}
