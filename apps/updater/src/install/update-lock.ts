import type { UpdateLock } from '@growoff/protocol';

/** How long a lock without its own maxAgeS is honoured. */
export const DEFAULT_LOCK_MAX_AGE_S = 900;

/** The core's update lock from its REST API; null when the core does not answer or has none. */
export async function readUpdateLock(baseUrl: string): Promise<UpdateLock | null> {
  try {
    const res = await fetch(`${baseUrl}/api/v1/update-lock`, { signal: AbortSignal.timeout(2000) });
    if (res.status !== 200) {
      await res.arrayBuffer();
      return null;
    }
    const body = (await res.json()) as UpdateLock;
    return typeof body.held === 'boolean' ? body : null;
  } catch {
    return null;
  }
}

/** Milliseconds the lock still holds the update back; 0 when free or older than its max age. */
export function lockRemainingMs(lock: UpdateLock | null | undefined, now: number): number {
  if (!lock?.held) return 0;
  const since = lock.since ?? now;
  const maxAgeMs = (lock.maxAgeS ?? DEFAULT_LOCK_MAX_AGE_S) * 1000;
  return Math.max(0, since + maxAgeMs - now);
}
