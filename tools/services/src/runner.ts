import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages, type DebianNeed } from './apt';
import { DOCKERD_BINARY, startDockerd } from './dockerd';
import { INFLUXD_BINARY, startInfluxDb } from './influxdb';
import { MOSQUITTO_BINARY, startMosquitto } from './mosquitto';
import { commandLineOf, isAlive, stopProcess } from './process';
import { REGISTRY_BINARY, startRegistry } from './registry';
import { SSHD_BINARY, startSshd } from './sshd';
import { readState, SERVICE_NAMES, servicesDir, writeState, type ServiceName, type Services } from './state';

/** The fixed, non-default loopback ports of the shared instances. */
export const PORTS = { mosquitto: 18830, influxdb: 18086, influxdbRpc: 18088, registry: 15000, sshd: 12222 };

const NEEDS: Record<ServiceName, DebianNeed[]> = {
  mosquitto: [
    { file: MOSQUITTO_BINARY, package: 'mosquitto' },
    { file: '/usr/bin/mosquitto_passwd', package: 'mosquitto' },
  ],
  influxdb: [{ file: INFLUXD_BINARY, package: 'influxdb' }],
  registry: [
    { file: REGISTRY_BINARY, package: 'docker-registry' },
    { file: '/usr/bin/htpasswd', package: 'apache2-utils' },
  ],
  sshd: [
    { file: SSHD_BINARY, package: 'openssh-server' },
    { file: '/usr/bin/ssh', package: 'openssh-client' },
  ],
  docker: [
    { file: DOCKERD_BINARY, package: 'docker.io' },
    { file: '/bin/busybox', package: 'busybox-static' },
  ],
};

const BINARIES: Record<ServiceName, string> = {
  mosquitto: MOSQUITTO_BINARY,
  influxdb: INFLUXD_BINARY,
  registry: REGISTRY_BINARY,
  sshd: SSHD_BINARY,
  docker: DOCKERD_BINARY,
};

/** Alive and still the program we started: a recorded pid may since belong to something else. */
export function isRunning(name: ServiceName, pid: number | undefined): boolean {
  return isAlive(pid) && commandLineOf(pid as number).includes(BINARIES[name]);
}

async function start<N extends ServiceName>(name: N, dir: string): Promise<Services[N]> {
  const home = join(dir, name);
  switch (name) {
    case 'mosquitto':
      return (await startMosquitto({ dir: home, port: PORTS.mosquitto })) as Services[N];
    case 'influxdb':
      return (await startInfluxDb({
        dir: home,
        port: PORTS.influxdb,
        rpcPort: PORTS.influxdbRpc,
      })) as Services[N];
    case 'registry':
      return (await startRegistry({ dir: home, port: PORTS.registry })) as Services[N];
    case 'sshd':
      return (await startSshd({ dir: home, port: PORTS.sshd })) as Services[N];
    case 'docker':
      return (await startDockerd({ dir: home })) as Services[N];
    default:
      throw new Error(`unknown service ${String(name)}`);
  }
}

export interface UpResult {
  started: ServiceName[];
  reused: ServiceName[];
}

/** Starts the named services that are not already running; reuses those this runner started before. */
export async function up(names: ServiceName[] = SERVICE_NAMES): Promise<UpResult> {
  const dir = servicesDir();
  mkdirSync(dir, { recursive: true });
  const state = readState(dir);
  const result: UpResult = { started: [], reused: [] };
  const toStart = names.filter((name) => !isRunning(name, state.services[name]?.pid));
  ensureDebianPackages(toStart.flatMap((name) => NEEDS[name]));
  for (const name of names) {
    if (!toStart.includes(name)) {
      result.reused.push(name);
      continue;
    }
    process.stderr.write(`services: starting ${name}\n`);
    const info = await start(name, dir);
    state.services = { ...state.services, [name]: info };
    writeState(state);
    result.started.push(name);
  }
  return result;
}

/** Stops the named services, by the pid this runner recorded; never anything it did not start. */
export async function down(names: ServiceName[] = SERVICE_NAMES): Promise<ServiceName[]> {
  const state = readState();
  const stopped: ServiceName[] = [];
  for (const name of names) {
    const info = state.services[name];
    if (!info) continue;
    if (isRunning(name, info.pid)) {
      await stopProcess(info.pid, 20_000);
      stopped.push(name);
    }
    delete state.services[name];
    writeState(state);
  }
  return stopped;
}

export function status(): Record<ServiceName, 'running' | 'stopped'> {
  const state = readState();
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, isRunning(name, state.services[name]?.pid) ? 'running' : 'stopped']),
  ) as Record<ServiceName, 'running' | 'stopped'>;
}
