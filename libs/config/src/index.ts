export * as variable from './variables';
export type { VariableKind, VariableMeta, VariableOptions } from './variables';
export {
  configInvalid,
  defineEnv,
  describe,
  ignoredBy,
  ignoredText,
  ignoredVariables,
  isConfigInvalid,
  issueText,
  maskUrl,
  parseEnv,
  READ_ELSEWHERE,
  type ConfigInvalid,
  type ConfigIssue,
  type Env,
  type IgnoredVariable,
  type ParseOptions,
} from './parse-env';
export {
  DEFAULT_MQTT_URL,
  MQTT_SCHEMES,
  mqttConnectionFromEnv,
  mqttSection,
  optionalMqttSection,
} from './mqtt-section';
export type { StaticDecode as ConfigOf } from '@sinclair/typebox';
export { moduleIdVariable, shutdownDeadlineVariable } from './module-variables';
