import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { MqttConnection } from './connection';

/** mqtt.js's log when no DEBUG namespace is on: nothing to build or allocate per packet. */
const noLog = (): void => undefined;

/**
 * The mqtt.js options every client of the workspace builds from the one connection section:
 * protocol version, credentials and TLS files. Callers add client id, will and timing.
 */
export function mqttClientOptions(connection: MqttConnection): IClientOptions {
  const { protocolVersion, username, password, caFile, certFile, keyFile } = connection;
  return {
    protocolVersion,
    // mqtt.js otherwise pre-builds 65,536 two-byte Buffers (about 8 MB of heap, 15 MB of RSS) to
    // save one tiny allocation per packet id; a module sends a few packets a second.
    writeCache: false,
    // mqtt.js logs through `debug`, whose rest parameters allocate an array on each of its several
    // calls per packet even when no namespace is on. With DEBUG set (e.g. DEBUG=mqttjs*) it logs as ever.
    ...(process.env.DEBUG ? {} : { log: noLog }),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(caFile === undefined ? {} : { ca: readFileSync(caFile) }),
    ...(certFile === undefined ? {} : { cert: readFileSync(certFile) }),
    ...(keyFile === undefined ? {} : { key: readFileSync(keyFile) }),
  };
}
