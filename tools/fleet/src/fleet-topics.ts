import { TOPIC_ROOT } from '@growoff/protocol';

/** Subscription filters over the whole fleet; single topics come from @growoff/protocol's `topics`. */
export const fleetFilters = {
  statuses: (app: 'core' | 'updater') => `${TOPIC_ROOT}/modules/+/${app}/status`,
  pins: `${TOPIC_ROOT}/modules/+/release`,
  events: `${TOPIC_ROOT}/modules/+/events`,
  channels: `${TOPIC_ROOT}/fleet/releases/+`,
};
