import { isRunning } from './runner';
import { readState, stateFile, type ServiceName, type Services } from './state';

export { startMosquitto, type MosquittoInfo, type MosquittoOptions } from './mosquitto';
export { startSecureMosquitto, type SecureMosquitto, type SecureMosquittoOptions } from './secure-mosquitto';
export { startInfluxDb, type InfluxDbInfo, type InfluxDbOptions } from './influxdb';
export { startRegistry, type RegistryInfo, type RegistryOptions } from './registry';
export { startSshd, fingerprintOf, type SshdInfo, type SshdOptions } from './sshd';
export { startDockerd, ensureNodeBaseImage, NODE_BASE_IMAGE, type DockerInfo } from './dockerd';
export { freePort, isAlive, portAnswers, stopProcess, waitUntil } from './process';
export { jsonWhenUp } from './json-when-up';
export { spawnApp, spawnBuiltApp, type AppExit, type SpawnedApp, type SpawnOptions } from './app-process';
export {
  EXIT_SLACK_MS,
  sigtermAsBrokerStops,
  startAppOnOwnBroker,
  type AppOnOwnBroker,
} from './own-broker-app';
export { ensureDebianPackages, type DebianNeed } from './apt';
export { ARM_ARCHES, armNode, ensureArm, getArm, type ArmArch, type ArmInfo, type ArmTarget } from './arm';
export type { Services, ServiceName } from './state';

/** The shared services' state dir (where services.json is), for caches that belong beside them. */
export function readServicesDir(): string {
  return readState().dir;
}

/**
 * The address of a running shared service, for integration tests. Throws a message that says
 * how to start it when it is not running.
 */
export function getService<N extends ServiceName>(name: N): Services[N] {
  const info = readState().services[name];
  if (!info || !isRunning(name, info.pid)) {
    throw new Error(
      `the ${name} service is not running (state: ${stateFile()}); start it with 'npm run services -- up ${name}' or run 'npm test'`,
    );
  }
  return info as Services[N];
}
export { waitContainerHealthy } from './container-health';
export { TopicWatch } from './topic-watch';
