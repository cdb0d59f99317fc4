import { ProtocolError } from './errors';

export const PROTOCOL_VERSION = 1;
export const TOPIC_ROOT = `growoff/v${PROTOCOL_VERSION}`;

/** Apps that publish a retained `{app}/status` and take `{app}/req/{method}`. */
export type AppName = 'core' | 'updater' | 'tunnel';
export const APP_NAMES: readonly AppName[] = ['core', 'updater', 'tunnel'];

/** One topic level: no separators or wildcards, never empty. */
const SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;

function segment(kind: string, value: string): string {
  if (!SEGMENT.test(value)) {
    throw new ProtocolError(
      'INVALID_MESSAGE',
      `${kind} "${value}" is not a valid topic level (1-64 of A-Z a-z 0-9 _ . -)`,
    );
  }
  return value;
}

export function isValidTopicSegment(value: string): boolean {
  return SEGMENT.test(value);
}

export function modulePrefix(moduleId: string): string {
  return `${TOPIC_ROOT}/modules/${segment('module id', moduleId)}/`;
}

export const topics = {
  status: (moduleId: string, app: AppName) => `${modulePrefix(moduleId)}${segment('app', app)}/status`,
  sensor: (moduleId: string, sensorId: string) =>
    `${modulePrefix(moduleId)}sensors/${segment('sensor id', sensorId)}`,
  actuator: (moduleId: string, actuatorId: string) =>
    `${modulePrefix(moduleId)}actuators/${segment('actuator id', actuatorId)}`,
  actuatorSet: (moduleId: string, actuatorId: string) =>
    `${modulePrefix(moduleId)}actuators/${segment('actuator id', actuatorId)}/set`,
  request: (moduleId: string, app: AppName, method: string) =>
    `${modulePrefix(moduleId)}${segment('app', app)}/req/${segment('method', method)}`,
  response: (moduleId: string, app: AppName, method: string) =>
    `${modulePrefix(moduleId)}${segment('app', app)}/res/${segment('method', method)}`,
  events: (moduleId: string) => `${modulePrefix(moduleId)}events`,
  /** Retained: the active alarms. */
  alarms: (moduleId: string) => `${modulePrefix(moduleId)}alarms`,
  release: (moduleId: string) => `${modulePrefix(moduleId)}release`,
  fleetRelease: (channel: string) => `${TOPIC_ROOT}/fleet/releases/${segment('channel', channel)}`,
  /** Retained, signed: every revoked release image (cumulative). */
  fleetRevocations: () => `${TOPIC_ROOT}/fleet/revocations`,
  /** Retained, signed: the trusted release keys (a key-set signed by a currently trusted key). */
  fleetKeys: () => `${TOPIC_ROOT}/fleet/keys`,
  /** Subscription filters. */
  allActuatorSets: (moduleId: string) => `${modulePrefix(moduleId)}actuators/+/set`,
  allRequests: (moduleId: string, app: AppName) => `${modulePrefix(moduleId)}${segment('app', app)}/req/+`,
} as const;

export type ParsedTopic =
  | { kind: 'status'; moduleId: string; app: AppName }
  | { kind: 'sensor'; moduleId: string; sensorId: string }
  | { kind: 'actuator'; moduleId: string; actuatorId: string }
  | { kind: 'actuatorSet'; moduleId: string; actuatorId: string }
  | { kind: 'request'; moduleId: string; app: AppName; method: string }
  | { kind: 'response'; moduleId: string; app: AppName; method: string }
  | { kind: 'events'; moduleId: string }
  | { kind: 'alarms'; moduleId: string }
  | { kind: 'release'; moduleId: string }
  | { kind: 'fleetRelease'; channel: string }
  | { kind: 'fleetRevocations' }
  | { kind: 'fleetKeys' };

function isApp(value: string): value is AppName {
  return (APP_NAMES as readonly string[]).includes(value);
}

/** The contract meaning of a topic, or null when it is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'growoff' || parts[1] !== `v${PROTOCOL_VERSION}`) return null;
  if (!parts.slice(2).every((p) => SEGMENT.test(p))) return null;
  const rest = parts.slice(2);
  if (rest[0] === 'fleet' && rest[1] === 'releases' && rest.length === 3) {
    return { kind: 'fleetRelease', channel: rest[2]! };
  }
  if (rest[0] === 'fleet' && rest.length === 2 && rest[1] === 'revocations')
    return { kind: 'fleetRevocations' };
  if (rest[0] === 'fleet' && rest.length === 2 && rest[1] === 'keys') return { kind: 'fleetKeys' };
  if (rest[0] !== 'modules' || rest.length < 3) return null;
  const moduleId = rest[1]!;
  const [a, b, c] = rest.slice(2);
  const depth = rest.length - 2;
  if (depth === 1 && a === 'events') return { kind: 'events', moduleId };
  if (depth === 1 && a === 'release') return { kind: 'release', moduleId };
  if (depth === 1 && a === 'alarms') return { kind: 'alarms', moduleId };
  if (depth === 2 && a === 'sensors') return { kind: 'sensor', moduleId, sensorId: b! };
  if (depth === 2 && a === 'actuators') return { kind: 'actuator', moduleId, actuatorId: b! };
  if (depth === 3 && a === 'actuators' && c === 'set')
    return { kind: 'actuatorSet', moduleId, actuatorId: b! };
  if (a !== undefined && isApp(a)) {
    if (depth === 2 && b === 'status') return { kind: 'status', moduleId, app: a };
    if (depth === 3 && b === 'req') return { kind: 'request', moduleId, app: a, method: c! };
    if (depth === 3 && b === 'res') return { kind: 'response', moduleId, app: a, method: c! };
  }
  return null;
}
