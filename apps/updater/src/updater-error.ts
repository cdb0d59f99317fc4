import { CodedError } from '@growoff/protocol';

/** Why the updater refused or failed something; events and the REST API carry the code. */
export type UpdaterErrorCode =
  | 'IMAGE_REPO_MISMATCH'
  | 'IMAGE_NOT_BY_DIGEST'
  | 'REGISTRY_AUTH_FAILED'
  | 'REGISTRY_UNREACHABLE'
  | 'PULL_FAILED'
  | 'DISK_SPACE_LOW'
  | 'HEALTH_GATE_FAILED'
  | 'CRASH_LOOP'
  | 'NO_CONTAINER_SPEC'
  | 'ENGINE_FAILED'
  | 'JOURNAL_CORRUPT'
  | 'JOURNAL_WRITE_FAILED'
  | 'HEALTH_VERSION_MISMATCH'
  | 'HEALTH_DEGRADED'
  | 'BROKER_DOWN'
  | 'ROLLBACK_FAILED';

export class UpdaterError extends CodedError<UpdaterErrorCode> {
  override readonly name = 'UpdaterError';
}

export function isUpdaterError(value: unknown): value is UpdaterError {
  return value instanceof UpdaterError;
}
