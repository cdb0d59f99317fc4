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
  | 'JOURNAL_CORRUPT';

export class UpdaterError extends Error {
  override readonly name = 'UpdaterError';

  constructor(
    readonly code: UpdaterErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isUpdaterError(value: unknown): value is UpdaterError {
  return value instanceof UpdaterError;
}

/** A one-line message for events and logs, never a stack. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
  }
  return { code: 'INTERNAL', message: String(error) };
}
