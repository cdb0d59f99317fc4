export { EVENT_REGISTRY, type EventTypeInfo } from './registry';
export {
  EVENT_TYPES,
  EventTypeSchema,
  RegisteredEventSchema,
  createEvent,
  isEventType,
  setEventDataChecks,
  type EventData,
  type EventType,
  type RegisteredEvent,
} from './create-event';
export {
  DEFAULT_EVENT_RATE_LIMIT,
  EventRateLimiter,
  SUPPRESSED_EVENT_TYPE,
  type EventRateLimit,
} from './rate-limit';
