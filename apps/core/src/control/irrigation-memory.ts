import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const IRRIGATION_FILE = 'irrigation.json';

/**
 * When the last irrigation cycle started, kept in the data dir so the interval survives a restart
 * (a core restarting more often than `everyMinutes` would otherwise never irrigate).
 */
export class IrrigationMemory {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, IRRIGATION_FILE);
  }

  /** The last cycle's start (epoch ms), or undefined when none is known or the file is unreadable. */
  async lastRun(): Promise<number | undefined> {
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8')) as { lastRunAt?: unknown };
      return typeof saved.lastRunAt === 'number' && Number.isFinite(saved.lastRunAt)
        ? saved.lastRunAt
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaced atomically: a power cut leaves the old time or the new one. */
  async save(lastRunAt: number): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify({ lastRunAt }));
    await rename(tmp, this.file);
  }
}
