export interface Reading {
  id: string;
  value: number | null;
  unit: string;
  quality: string;
  ts: number;
  error?: string;
}
export interface ActuatorView {
  id: string;
  kind?: 'switch' | 'dimmer';
  state?: 'on' | 'off';
  level?: number;
  ts: number;
}
export interface CoreEvent {
  type: string;
  severity: string;
  message: string;
  ts: number;
  data?: unknown;
}
export interface AppStatus {
  app: string;
  status: Record<string, unknown> | null;
  error?: string;
  receivedAt: number | null;
}
export interface Snapshot {
  readings: Reading[];
  actuators: ActuatorView[];
  apps: AppStatus[];
}
