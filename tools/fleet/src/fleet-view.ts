import { decodeEnvelopePayload, parseTopic } from '@growoff/protocol';

export interface ModuleRow {
  moduleId: string;
  core: { state: string; version: string };
  updater: { state: string; version: string };
  current: string;
  target: string;
  phase: string;
  /** Download progress from the latest event carrying `data.bytes` / `data.total`, in %. */
  progress?: number;
  lastResult: string;
  /** The fleet release a per-module pin asks for, if the module is pinned. */
  pinned?: string;
  /** When the updater last reported (its `ts`), ISO. */
  updatedAt?: string;
}

export interface ChannelRow {
  channel: string;
  /** The fleet release name, e.g. v1.3.0. */
  name: string;
  /** Its apps as `app version`, e.g. `core 1.3.0, telegraf 1.30.0`. */
  apps: string;
  sequence: number | null;
  percent: number | null;
}

interface ModuleState {
  core?: Record<string, unknown>;
  updater?: Record<string, unknown>;
  pinned?: string;
  progress?: number;
}

/**
 * The fleet as the retained statuses describe it: `core/status`, `updater/status` and `release`
 * per module, the channels' releases, and download progress from module events. Claims are shown
 * as published (this is a view, not the updater's verification).
 */
export class FleetView {
  private readonly modules = new Map<string, ModuleState>();
  private readonly channels = new Map<string, ChannelRow>();

  constructor(private readonly filter: { prefix?: string; channel?: string } = {}) {}

  /** Takes one MQTT message; true when the view changed. */
  apply(topic: string, payload: Buffer): boolean {
    const parsed = parseTopic(topic);
    if (parsed?.kind === 'fleetRelease') return this.applyChannel(parsed.channel, payload);
    if (!parsed || !('moduleId' in parsed)) return false;
    if (this.filter.prefix && !parsed.moduleId.startsWith(this.filter.prefix)) return false;
    const module = this.modules.get(parsed.moduleId) ?? {};
    if (parsed.kind === 'status' && (parsed.app === 'core' || parsed.app === 'updater')) {
      const status = jsonObject(payload);
      if (status) module[parsed.app] = status;
      else delete module[parsed.app];
      if (parsed.app === 'updater' && status?.phase !== 'downloading') delete module.progress;
    } else if (parsed.kind === 'release') {
      const claimed = payload.length === 0 ? undefined : claimedPayload(payload);
      // A signed unpin (or the old empty message) leaves the module to its channel.
      if (payload.length === 0 || claimed?.kind === 'unpin') delete module.pinned;
      else module.pinned = typeof claimed?.name === 'string' ? claimed.name : 'invalid';
    } else if (parsed.kind === 'events') {
      const data = jsonObject(payload)?.data as { bytes?: unknown; total?: unknown } | undefined;
      if (typeof data?.bytes !== 'number' || typeof data.total !== 'number' || data.total <= 0) return false;
      module.progress = Math.min(100, Math.floor((data.bytes / data.total) * 100));
    } else {
      return false;
    }
    if (!module.core && !module.updater && module.pinned === undefined) this.modules.delete(parsed.moduleId);
    else this.modules.set(parsed.moduleId, module);
    return true;
  }

  rows(): ModuleRow[] {
    return [...this.modules.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([moduleId, m]) => ({
        moduleId,
        core: { state: text(m.core?.state), version: text(m.core?.version) },
        updater: { state: text(m.updater?.state), version: text(m.updater?.version) },
        current: versionText(m.updater?.current),
        target: versionText(m.updater?.target),
        phase: text(m.updater?.phase),
        ...(m.progress !== undefined ? { progress: m.progress } : {}),
        lastResult: resultText(m.updater?.lastResult),
        ...(m.pinned !== undefined ? { pinned: m.pinned } : {}),
        ...(typeof m.updater?.ts === 'number' || typeof m.updater?.ts === 'string'
          ? { updatedAt: new Date(m.updater.ts).toISOString() }
          : {}),
      }));
  }

