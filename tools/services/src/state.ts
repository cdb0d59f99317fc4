import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DockerInfo } from './dockerd';
import type { InfluxDbInfo } from './influxdb';
import type { MosquittoInfo } from './mosquitto';
import type { RegistryInfo } from './registry';
import type { SshdInfo } from './sshd';

export interface Services {
  mosquitto: MosquittoInfo;
  influxdb: InfluxDbInfo;
  docker: DockerInfo;
  registry: RegistryInfo;
  sshd: SshdInfo;
}

export type ServiceName = keyof Services;
export const SERVICE_NAMES: ServiceName[] = ['mosquitto', 'influxdb', 'registry', 'sshd', 'docker'];

export interface ServicesState {
  dir: string;
  services: Partial<Services>;
}

/** Where the runner keeps its services' data; override with GROWOFF_SERVICES_DIR. */
export function servicesDir(): string {
  return process.env.GROWOFF_SERVICES_DIR ?? join(tmpdir(), 'growoff-services');
}

export function stateFile(dir = servicesDir()): string {
  return process.env.GROWOFF_SERVICES_FILE ?? join(dir, 'services.json');
}

export function readState(dir = servicesDir()): ServicesState {
  const file = stateFile(dir);
  if (!existsSync(file)) return { dir, services: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as ServicesState;
}

export function writeState(state: ServicesState): void {
  const file = stateFile(state.dir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}
