export { FleetSim, INITIAL_IMAGE, type FleetSimOptions } from './fleet-sim';
export { FleetSimError, type FleetSimErrorCode } from './fleet-sim-error';
export {
  FleetObserver,
  type FleetObserverOptions,
  type ReadingTimeliness,
  type UpdaterStatusSeen,
} from './fleet-observer';
export { renderProgress } from './progress-view';
export { DEFAULT_SIM_SENSORS, readingsPerSecond, scaledSensors, type SimSensor } from './sim-profile';
export { SimulatedModule, type SimulatedModuleOptions, type UpdatePhase } from './simulated-module';
export type { WorkerStats } from './worker-protocol';
export { writeFleetCredentials, urlWithCredentials, type FleetCredentials } from './fleet-credentials';
export { DocumentPublisher } from './document-publisher';
