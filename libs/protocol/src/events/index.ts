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
