/**
 * How an app reaches the broker: the one MQTT connection section, read from the environment by
 * `@growoff/config` (`GROWOFF_MQTT_*`) and used by the app link and the release CLI alike.
 * File paths are checked readable when the config is read; the link reads their contents.
 */
export interface MqttConnection {
  /** `mqtt:`, `mqtts:`, `ws:` or `wss:`. */
  url: string;
  /** 5 (default) or 4 (MQTT 3.1.1). */
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  /** PEM files: CA bundle, client certificate and its key. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}
