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
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(caFile === undefined ? {} : { ca: readFileSync(caFile) }),
    ...(certFile === undefined ? {} : { cert: readFileSync(certFile) }),
    ...(keyFile === undefined ? {} : { key: readFileSync(keyFile) }),
  };
}
