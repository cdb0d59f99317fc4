import { createEvent, type EventData, type EventSeverity, type EventType } from '@growoff/protocol';
import type { EventBus } from '../event-bus';

/**
 * Raises a contract event of a registered type on the bus (checked against the event registry);
 * MQTT, telemetry and the event log pick it up from there.
 */
export function raiseEvent<T extends EventType>(
  bus: EventBus,
  type: T,
  severity: EventSeverity,
  message: string,
  data?: EventData<T>,
  now = Date.now(),
): void {
  bus.emit('event', createEvent(type, message, data, { severity, ts: now }));
}
