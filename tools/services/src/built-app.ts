import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess, waitUntil } from './process';

export interface BuiltApp {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once its output contains `text`; rejects when it exits first or after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void>;
}

/**
 * An app's bundle (`<packageDir>/dist/main.js`, built by its `build` target) under plain `node`, as
 * its image runs it: the environment is `env` and PATH only, so nothing npm or the test runner
 * sets (npm_package_version, NODE_ENV…) reaches it. `node` replaces this process's Node (e.g. another
 * CPU's Node under qemu, `armNode(target)`).
 */
export function startBuiltApp(
  packageDir: string,
  env: Record<string, string>,
  options: { node?: string[] } = {},
): BuiltApp {
  const main = join(packageDir, 'dist/main.js');
  if (!existsSync(main))
    throw new Error(`${main} is missing: build the app first (pnpm exec nx run <app>:build)`);
  const [command, ...args] = options.node ?? [process.execPath];
  const child = spawn(command!, [...args, main], {
    cwd: packageDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    async waitForOutput(text, timeoutMs = 60_000) {
      try {
        await waitUntil(`"${text}" from ${main}`, () => out.includes(text), timeoutMs, child.pid);
      } catch (error) {
        throw new Error(`${(error as Error).message}; its output:\n${out}`);
      }
    },
    stop: () => (child.pid === undefined ? Promise.resolve() : stopProcess(child.pid)),
  };
}

/**
 * The JSON body of `url` once it answers 200 (an app's `/health` while it starts); `whileWaiting`
 * runs before each try and may throw to give up early (the app exited).
 */
export async function jsonWhenUp<T = Record<string, unknown>>(
  url: string,
  options: { timeoutMs?: number; whileWaiting?: () => void } = {},
): Promise<T> {
  let body: T | undefined;
  await waitUntil(
    `${url} answering 200`,
    async () => {
      options.whileWaiting?.();
      const res = await fetch(url).catch(() => undefined);
      if (res?.status !== 200) return false;
      body = (await res.json()) as T;
      return true;
    },
    options.timeoutMs,
  );
  return body!;
}
