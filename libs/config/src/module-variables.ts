import { integer, string } from './variables';

/** `GROWOFF_MODULE_ID`, shared by every app: a topic level (see `isValidTopicSegment` in @growoff/protocol). */
export function moduleIdVariable() {
  return string('GROWOFF_MODULE_ID', {
    default: 'dev-module',
    pattern: /^[A-Za-z0-9_.-]{1,64}$/,
    expected: '1-64 of A-Z a-z 0-9 _ . -',
    description: "the module's id in topics and telemetry",
  });
}

/** `GROWOFF_SHUTDOWN_DEADLINE_MS`, shared by every app: a signal ends the process by then, whatever its peers do. */
export function shutdownDeadlineVariable() {
  return integer('GROWOFF_SHUTDOWN_DEADLINE_MS', {
    default: 5000,
    min: 100,
    max: 600_000,
    description: 'how long a SIGTERM may take before the process exits anyway',
  });
}
