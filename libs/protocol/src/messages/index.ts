export { Timestamp, MessageId, Severity } from './common';
export { StatusMessage, UpdateLock } from './status';
export { SensorReading, SensorQuality } from './sensor-reading';
export { ActuatorCommand, ActuatorState } from './actuator';
export {
  Request,
  ErrorBody,
  OkResponse,
  ErrorResponse,
  Response,
  okResponse,
  errorResponse,
} from './request-response';
export { Event, type EventSeverity } from './event';
export { SignInRequest, SessionState, AppStatusEntry, AppStatusList } from './console';
export { validate, parseJsonPayload, type ValidationIssue, type ValidationResult } from './validate';
export { History, HistoryPoint, HistoryQuery, HISTORY_MAX_POINTS, HISTORY_MIN_STEP_MS } from './history';
export { CalibrationAction, CalibrationPoint, CalibrationRequest, CalibrationStatus } from './calibration';
export { Alarm, AlarmLimit, AlarmsMessage, AckAlarmRequest } from './alarms';
