import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionState, DecisionStore } from '@growoff/protocol';
import { describeError } from '@growoff/protocol';
import type { ContainerSpec, ManagedAppId } from '../spec/app-spec';
import { UpdaterError } from '../updater-error';
import { appendLineDurably, renameDurably, writeFileDurably } from './durable-file';

export type { ContainerSpec, ManagedAppId };

/** An image pinned by digest and the version it claims. */
export interface ReleaseRef {
  version: string;
  image: string;
}

/**
 * The steps of one install, in order. The journal holds the last step reached; recovery after a
 * crash decides from it what the containers may look like.
 */
export type InstallStep =
  | 'downloading'
  | 'downloaded'
  | 'waiting-lock'
  | 'stopping-old'
  | 'starting-new'
  | 'health-gate'
  | 'rolling-back';

export interface PendingInstall {
  target: ReleaseRef;
  step: InstallStep;
  startedAt: number;
  previousContainerId?: string;
  newContainerId?: string;
}

export interface AppState {
  current?: ReleaseRef & { containerId: string };
  lastKnownGood?: ReleaseRef;
  /** Set after a commit until the probation window has passed without a crash loop. */
  probation?: { until: number; previous?: ReleaseRef };
  pending?: PendingInstall;
  spec?: ContainerSpec;
  /** Images that failed their health gate or probation: not retried until a new release names another. */
  failedImages: string[];
}

export interface JournalState {
  format: 1;
  apps: Record<ManagedAppId, AppState>;
  /** The release decision's replay floor, accepted document per slot and revoked images (#14). */
  release: DecisionState;
  /** Releases that passed probation, newest last (a few per app): where a revoked image rolls back to. */
  goodReleases: Partial<Record<ManagedAppId, ReleaseRef[]>>;
}

/** How many good releases per app the journal remembers. */
const GOOD_RELEASES_KEPT = 5;

export interface HistoryEntry {
  ts: number;
  app: ManagedAppId;
  type: string;
  message: string;
  data?: Record<string, unknown>;
}

const emptyState = (): JournalState => ({
  format: 1,
  apps: {
    core: { failedImages: [] },
    telegraf: { failedImages: [] },
    tunnel: { failedImages: [] },
    updater: { failedImages: [] },
  },
  release: { floor: 1, slots: {}, revoked: [] },
  goodReleases: {},
});

/** History entries kept in the current file before it is rotated (the rotated file keeps as many). */
export const DEFAULT_HISTORY_ENTRIES = 2000;

/**
 * The updater's crash-safe memory: a state file replaced atomically (fsync'd) at every step and an
 * fsync'd history log. Everything the updater does to containers is recorded here before it is done.
 *
 * A write that fails (full or read-only disk) throws JOURNAL_WRITE_FAILED and leaves the state as it
 * was, except through `updateAppBestEffort`, which the way back to the running release uses.
 */
export class UpdateJournal implements DecisionStore {
  private state: JournalState;
  private readonly statePath: string;
  private readonly historyPath: string;
  private readonly rotatedHistoryPath: string;
  private historyEntries: number;
  private historyTorn = false;
  private failure?: UpdaterError;

  constructor(
    dataDir: string,
    private readonly options: { historyEntries?: number } = {},
  ) {
    this.statePath = join(dataDir, 'updater-state.json');
    this.historyPath = join(dataDir, 'updater-history.jsonl');
    this.rotatedHistoryPath = join(dataDir, 'updater-history.1.jsonl');
    this.state = this.read();
    this.historyEntries = readLines(this.historyPath).length;
  }

  /** The last write failure, until a write succeeds again. */
  get writeFailure(): UpdaterError | undefined {
    return this.failure;
  }

  get snapshot(): Readonly<JournalState> {
    return this.state;
  }

  app(id: ManagedAppId): Readonly<AppState> {
    return this.state.apps[id];
  }

  /** Applies a change to one app's state and makes it durable before returning. */
  updateApp(id: ManagedAppId, change: (state: AppState) => void): void {
    const next = structuredClone(this.state);
    change(next.apps[id]);
    this.commit(next);
  }

