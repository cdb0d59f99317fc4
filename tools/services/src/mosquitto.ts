import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { portAnswers, spawnDaemon, waitUntil } from './process';

export interface MosquittoInfo {
  pid: number;
  port: number;
  url: string;
}

export interface MosquittoOptions {
  dir: string;
  port: number;
  /** Extra lines appended to mosquitto.conf (ACLs, password files, listeners). */
  extraConfig?: string;
}

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

/** Mosquitto 2 on loopback, anonymous unless `extraConfig` says otherwise. */
export async function startMosquitto(options: MosquittoOptions): Promise<MosquittoInfo> {
  mkdirSync(options.dir, { recursive: true });
  const conf = join(options.dir, 'mosquitto.conf');
  const lines = [
    `listener ${options.port} 127.0.0.1`,
    options.extraConfig?.includes('allow_anonymous') ? '' : 'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'max_queued_messages 100000',
    options.extraConfig ?? '',
  ];
  writeFileSync(conf, lines.filter(Boolean).join('\n') + '\n');
  const pid = spawnDaemon(MOSQUITTO_BINARY, ['-c', conf], join(options.dir, 'mosquitto.log'));
  await waitUntil('mosquitto', () => portAnswers(options.port), 15_000, pid);
  return { pid, port: options.port, url: `mqtt://127.0.0.1:${options.port}` };
}
