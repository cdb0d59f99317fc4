import { createHash } from 'node:crypto';

/** Buckets per 100 %: percent granularity is 0.01. */
export const ROLLOUT_BUCKETS = 10_000;

/**
 * A module's fixed place in every rollout, 0..9999: the first 4 bytes of SHA-256(moduleId) as an
 * unsigned big-endian integer, modulo 10000. Stable across restarts, hosts and languages, so
 * widening a rollout only ever adds modules.
 */
export function rolloutBucket(moduleId: string): number {
  return createHash('sha256').update(moduleId, 'utf8').digest().readUInt32BE(0) % ROLLOUT_BUCKETS;
}

/** Whether a module takes a release rolled out to `percent` (0 → nobody, 100 → everybody). */
export function inRollout(moduleId: string, percent: number): boolean {
  return rolloutBucket(moduleId) < Math.round((percent * ROLLOUT_BUCKETS) / 100);
}
