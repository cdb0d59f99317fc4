import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { MqttConnection } from './connection';

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
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(caFile === undefined ? {} : { ca: readFileSync(caFile) }),
    ...(certFile === undefined ? {} : { cert: readFileSync(certFile) }),
    ...(keyFile === undefined ? {} : { key: readFileSync(keyFile) }),
  };
}
