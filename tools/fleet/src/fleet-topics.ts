/** The MQTT topics of the protocol v1 contract (ARCHITECTURE.md) that the release CLI uses. */
export const MODULES_ROOT = 'growoff/v1/modules';

export const fleetTopics = {
  fleetRelease: (channel: string) => `growoff/v1/fleet/releases/${channel}`,
  release: (moduleId: string) => `${MODULES_ROOT}/${moduleId}/release`,
  status: (moduleId: string, app: 'core' | 'updater') => `${MODULES_ROOT}/${moduleId}/${app}/status`,
  allStatuses: (app: 'core' | 'updater') => `${MODULES_ROOT}/+/${app}/status`,
  allReleases: `${MODULES_ROOT}/+/release`,
  allEvents: `${MODULES_ROOT}/+/events`,
};

/** A module id is one topic level. */
export const MODULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `growoff/v1/modules/{id}/{rest}` → {moduleId, rest}, or null for other topics. */
export function parseModuleTopic(topic: string): { moduleId: string; rest: string } | null {
  const prefix = `${MODULES_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const tail = topic.slice(prefix.length);
  const slash = tail.indexOf('/');
  if (slash <= 0) return null;
  return { moduleId: tail.slice(0, slash), rest: tail.slice(slash + 1) };
}
