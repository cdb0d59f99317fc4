import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The updater as production runs it: its own process, killed without warning. */
class UpdaterProcess {
  private readonly lines: string[] = [];
  private readonly waiters: Array<{ text: string; resolve: () => void }> = [];
  readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['dist/main.js'], {
      cwd: packageDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string) => {
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (line.includes(w.text)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', onLine);
  }

  waitForLine(text: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no "${text}" from the updater; output:\n${this.lines.slice(-30).join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

describe('crash safety', () => {
  let h: UpdaterHarness;
  let images: Array<{ ref: string; version: string }>;
  let updater: UpdaterProcess | undefined;
  const env = () => ({ ...h.env(), GROWOFF_PROBATION_S: '1' });

  beforeAll(async () => {
    // The entry production runs; built here so the test never runs a stale bundle.
    execFileSync('pnpm', ['exec', 'tsup', '--silent'], { cwd: packageDir, stdio: 'ignore' });
    h = await UpdaterHarness.create();
    images = ['3.0.0', '3.1.0'].map((version) => ({ ref: h.images.build({ version }), version }));
  }, 120_000);

  afterAll(async () => {
    await updater?.kill('SIGKILL');
    await h?.cleanup();
  });

  async function settledOn(version: string): Promise<void> {
    await waitUntil(
      `the core at ${version}`,
      async () => {
        try {
          const status = (await (await fetch(`http://127.0.0.1:${h.httpPort}/status`)).json()) as {
            current?: { version: string };
            phase: string;
          };
          return (
            status.current?.version === version &&
            status.phase === 'idle' &&
            (await h.coreHealth()) === version
          );
        } catch {
          return false;
        }
      },
      60_000,
    );
  }

  async function exactlyOneHealthyCore(): Promise<string> {
    let version: string | null = null;
    await waitUntil('a healthy core', async () => (version = await h.coreHealth()) !== null, 30_000);
    const running = (await h.coreContainers()).filter((c) => c.running);
    expect(running).toHaveLength(1);
    expect(running[0]!.version).toBe(version);
    return version!;
  }

  it('finds exactly one healthy core after a SIGKILL at every step of an update', async () => {
    updater = new UpdaterProcess(env());
    await h.publish(images[0]!.ref, images[0]!.version);
    await settledOn(images[0]!.version);

    const steps = [
      'download.started',
      'download.completed',
      'install.stopping_old',
      'install.starting_new',
      'install.health_gate',
      'install.committed',
    ];
    for (const [i, step] of steps.entries()) {
      const target = images[(i + 1) % 2]!;
      const reached = updater.waitForLine(`${step}:`);
      await h.publish(target.ref, target.version);
      await reached;
      await updater.kill('SIGKILL');

      updater = new UpdaterProcess(env());
      await updater.waitForLine('REST on');
      const version = await exactlyOneHealthyCore();
      expect([images[0]!.version, images[1]!.version]).toContain(version);
      await settledOn(target.version);
      await exactlyOneHealthyCore();
    }
  }, 480_000);
});
