import { Type, type TSchema } from '@sinclair/typebox';
import type { EventSeverity } from '../messages/event';

/** What the workspace knows about one event type: how severe it is and the shape of its `data`. */
export interface EventTypeInfo<D extends TSchema = TSchema> {
  /** The severity it is raised with unless the raiser names another of `severities`. */
  severity: EventSeverity;
  /** Every severity it may carry (the default one first). */
  severities: readonly EventSeverity[];
  description: string;
  /** The schema of `data`; extra properties are allowed, the named ones are checked. */
  data: D;
  /** True when the event may carry no `data` at all. */
  dataOptional: boolean;
}

function event<D extends TSchema>(
  severity: EventSeverity,
  description: string,
  data: D,
  more: { also?: readonly EventSeverity[]; dataOptional?: boolean } = {},
): EventTypeInfo<D> {
  return {
    severity,
    severities: [severity, ...(more.also ?? [])],
    description,
    data,
    dataOptional: more.dataOptional ?? false,
  };
}

const S = Type.String();
const N = Type.Number();
const opt = Type.Optional;
/** A code of the error code registry (`ErrorCode.json`). */
const Code = Type.String({ description: 'a code of the error code registry' });
const DescribedError = Type.Object({ code: Code, message: S });
const App = Type.String({ description: 'the managed app: core or telegraf' });
const Release = { app: App, version: S, image: S };
const Tunnel = {
  reason: opt(S),
  requestReason: opt(S),
  ttlSeconds: opt(N),
  capped: opt(Type.Boolean()),
  expiresAt: opt(N),
};

/**
 * Every event type raised anywhere (the `events` topic, telemetry, the core's event log). A new
 * type is one entry here; `createEvent` refuses a type that is not.
 */
