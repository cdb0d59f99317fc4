import { CodedError } from '@growoff/protocol';

/** What the fleet CLI refuses, as `CODE: message` on stderr (no stack traces for users). */
export type FleetErrorCode =
  /** Unknown command or option, or a missing required option. */
  | 'FLEET_USAGE'
  /** An option or environment variable with a value that cannot be used. */
  | 'FLEET_BAD_OPTION'
  /** keygen would overwrite an existing key (use --force). */
  | 'FLEET_KEY_EXISTS'
  /** A file (key, payload, envelope) that cannot be read or parsed. */
  | 'FLEET_BAD_FILE'
  /** The broker cannot be reached. */
  | 'FLEET_MQTT_UNREACHABLE'
  /** rollout on a channel that has no release, or one this CLI cannot verify. */
  | 'FLEET_NO_RELEASE'
  /** rollout to a lower percent than the channel's current one (without --force). */
  | 'FLEET_ROLLOUT_NARROWING'
  /** publish of a pre-signed envelope whose sequence is not above the retained one. */
  | 'FLEET_STALE_SEQUENCE';

export class FleetError extends CodedError<FleetErrorCode> {
  override readonly name = 'FleetError';

  constructor(code: FleetErrorCode, message: string) {
    super(code, message);
  }
}