  /**
   * Applies a change in memory even when it cannot be written; returns the write's failure. Only for
   * changes that the state on disk already implies after a restart (the way back to the running
   * release): the next successful write carries them.
   */
  updateAppBestEffort(id: ManagedAppId, change: (state: AppState) => void): UpdaterError | undefined {
    const next = structuredClone(this.state);
    change(next.apps[id]);
    try {
      this.commit(next);
      return undefined;
    } catch (error) {
      this.state = next;
      return error as UpdaterError;
    }
  }

  /** The release decision's record (DecisionStore). */
  load(): DecisionState {
    return structuredClone(this.state.release);
  }

  save(release: DecisionState): void {
    const next = structuredClone(this.state);
    next.release = structuredClone(release);
    this.commit(next);
  }

  /** Remembers a release that proved good (no-op when it is already the newest remembered). */
  rememberGood(app: ManagedAppId, ref: ReleaseRef): void {
    const known = this.state.goodReleases[app] ?? [];
    if (known.at(-1)?.image === ref.image) return;
    const next = structuredClone(this.state);
    const kept = known.filter((r) => r.image !== ref.image);
    next.goodReleases[app] = [...kept, { version: ref.version, image: ref.image }].slice(-GOOD_RELEASES_KEPT);
    this.commit(next);
  }

  /**
   * Appends to the history; false when the disk refused it (the history is a record, not a step: a
   * full disk must not stop an install or its rollback). A full file is rotated: the newest entries
   * stay in the current file and the one before in `updater-history.1.jsonl`; older ones are dropped.
   */
  record(entry: HistoryEntry): boolean {
    try {
      if (this.historyEntries >= (this.options.historyEntries ?? DEFAULT_HISTORY_ENTRIES)) {
        renameDurably(this.historyPath, this.rotatedHistoryPath);
        this.historyEntries = 0;
        this.historyTorn = false;
      }
      // After a failed append the file may end in a torn line; a newline keeps the next entry whole.
      appendLineDurably(this.historyPath, `${this.historyTorn ? '\n' : ''}${JSON.stringify(entry)}`);
      this.historyTorn = false;
      this.historyEntries++;
      return true;
    } catch {
      this.historyTorn = true;
      return false;
    }
  }

  /** The newest `limit` history entries, newest last. A torn line (power loss, full disk) is skipped. */
  history(limit = 200): HistoryEntry[] {
    const lines = [...readLines(this.rotatedHistoryPath), ...readLines(this.historyPath)];
    const entries: HistoryEntry[] = [];
    for (const line of lines.slice(-limit)) {
      try {
        entries.push(JSON.parse(line) as HistoryEntry);
      } catch {
        continue;
      }
    }
    return entries;
  }

  private commit(next: JournalState): void {
    try {
      writeFileDurably(this.statePath, JSON.stringify(next, null, 2));
    } catch (error) {
      const { code, message } = describeError(error);
      this.failure = new UpdaterError(
        'JOURNAL_WRITE_FAILED',
        `cannot write the journal ${this.statePath}: ${message}`,
        { errno: (error as NodeJS.ErrnoException).code ?? code },
      );
      throw this.failure;
    }
    this.failure = undefined;
    this.state = next;
  }

  private read(): JournalState {
    if (!existsSync(this.statePath)) return emptyState();
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.statePath, 'utf8'));
    } catch {
      throw new UpdaterError('JOURNAL_CORRUPT', `the journal ${this.statePath} is not JSON`);
    }
    const state = parsed as Partial<JournalState>;
    if (state.format !== 1 || typeof state.apps !== 'object' || state.apps === null) {
      throw new UpdaterError('JOURNAL_CORRUPT', `the journal ${this.statePath} has an unknown format`);
    }
    const fresh = emptyState();
    return {
      format: 1,
      apps: {
        core: { ...fresh.apps.core, ...state.apps.core },
        telegraf: { ...fresh.apps.telegraf, ...state.apps.telegraf },
        tunnel: { ...fresh.apps.tunnel, ...state.apps.tunnel },
        updater: { ...fresh.apps.updater, ...state.apps.updater },
      },
      // Journals before #14 kept per-source `sequences` of another counter: dropped, not carried.
      release: { ...fresh.release, ...state.release },
      goodReleases: { ...state.goodReleases },
    };
  }
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}
