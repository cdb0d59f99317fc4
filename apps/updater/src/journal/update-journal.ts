import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionState, DecisionStore } from '@growoff/protocol';
import { UpdaterError } from '../updater-error';
import { appendLineDurably, writeFileDurably } from './durable-file';

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
  apps: { core: { failedImages: [] }, telegraf: { failedImages: [] } },
  release: { floor: 1, slots: {}, revoked: [] },
  goodReleases: {},
});

/**
 * The updater's crash-safe memory: a state file replaced atomically (fsync'd) at every step and an
 * fsync'd history log. Everything the updater does to containers is recorded here before it is done.
 */
export class UpdateJournal implements DecisionStore {
  private state: JournalState;
  private readonly statePath: string;
  private readonly historyPath: string;

  constructor(dataDir: string) {
    this.statePath = join(dataDir, 'updater-state.json');
    this.historyPath = join(dataDir, 'updater-history.jsonl');
    this.state = this.read();
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

  record(entry: HistoryEntry): void {
    appendLineDurably(this.historyPath, JSON.stringify(entry));
  }

  /** The newest `limit` history entries, newest last. A torn last line (power loss) is skipped. */
  history(limit = 200): HistoryEntry[] {
    if (!existsSync(this.historyPath)) return [];
    const lines = readFileSync(this.historyPath, 'utf8').split('\n').filter(Boolean);
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
    writeFileDurably(this.statePath, JSON.stringify(next, null, 2));
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
      },
      // Journals before #14 kept per-source `sequences` of another counter: dropped, not carried.
      release: { ...fresh.release, ...state.release },
      goodReleases: { ...state.goodReleases },
    };
  }
}
