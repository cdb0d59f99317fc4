import { constants } from 'node:os';

export interface ExitOnSignalOptions {
  /** The app's shutdown deadline: the process exits by then whatever `stop` is waiting for. */
  deadlineMs: number;
  /** Resolves when stopped; a number is the exit code (e.g. the core's 3: an actuator not confirmed safe). */
  stop: () => Promise<void | number>;
  log: (line: string) => void;
}

/**
 * How every app ends: the first SIGTERM or SIGINT runs `stop` and exits 0 when it finished (or the
 * code `stop` resolved with), 1 when it failed or the deadline passed first; a second signal exits at once (128 + the signal's number).
 */
export function exitOnSignal(options: ExitOnSignalOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.log(`${signal} again: exiting now`);
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    options.log(`${signal}: stopping (deadline ${options.deadlineMs} ms)`);
    const deadline = setTimeout(() => {
      options.log(`stop did not finish within ${options.deadlineMs} ms: exiting`);
      process.exit(1);
    }, options.deadlineMs);
    options.stop().then(
      (code) => {
        clearTimeout(deadline);
        process.exit(typeof code === 'number' ? code : 0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        options.log(`unclean stop: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
