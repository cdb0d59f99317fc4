import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ReleaseApps, RevokedRelease } from '@growoff/protocol';
import { resolvePath, type CliIo } from './cli-io';
import { FleetError } from './fleet-error';

/** A fleet release as the store remembers it: what it names, where it went, where it came from. */
export interface StoredRelease {
  name: string;
  apps: ReleaseApps;
  /** The commit the release was cut from (its git tag points there); absent outside a repository. */
  commit?: string;
  createdAt: string;
  /** Modules a candidate is pinned to. */
  pinned: string[];
  /** Channels it was published to. */
  channels: string[];
  /** The candidate a final release was promoted from. */
  promotedFrom?: string;
}

export interface ChecklistItem {
  id: string;
  text: string;
  done?: { by: string; at: string; note?: string };
}

export interface Checklist {
  release: string;
  items: ChecklistItem[];
}

const LOCK_WAIT_MS = 10_000;

/**
 * The release manager's records, one folder (`--store` / GROWOFF_FLEET_STORE): the ONE fleet-wide
 * sequence counter every signed document takes its number from, the releases cut so far, the
 * candidates' checklists and the cumulative revocation list. Every write is atomic (temp file,
 * fsync, rename); the counter is taken under a lock so two commands never sign the same number.
 */
export class ReleaseStore {
  private constructor(readonly dir: string) {}

  static open(io: CliIo, flags: { store?: string }): ReleaseStore {
    const given = flags.store ?? io.env.GROWOFF_FLEET_STORE;
    if (!given) {
      throw new FleetError(
        'FLEET_USAGE',
        'no release store: pass --store DIR or set GROWOFF_FLEET_STORE (it keeps the fleet sequence counter)',
      );
    }
    const dir = resolvePath(io, given);
    try {
      mkdirSync(join(dir, 'releases'), { recursive: true });
      mkdirSync(join(dir, 'checklists'), { recursive: true });
    } catch (error) {
      throw new FleetError(
        'FLEET_BAD_FILE',
        `cannot use ${dir} as the release store: ${(error as Error).message}`,
      );
    }
    return new ReleaseStore(dir);
  }

  /** The last sequence handed out (0 before the first document); what the base installer writes as a new module's floor. */
  sequence(): number {
    const value = this.readJson<{ sequence: number }>('sequence.json')?.sequence ?? 0;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new FleetError('FLEET_BAD_FILE', `${join(this.dir, 'sequence.json')} holds no valid sequence`);
    }
    return value;
  }

  /**
   * The next sequence of the fleet, above the counter and above `seen` (the highest sequence this
   * command found retained on the broker, e.g. after the store was restored from an older copy).
   */
  next(seen = 0): number {
    return this.locked(() => {
      const next = Math.max(this.sequence(), seen) + 1;
      this.writeJson('sequence.json', { sequence: next });
      return next;
    });
  }

  release(name: string): StoredRelease | undefined {
    return this.readJson<StoredRelease>(join('releases', `${name}.json`));
  }

  releases(): StoredRelease[] {
    return readdirSync(join(this.dir, 'releases'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.readJson<StoredRelease>(join('releases', f))!)
      .filter(Boolean);
  }

  saveRelease(release: StoredRelease): void {
    this.writeJson(join('releases', `${release.name}.json`), release);
  }

  checklist(name: string): Checklist | undefined {
    return this.readJson<Checklist>(join('checklists', `${name}.json`));
  }

  saveChecklist(checklist: Checklist): void {
    this.writeJson(join('checklists', `${checklist.release}.json`), checklist);
  }

  revocations(): RevokedRelease[] {
    return this.readJson<{ revoked: RevokedRelease[] }>('revocations.json')?.revoked ?? [];
  }

  saveRevocations(revoked: RevokedRelease[]): void {
    this.writeJson('revocations.json', { revoked });
  }

  private locked<T>(fn: () => T): T {
    const lock = join(this.dir, 'sequence.lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A lock left by a command that died holding it is older than any live one could be.
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
        else if (Date.now() > deadline) {
          throw new FleetError(
            'FLEET_STORE_LOCKED',
            `the release store is locked (${lock}); is another fleet command running?`,
          );
        } else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
    try {
      return fn();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }

  private readJson<T>(relative: string): T | undefined {
    const path = join(this.dir, relative);
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      throw new FleetError('FLEET_BAD_FILE', `${path} in the release store is not JSON`);
    }
  }

  private writeJson(relative: string, value: unknown): void {
    const path = join(this.dir, relative);
    const temp = `${path}.tmp-${process.pid}`;
    const fd = openSync(temp, 'w', 0o644);
    try {
      writeSync(fd, JSON.stringify(value, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  }
}