  channelRows(): ChannelRow[] {
    return [...this.channels.values()].sort((a, b) => a.channel.localeCompare(b.channel));
  }

  private applyChannel(channel: string, payload: Buffer): boolean {
    if (this.filter.channel && channel !== this.filter.channel) return false;
    if (payload.length === 0) return this.channels.delete(channel);
    const claimed = claimedPayload(payload);
    const apps = claimed?.apps && typeof claimed.apps === 'object' ? Object.entries(claimed.apps) : [];
    const percent = claimed?.target?.rollout?.percent;
    this.channels.set(channel, {
      channel,
      name: typeof claimed?.name === 'string' ? claimed.name : 'invalid',
      apps: apps.map(([app, a]) => `${app} ${versionText(a)}`).join(', ') || '-',
      sequence: typeof claimed?.sequence === 'number' ? claimed.sequence : null,
      percent: typeof percent === 'number' ? percent : null,
    });
    return true;
  }
}

/** The view as a text table with a header per channel and a summary line. */
export function renderFleet(view: FleetView): string {
  const lines: string[] = [];
  for (const c of view.channelRows()) {
    lines.push(
      `channel ${c.channel}: ${c.name} (${c.apps})  sequence ${c.sequence ?? '-'}  rollout ${c.percent ?? '-'}%`,
    );
  }
  const rows = view.rows();
  const table = [
    ['MODULE', 'CORE', 'UPDATER', 'CURRENT', 'TARGET', 'PHASE', 'LAST RESULT', 'PIN'],
    ...rows.map((r) => [
      r.moduleId,
      r.core.state === '-' ? '-' : `${r.core.state} ${r.core.version}`,
      r.updater.state,
      r.current,
      r.target,
      r.progress !== undefined ? `${r.phase} ${r.progress}%` : r.phase,
      r.lastResult,
      r.pinned ?? '',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  if (lines.length > 0) lines.push('');
  for (const row of table)
    lines.push(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  const phases = new Map<string, number>();
  for (const r of rows) phases.set(r.phase, (phases.get(r.phase) ?? 0) + 1);
  const summary = [...phases.entries()].map(([phase, n]) => `${n} ${phase}`).join(', ');
  lines.push('', `${rows.length} module${rows.length === 1 ? '' : 's'}${summary ? `: ${summary}` : ''}`);
  return lines.join('\n') + '\n';
}

function jsonObject(payload: Buffer): Record<string, unknown> | undefined {
  if (payload.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** What a retained fleet document claims (unverified: this is a view). */
function claimedPayload(payload: Buffer):
  | {
      kind?: unknown;
      name?: unknown;
      apps?: Record<string, unknown>;
      sequence?: unknown;
      target?: { rollout?: { percent?: unknown } };
    }
  | undefined {
  try {
    const decoded = decodeEnvelopePayload(payload);
    return decoded !== null && typeof decoded === 'object' ? decoded : undefined;
  } catch {
    return undefined;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '-';
}

/** `current` / `target` may be a version string or an object naming version and image. */
function versionText(value: unknown): string {
  if (value && typeof value === 'object') {
    const v = value as { version?: unknown; image?: unknown };
    if (typeof v.version === 'string') return v.version;
    if (typeof v.image === 'string') return v.image.replace(/@sha256:([a-f0-9]{12})[a-f0-9]*$/, '@$1');
  }
  return text(value);
}

function resultText(value: unknown): string {
  if (value && typeof value === 'object') {
    const r = value as Record<string, unknown>;
    const outcome =
      r.result ??
      r.outcome ??
      r.status ??
      r.code ??
      (r.ok === true ? 'ok' : r.ok === false ? 'failed' : undefined);
    const version = r.version ?? versionText(r.target);
    return (
      [text(outcome), typeof version === 'string' && version !== '-' ? version : '']
        .filter((s) => s && s !== '-')
        .join(' ') || '-'
    );
  }
  return text(value);
}
