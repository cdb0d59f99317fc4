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
  /** A release the store does not hold, or a channel without a release this CLI can verify. */
  | 'FLEET_NO_RELEASE'
  /** rollout to a lower percent than the channel's current one (without --force). */
  | 'FLEET_ROLLOUT_NARROWING'
  /** publish of a pre-signed envelope whose sequence is not above the retained one. */
  | 'FLEET_STALE_SEQUENCE'
  /** Another command holds the release store's counter (for more than 10 s). */
  | 'FLEET_STORE_LOCKED'
  /** A release name that already names other images (a name is never reused). */
  | 'FLEET_RELEASE_EXISTS'
  /** promote of a candidate whose pre-release checklist has open items. */
  | 'FLEET_CHECKLIST_INCOMPLETE'
  /** delete of a release that a channel or a pin names, or that a module still runs. */
  | 'FLEET_RELEASE_IN_USE'
  /** ECR refused or failed PutImage / BatchDeleteImage / BatchGetImage. */
  | 'FLEET_ECR'
  /** git failed: no repository here, or the tag could not be made. */
  | 'FLEET_GIT'
  /** The release's git tag exists on another commit. */
  | 'FLEET_GIT_TAG_EXISTS';

export class FleetError extends CodedError<FleetErrorCode> {
  override readonly name = 'FleetError';

  constructor(code: FleetErrorCode, message: string) {
    super(code, message);
  }
}
