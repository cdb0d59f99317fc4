import type { ManagedContainers } from '../engine/managed-containers';
import type { CoreStatusWatch } from './core-status-watch';

export interface HealthGateOptions {
  containers: ManagedContainers;
  containerId: string;
  deadlineMs: number;
  /** The core's /health URL; unset for apps without one (Telegraf). */
  healthUrl?: string;
  /** Set when the gate waits for `core/status` online. */
  coreStatus?: CoreStatusWatch;
  /** How long a container without checks must keep running to pass. */
  settleMs?: number;
  onCheck?(state: HealthGateState): void;
}

export interface HealthGateState {
  running: boolean;
  dockerHealth: 'healthy' | 'none' | 'waiting' | 'unhealthy';
  http: 'ok' | 'waiting' | 'skipped';
  mqtt: 'online' | 'waiting' | 'skipped';
}

export type HealthGateResult =
  { ok: true; ms: number } | { ok: false; reason: string; state?: HealthGateState };

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Passes when, within the deadline, the container runs, Docker calls it healthy (when the image has
 * a HEALTHCHECK), its /health answers 200 and `core/status` says online since it started.
 * Fails early when the container exits or Docker calls it unhealthy.
 */
export async function runHealthGate(options: HealthGateOptions): Promise<HealthGateResult> {
  const started = Date.now();
  let state: HealthGateState | undefined;
  while (Date.now() - started < options.deadlineMs) {
    const container = await options.containers.inspect(options.containerId);
    if (!container) return { ok: false, reason: 'the container disappeared' };
    const running = container.running && !container.restarting;
    if (!running && container.restartCount > 0) {
      return {
        ok: false,
        reason: `the container exited (${container.status}, ${container.restartCount} restarts)`,
      };
    }
    if (!running && container.status === 'exited') return { ok: false, reason: 'the container exited' };
    const dockerHealth =
      container.health === undefined || container.health === ''
        ? 'none'
        : container.health === 'healthy'
          ? 'healthy'
          : container.health === 'unhealthy'
            ? 'unhealthy'
            : 'waiting';
    if (dockerHealth === 'unhealthy') return { ok: false, reason: 'Docker reports the container unhealthy' };
    const http = options.healthUrl
      ? (await answersHealth(options.healthUrl))
        ? 'ok'
        : 'waiting'
      : 'skipped';
    const mqtt = options.coreStatus
      ? options.coreStatus.onlineSince(container.startedAt)
        ? 'online'
        : 'waiting'
      : 'skipped';
    state = { running, dockerHealth, http, mqtt };
    options.onCheck?.(state);
    const settled = Date.now() - container.startedAt >= (options.settleMs ?? 0);
    if (running && dockerHealth !== 'waiting' && http !== 'waiting' && mqtt !== 'waiting' && settled) {
      return { ok: true, ms: Date.now() - started };
    }
    await delay(250);
  }
  const waiting = state
    ? Object.entries(state)
        .filter(([, v]) => v === 'waiting' || v === false)
        .map(([k]) => k)
    : ['running'];
  return {
    ok: false,
    reason: `not healthy within ${options.deadlineMs} ms (waiting for ${waiting.join(', ')})`,
    state,
  };
}

async function answersHealth(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
