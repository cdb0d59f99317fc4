import { string } from './variables';

/** `GROWOFF_MODULE_ID`, shared by every app: a topic level (see `isValidTopicSegment` in @growoff/protocol). */
export function moduleIdVariable() {
  return string('GROWOFF_MODULE_ID', {
    default: 'dev-module',
    pattern: /^[A-Za-z0-9_.-]{1,64}$/,
    expected: '1-64 of A-Z a-z 0-9 _ . -',
    description: "the module's id in topics and telemetry",
  });
}
