import type { EventSeverity } from '@growoff/protocol';
import type { EventBus } from '../event-bus';

/** Raises a contract event on the bus; MQTT, telemetry and the event log pick it up from there. */
export function raiseEvent(
  bus: EventBus,
  type: string,
  severity: EventSeverity,
  message: string,
  data?: unknown,
  now = Date.now(),
): void {
  bus.emit(
    'event',
    data === undefined ? { type, severity, message, ts: now } : { type, severity, message, ts: now, data },
  );
}
