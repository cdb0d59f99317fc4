import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '@growoff/protocol';
import { UpdaterError } from '../updater-error';
import { appendLineDurably, renameDurably, writeFileDurably } from './durable-file';

export type ManagedAppId = 'core' | 'telegraf';

/** An image pinned by digest and the version it claims. */
export interface ReleaseRef {
  version: string;
  image: string;
}

/** The settings a container of a managed app is created with; carried from one release to the next. */
export interface ContainerSpec {
  name: string;
  env: string[];
  binds: string[];
  devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
  networkMode: string;
  labels: Record<string, string>;
  privileged: boolean;
  groupAdd: string[];
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
  /** The highest accepted release per source (`channel:<name>` or `pin`), with its payload's SHA-256. */
  sequences: Record<string, AcceptedSequence>;
}

export interface AcceptedSequence {
  sequence: number;
  digest: string;
}

export interface HistoryEntry {
  ts: number;
  app: ManagedAppId;
  type: string;
  message: string;
  data?: Record<string, unknown>;
}

const emptyState = (): JournalState => ({
  format: 1,
  apps: { core: { failedImages: [] }, telegraf: { failedImages: [] } },
  sequences: {},
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
export class UpdateJournal {
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
    this.state = this.load();
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

  sequence(source: string): AcceptedSequence | undefined {
    return this.state.sequences[source];
  }

  setSequence(source: string, accepted: AcceptedSequence): void {
    const next = structuredClone(this.state);
    next.sequences[source] = accepted;
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

  private load(): JournalState {
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
      },
      sequences: { ...state.sequences },
    };
  }
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}
