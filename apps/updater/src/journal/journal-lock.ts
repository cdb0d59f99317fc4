import { mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The one-writer lock on a journal folder, held by the live updater for as long as it runs. It is an
 * abstract Unix socket named after the folder's device and inode: the kernel refuses a second bind
 * and frees the name when its holder dies, so a SIGKILLed (or powered-off) holder's lock is free
 * again at once, with no file to clean up. Updaters in containers share it through the bind of the
 * same folder (same device and inode) and the host network namespace, where abstract sockets live.
 */
export class JournalLock {
  private constructor(
    private readonly server: Server,
    readonly name: string,
  ) {}

  /** The lock's name for `dataDir` (created if missing). */
  static nameOf(dataDir: string): string {
    mkdirSync(dataDir, { recursive: true });
    const { dev, ino } = statSync(dataDir);
    return `growoff-updater-journal:${dev}:${ino}`;
  }

  /** Takes the lock now, or returns null when another live process holds it. */
  static async tryAcquire(dataDir: string): Promise<JournalLock | null> {
    const name = JournalLock.nameOf(dataDir);
    const server = createServer((socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') resolve(null);
        else reject(error);
      });
      server.listen(`\0${name}`, () => {
        server.removeAllListeners('error');
        server.unref();
        resolve(new JournalLock(server, name));
      });
    });
  }

  /** Waits until the lock is free and takes it; `onWaiting` is called once if it has to wait. */
  static async acquire(
    dataDir: string,
    options: { pollMs?: number; onWaiting?: () => void; signal?: AbortSignal } = {},
  ): Promise<JournalLock> {
    let told = false;
    for (;;) {
      options.signal?.throwIfAborted();
      const lock = await JournalLock.tryAcquire(dataDir);
      if (lock) return lock;
      if (!told) options.onWaiting?.();
      told = true;
      await delay(options.pollMs ?? 200);
    }
  }

  release(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
