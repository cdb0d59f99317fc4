import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurably } from '../journal/durable-file';

/**
 * What tools/base's launcher (`updater-launcher.sh`) runs: `current`, the committed updater image;
 * `previous`, the one it falls back to when `current` crash-loops; `failed`, the image it fell back
 * from. KEY=VALUE lines, replaced atomically by whichever of the two writes it.
 */
export interface LauncherState {
  current?: string;
  previous?: string;
  failed?: string;
}

const KEYS = ['current', 'previous', 'failed'] as const;

export function readLauncherState(path: string): LauncherState {
  if (!existsSync(path)) return {};
  const state: LauncherState = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    const key = line.slice(0, at) as (typeof KEYS)[number];
    if (at > 0 && KEYS.includes(key) && line.length > at + 1) state[key] = line.slice(at + 1).trim();
  }
  return state;
}

export function formatLauncherState(state: LauncherState): string {
  return KEYS.filter((k) => state[k])
    .map((k) => `${k}=${state[k]}\n`)
    .join('');
}

/** Writes the state when it differs; true when it wrote. */
export function writeLauncherState(path: string, state: LauncherState): boolean {
  const text = formatLauncherState(state);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  writeFileDurably(path, text);
  return true;
}
