import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** An app started as production runs it (its own process), with its output awaited line by line. */
export class AppProcess {
  private readonly lines: string[] = [];
  private readonly waiters: { match: (line: string) => boolean; resolve: () => void }[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[], options: { cwd: string; env: Record<string, string | undefined> }) {
    this.child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    const onLine = (line: string) => {
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.match(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', onLine);
  }

  get output(): string {
    return this.lines.join('\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves at the first line (already printed or to come) containing `text`; rejects if the app exits first. */
  waitForLine(text: string, timeoutMs = 60_000): Promise<void> {
    if (this.lines.some((l) => l.includes(text))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`${why} before "${text}"; output:\n${this.lines.slice(-30).join('\n')}`));
      const timer = setTimeout(() => fail('timed out'), timeoutMs);
      void this.exited.then((code) => {
        clearTimeout(timer);
        fail(`the app exited (${code})`);
      });
      this.waiters.push({ match: (l) => l.includes(text), resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    await this.exited;
  }
}
