import type { ManagedContainers } from '../engine/managed-containers';
import type { UpdaterErrorCode } from '../updater-error';
import type { CoreStatusWatch } from './core-status-watch';

/** The reasons a core's `/health` gives for `degraded` (apps/core), the ones a gate may tolerate. */
export const CORE_HEALTH_REASONS = ['mqtt', 'sensors', 'devices', 'actuators', 'hardware'] as const;

export interface HealthGateOptions {
  containers: ManagedContainers;
  containerId: string;
  deadlineMs: number;
  /** The core's /health URL; unset for apps without one (Telegraf). */
  healthUrl?: string;
  /** The version /health must report: the release's. */
  expectVersion?: string;
  /** `degraded` reasons that still pass (GROWOFF_HEALTH_TOLERATE). */
  tolerate?: readonly string[];
  /** Set when the gate waits for `core/status` online. */
  coreStatus?: CoreStatusWatch;
  /** Whether the updater itself reaches the broker: a gate that fails only on MQTT while it does not is not the image's fault. */
  brokerReachable?: () => boolean;
  /** How long a container without checks must keep running to pass. */
  settleMs?: number;
  onCheck?(state: HealthGateState): void;
}

export interface HealthGateState {
  running: boolean;
  dockerHealth: 'healthy' | 'none' | 'waiting' | 'unhealthy';
  http: 'ok' | 'waiting' | 'degraded' | 'skipped';
  /** The reasons of the last `degraded` answer that are not tolerated. */
  degraded?: string[];
  mqtt: 'online' | 'waiting' | 'skipped';
}

export type HealthGateResult =
  | { ok: true; ms: number }
  | {
      ok: false;
      reason: string;
      code: UpdaterErrorCode;
      /** True when it failed only on MQTT while the broker was down: the image is not to blame. */
      brokerDown?: boolean;
      state?: HealthGateState;
    };

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Passes when, within the deadline, the container runs, Docker calls it healthy (when the image has
 * a HEALTHCHECK), its /health answers 200 with `status` ok (or degraded for tolerated reasons only)
 * and the release's version, and `core/status` says online since it started.
 * Fails early when the container exits, Docker calls it unhealthy or it runs another version.
 */
export async function runHealthGate(options: HealthGateOptions): Promise<HealthGateResult> {
  const started = Date.now();
  let state: HealthGateState | undefined;
  let brokerWasDown = false;
  while (Date.now() - started < options.deadlineMs) {
    if (options.brokerReachable && !options.brokerReachable()) brokerWasDown = true;
    const container = await options.containers.inspect(options.containerId);
    if (!container) return { ok: false, reason: 'the container disappeared', code: 'HEALTH_GATE_FAILED' };
    const running = container.running && !container.restarting;
    if (!running && container.restartCount > 0) {
      return {
        ok: false,
        reason: `the container exited (${container.status}, ${container.restartCount} restarts)`,
        code: 'HEALTH_GATE_FAILED',
      };
    }
    if (!running && container.status === 'exited') {
      return { ok: false, reason: 'the container exited', code: 'HEALTH_GATE_FAILED' };
    }
    const dockerHealth =
      container.health === undefined || container.health === ''
        ? 'none'
        : container.health === 'healthy'
          ? 'healthy'
          : container.health === 'unhealthy'
            ? 'unhealthy'
            : 'waiting';
    if (dockerHealth === 'unhealthy') {
      return { ok: false, reason: 'Docker reports the container unhealthy', code: 'HEALTH_GATE_FAILED' };
    }
    const answer = options.healthUrl ? await askHealth(options.healthUrl) : undefined;
    if (answer?.version !== undefined && options.expectVersion && answer.version !== options.expectVersion) {
      return {
        ok: false,
        reason: `it runs version ${answer.version}, the release names ${options.expectVersion}`,
        code: 'HEALTH_VERSION_MISMATCH',
      };
    }
    const degraded = answer?.reasons?.filter((r) => !(options.tolerate ?? []).includes(r));
    const http: HealthGateState['http'] = !answer
      ? 'skipped'
      : answer.kind === 'ok' || (answer.kind === 'degraded' && degraded!.length === 0)
        ? 'ok'
        : answer.kind === 'degraded'
          ? 'degraded'
          : 'waiting';
    const mqtt = options.coreStatus
      ? options.coreStatus.onlineSince(container.startedAt)
        ? 'online'
        : 'waiting'
      : 'skipped';
    state = { running, dockerHealth, http, mqtt, ...(http === 'degraded' ? { degraded } : {}) };
    options.onCheck?.(state);
    const settled = Date.now() - container.startedAt >= (options.settleMs ?? 0);
    if (
      running &&
      dockerHealth !== 'waiting' &&
      (http === 'ok' || http === 'skipped') &&
      mqtt !== 'waiting' &&
      settled
    ) {
      return { ok: true, ms: Date.now() - started };
    }
    await delay(250);
  }
  return timedOut(options.deadlineMs, state, brokerWasDown);
}

function timedOut(
  deadlineMs: number,
  state: HealthGateState | undefined,
  brokerWasDown: boolean,
): HealthGateResult {
  if (!state) {
    return { ok: false, reason: `not healthy within ${deadlineMs} ms`, code: 'HEALTH_GATE_FAILED' };
  }
  const waiting = [
    ...(state.running ? [] : ['running']),
    ...(state.dockerHealth === 'waiting' ? ['dockerHealth'] : []),
    ...(state.http === 'waiting' ? ['http'] : []),
    ...(state.http === 'degraded' ? [`/health degraded (${state.degraded!.join(', ')})`] : []),
    ...(state.mqtt === 'waiting' ? ['mqtt'] : []),
  ];
  const onlyMqtt =
    state.running &&
    state.dockerHealth !== 'waiting' &&
    state.http !== 'waiting' &&
    (state.http !== 'degraded' || state.degraded!.every((r) => r === 'mqtt')) &&
    (state.mqtt === 'waiting' || state.http === 'degraded');
  const reason = `not healthy within ${deadlineMs} ms (waiting for ${waiting.join(', ')})`;
  if (onlyMqtt && brokerWasDown) {
    return {
      ok: false,
      reason: `${reason} while the broker was down`,
      code: 'BROKER_DOWN',
      brokerDown: true,
      state,
    };
  }
  return {
    ok: false,
    reason,
    code: state.http === 'degraded' ? 'HEALTH_DEGRADED' : 'HEALTH_GATE_FAILED',
    state,
  };
}

type HealthAnswer =
  | { kind: 'ok'; version?: string; reasons?: undefined }
  | { kind: 'degraded'; version?: string; reasons: string[] }
  | { kind: 'none'; version?: undefined; reasons?: undefined };

/** The core's /health: ok, degraded with its reasons (`unknown` when it names none), or no good answer. */
async function askHealth(url: string): Promise<HealthAnswer> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    if (res.status !== 200) return { kind: 'none' };
    let body: { status?: unknown; version?: unknown; reasons?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return { kind: 'none' };
    }
    const version = typeof body.version === 'string' ? body.version : undefined;
    if (body.status === 'ok') return { kind: 'ok', version };
    const reasons = Array.isArray(body.reasons)
      ? body.reasons.filter((r): r is string => typeof r === 'string')
      : [];
    return { kind: 'degraded', version, reasons: reasons.length > 0 ? reasons : ['unknown'] };
  } catch {
    return { kind: 'none' };
  }
}
