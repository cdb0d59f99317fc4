import { CodedError } from '@growoff/protocol';

export type FleetSimErrorCode = 'FLEET_SIM_WORKER_FAILED' | 'FLEET_SIM_BAD_OPTION' | 'FLEET_SIM_TIMEOUT';

export class FleetSimError extends CodedError<FleetSimErrorCode> {
  override readonly name = 'FleetSimError';

  constructor(code: FleetSimErrorCode, message: string) {
    super(code, message);
  }
}
