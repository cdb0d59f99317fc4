import { isAbsolute, resolve } from 'node:path';

/** Where a command reads its environment and writes its output; tests pass their own. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  /** Relative paths in options resolve against this (the caller's directory, not tools/fleet). */
  cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (the live view redraws in place). */
  isTty?: boolean;
  /** Ends the live status view. */
  signal?: AbortSignal;
  now?: () => Date;
}

export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}

export function clockOf(io: CliIo): Date {
  return io.now?.() ?? new Date();
}

export function nowIso(io: CliIo): string {
  return clockOf(io).toISOString();
}