export const EVENT_REGISTRY = {
  // Any app: a refused request or command (the contract: every refusal raises one).
  'command.rejected': event(
    'warning',
    'a request or command was refused; nothing changed',
    Type.Object({
      code: Code,
      source: opt(S),
      target: opt(S),
      topic: opt(S),
      message: opt(S),
      details: opt(Type.Unknown()),
    }),
  ),

  // The core: sensors and thresholds.
  'sensor.lost': event(
    'warning',
    'a sensor stopped delivering good readings',
    Type.Object({ sensor: S, quality: S, error: opt(S) }),
  ),
  'sensor.restored': event('info', 'a sensor delivers good readings again', Type.Object({ sensor: S })),
  'water_level.low': event(
    'critical',
    'the water level is low (or unknown, which counts as low): the pump is locked out',
    Type.Object({ sensor: opt(S), value: Type.Union([N, Type.Null()]), quality: opt(S) }),
  ),
  'water_level.ok': event(
    'info',
    'the water level is back to normal',
    Type.Object({ sensor: opt(S), value: Type.Union([N, Type.Null()]) }),
  ),
  'hardware.missing': event(
    'critical',
    'devices did not answer at start: the core runs degraded, the loops that need them are off',
    Type.Object({
      missing: Type.Array(Type.Object({ device: S, error: S })),
      loopsOff: Type.Array(S),
    }),
  ),
  'hardware.restored': event('info', 'a missing device answers again', Type.Object({ device: S })),
  'hardware.error': event('error', 'retrying missing hardware failed', Type.Object({}), {
    dataOptional: true,
  }),
  'co2.high': event('warning', 'CO2 is above its limit', Type.Object({ value: N, limit: N })),
  'co2.normal': event('info', 'CO2 is back below its limit', Type.Object({ value: N, limit: N })),

  // The core: control loops, actuators and interlocks.
  'control.stale': event(
    'warning',
    'a control loop paused: its inputs are not fresh',
    Type.Object({ loop: S, sensors: Type.Array(S) }),
  ),
  'control.resumed': event(
    'info',
    'a control loop resumed: its inputs are fresh again',
    Type.Object({ loop: S }),
  ),
  'control.error': event('error', 'a control loop could not set its actuator', Type.Object({ loop: S })),
  'actuator.error': event('error', 'an actuator could not be switched', Type.Object({ actuator: opt(S) }), {
    also: ['critical'],
    dataOptional: true,
  }),
  'pump.max_run': event(
    'warning',
    'the pump was stopped after its maximum run time',
    Type.Object({ maxRunSeconds: N, restUntil: opt(N) }),
  ),
  'actuator.unknown': event(
    'critical',
    "an actuator's state cannot be confirmed: treated as on and driven to safe",
    Type.Object({ actuator: S, error: opt(S), code: opt(S) }),
    { also: ['error'] },
  ),
  'actuator.confirmed': event(
    'info',
    'an actuator whose state was unknown reads back again',
    Type.Object({ actuator: S, state: Type.Unknown() }),
  ),
  'actuator.found_unsafe': event(
    'critical',
    'an actuator was found in a non-safe state at start and driven to safe',
    Type.Object({ actuator: S, found: Type.Unknown() }),
    { also: ['warning'] },
  ),
  'actuator.mismatch': event(
    'warning',
    'an actuator reads back other than desired (power loss or reset); its state is re-applied',
    Type.Object({ actuator: S, desired: Type.Unknown(), actual: Type.Unknown() }),
  ),
  'shutdown.unsafe': event(
    'critical',
    'at shutdown, some actuators were not confirmed safe',
    Type.Object({ unconfirmed: Type.Array(Type.Object({ id: S, error: S })) }),
  ),
  'climate.over_temperature': event(
    'critical',
    'air temperature above its limit: light dimmed, fan full',
    Type.Object({ value: N, limit: N, lightLevel: N }),
  ),
  'climate.temperature_normal': event(
    'info',
    'air temperature back below its clear limit: light back to its schedule',
    Type.Object({ value: N, limit: N }),
  ),
  'event.suppressed': event(
    'warning',
    'events of one type were held back by the rate limit in the last window',
    Type.Object({ type: S, suppressed: N, passed: N, windowMs: N }),
  ),
  // The core: alarms, calibration and history.
  'alarm.raised': event(
    'warning',
    'a sensor stayed past an alarm limit for its delay',
    Type.Object({ sensor: S, limit: S, value: N, since: N, acknowledged: Type.Boolean(), threshold: opt(N) }),
  ),
  'alarm.cleared': event(
    'info',
    'a sensor is back inside its alarm limit (by the hysteresis, for the delay), or the limit was removed',
    Type.Object({ sensor: S, limit: S }),
  ),
  'alarm.acknowledged': event(
    'info',
    'an active alarm was acknowledged',
    Type.Object({ sensor: S, limit: S, by: opt(S) }),
  ),
  'calibration.changed': event(
    'info',
    'a sensor was calibrated, or its offset and scale changed',
    Type.Object({ sensor: S, action: S, source: opt(S) }),
  ),
  'calibration.due': event(
    'warning',
    'a probe is due for calibration',
    Type.Object({
      sensor: S,
      calibratedAt: Type.Union([N, Type.Null()]),
      dueAt: Type.Union([N, Type.Null()]),
    }),
  ),
  'calibration.store_corrupt': event(
    'warning',
    'the calibration file was unreadable and was set aside',
    Type.Object({ file: S }),
  ),
  'history.corrupt': event(
    'warning',
    'unreadable history lines were skipped at start',
    Type.Object({ lines: N, files: Type.Array(S) }),
  ),
  'history.write_failed': event(
    'warning',
    'the sensor history cannot be written (full or failing disk); queries keep working from memory',
    Type.Object({ code: opt(S), pendingLines: N }),
  ),
  'interlock.tripped': event(
    'critical',
    'a safety interlock stopped an actuator',
    Type.Object({ interlock: S, reason: S, message: S }),
  ),
  'irrigation.started': event(
    'info',
    'an irrigation cycle started',
    Type.Object({ source: S, runSeconds: N }),
  ),
  'irrigation.ended': event('info', 'an irrigation cycle ended', Type.Object({ durationS: N })),
  'irrigation.skipped': event('warning', 'a scheduled irrigation was skipped', Type.Object({ code: Code })),

  // The updater: releases.
  'release.accepted': event(
    'info',
    'a signed release was accepted',
    Type.Object({
      source: S,
      name: opt(S),
      kind: opt(S),
      version: opt(S),
      image: opt(S),
      sequence: N,
      inRollout: opt(Type.Boolean()),
    }),
  ),
  'release.rejected': event(
    'warning',
    'a release envelope was refused',
    Type.Object({ source: S, code: Code, sequence: opt(N) }),
  ),
  'release.cleared': event(
    'info',
    'a signed unpin lifted the pin: the channel release applies again',
    Type.Object({ source: S, sequence: opt(N) }),
  ),
  'release.revoked': event(
    'warning',
    'a signed revocation was accepted: the listed images are never installed again',
    Type.Object({ sequence: N, images: Type.Array(S) }),
  ),
  'release.rollback_revoked': event(
    'warning',
    'the running image is revoked: rolling back to the last good release that is not',
    Type.Object({ ...Release, to: opt(S), toVersion: opt(S) }),
  ),
  'keys.rotated': event(
    'warning',
    'a signed key-set was accepted: releases are verified against the new keys from now on',
    Type.Object({ sequence: N, keyids: Type.Array(S) }),
  ),
  'updater.error': event('error', 'an updater task failed', Type.Object({ code: Code })),

  // The updater: downloads.
  'download.started': event('info', 'an image download started', Type.Object(Release)),
  'download.progress': event(
    'debug',
    'bytes of an image download so far',
    Type.Object({ app: App, bytes: N, total: N }),
  ),
  'download.retry': event(
    'warning',
    'an image download attempt failed and is retried',
    Type.Object({ app: App, attempt: N, error: DescribedError }),
  ),
  'download.completed': event('info', 'an image download completed', Type.Object(Release)),
  'download.failed': event(
    'error',
    'an image download failed for good',
    Type.Object({ ...Release, error: DescribedError }),
  ),

  // The updater: installs, probation, rollback.
  'install.waiting_lock': event(
    'info',
    'the app holds its update lock; the install waits',
    Type.Object({ app: App }),
  ),
  'install.stopping_old': event('info', 'the running release is being stopped', Type.Object({ app: App })),
  'install.starting_new': event('info', 'the new release is being started', Type.Object(Release)),
  'install.health_gate': event('info', 'waiting for the new release to be healthy', Type.Object(Release)),
  'install.committed': event(
    'info',
    'the new release is healthy and committed',
    Type.Object({ ...Release, gateMs: N }),
  ),
  'install.rolled_back': event(
    'error',
    'the new release failed and was rolled back',
    Type.Object({ ...Release, reason: S }),
  ),
  'probation.crash_loop': event(
    'error',
    'a release crash-loops in probation',
    Type.Object({ ...Release, restarts: opt(N) }),
  ),
  'probation.passed': event(
    'info',
    'a release passed probation and is the last known good',
    Type.Object(Release),
  ),
  'rollback.impossible': event('critical', 'no earlier release to roll back to', Type.Object({ app: App })),
  'images.pruned': event(
    'info',
    'old images were removed',
    Type.Object({ app: App, removed: Type.Array(S) }),
  ),

  // The updater: reconciling after a start or a crash.
  'reconcile.resumed': event(
    'warning',
    'an interrupted install will start again',
    Type.Object({ app: App, step: S }),
  ),
  'reconcile.rolled_back': event(
    'warning',
    'an interrupted install was undone: back on the previous release',
    Type.Object({ app: App, step: S, image: S }),
  ),
  'reconcile.removed': event(
    'warning',
    'a stray container was removed',
    Type.Object({ app: App, container: S }),
  ),
  'reconcile.recreated': event('warning', 'a missing container was recreated', Type.Object({ app: App })),

  // The tunnel (its audit trail).
  'tunnel.requested': event(
    'info',
    'a tunnel was requested',
    Type.Object({ ...Tunnel, alwaysOn: opt(Type.Boolean()) }),
  ),
  'tunnel.extended': event('info', 'an open tunnel request was extended', Type.Object(Tunnel)),
  'tunnel.opened': event(
    'info',
    'the reverse forward is open on the bastion',
    Type.Object({ reason: S, remotePort: N, expiresAt: opt(N) }),
  ),
  'tunnel.closed': event('info', 'the tunnel was closed', Type.Object({ reason: S, requestReason: opt(S) })),
  'tunnel.expired': event(
    'info',
    'the tunnel expired after its TTL',
    Type.Object({ reason: S, requestReason: opt(S) }),
  ),
  'tunnel.failed': event(
    'error',
    'the tunnel could not be opened or kept',
    Type.Object({ code: Code, reason: S }),
    { also: ['critical'] },
  ),
  'tunnel.lost': event('warning', 'the session to the bastion ended', Type.Object({ code: Code })),
  'tunnel.probe.failed': event(
    'error',
    'the end-to-end probe failed; reconnecting',
    Type.Object({ code: Code }),
  ),
} as const satisfies Record<string, EventTypeInfo>;
