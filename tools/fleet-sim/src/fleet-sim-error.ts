export type FleetSimErrorCode = 'FLEET_SIM_WORKER_FAILED' | 'FLEET_SIM_BAD_OPTION' | 'FLEET_SIM_TIMEOUT';

export class FleetSimError extends Error {
  constructor(
    readonly code: FleetSimErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FleetSimError';
  }
}
