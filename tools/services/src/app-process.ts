import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopProcess } from './process';

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `performance.now()` when the exit event came. */
  at: number;
}

/** An app in its own Node process, as production runs it, with its output awaited line by line. */
export interface SpawnedApp {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved by line. */
  output(): string;
  readonly running: boolean;
  /**
   * Resolves at the first line (printed already or later) that contains `text`; rejects when the
   * app exits first or after `timeoutMs`, with its last lines.
   */
  waitForLine(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the process exits, with the moment it did. */
  readonly exited: Promise<AppExit>;
  /** Sends `signal` (SIGKILL: test cleanup) if still running and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  cwd?: string;
  /** The Node to run instead of this process's, as a command line (e.g. another CPU's Node under qemu, `armNode(target)`). */
  node?: readonly string[];
}

/**
 * `node <args>` (an entry such as `dist/main.js`, or flags and an entry) with exactly `env` plus PATH,
 * so nothing npm or the test runner sets (npm_package_version, NODE_ENV…) reaches it.
 */
export function spawnApp(
  args: string | readonly string[],
  env: Record<string, string | undefined>,
  { cwd, node }: SpawnOptions = {},
): SpawnedApp {
  const [command, ...nodeArgs] = node ?? [process.execPath];
  const child = spawn(command!, [...nodeArgs, ...(typeof args === 'string' ? [args] : args)], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let waiters: { text: string; resolve: () => void }[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    waiters = waiters.filter((w) => {
      if (!line.includes(w.text)) return true;
      w.resolve();
      return false;
    });
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<AppExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => lines.join('\n'),
    get running() {
      return running();
    },
    waitForLine: (text, timeoutMs = 60_000) => {
      if (lines.some((l) => l.includes(text))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const fail = (why: string) =>
          reject(new Error(`${why} before a line with "${text}"; output:\n${lines.slice(-30).join('\n')}`));
        const timer = setTimeout(() => fail('timed out'), timeoutMs);
        void exited.then((exit) => {
          clearTimeout(timer);
          fail(`the app exited (${exit.code ?? exit.signal})`);
        });
        waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    exited,
    kill: async (signal = 'SIGKILL') => {
      if (running()) child.kill(signal);
      await exited;
    },
    stop: () => (child.pid === undefined || !running() ? Promise.resolve() : stopProcess(child.pid)),
  };
}

/** An app's bundle (`<packageDir>/dist/main.js`, built by its `build` target) under plain `node`. */
export function spawnBuiltApp(
  packageDir: string,
  env: Record<string, string | undefined>,
  options: { node?: readonly string[] } = {},
): SpawnedApp {
  const main = join(packageDir, 'dist/main.js');
  if (!existsSync(main))
    throw new Error(`${main} is missing: build the app first (pnpm exec nx run <app>:build)`);
  return spawnApp(main, env, { cwd: packageDir, node: options.node });
}
