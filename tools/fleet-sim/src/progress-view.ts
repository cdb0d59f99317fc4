import type { WorkerStats } from './worker-protocol';

/** One line of fleet progress; `previous` (with its time) gives the reading rate. */
export function renderProgress(
  stats: WorkerStats,
  elapsedMs: number,
  previous?: { stats: WorkerStats; elapsedMs: number },
): string {
  const seconds = previous ? (elapsedMs - previous.elapsedMs) / 1000 : 0;
  const rate = previous && seconds > 0 ? Math.round((stats.readings - previous.stats.readings) / seconds) : 0;
  const versions = Object.entries(stats.versions)
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([v, n]) => `${v}×${n}`)
    .join(' ');
  const busy = Object.entries(stats.phases)
    .filter(([phase, n]) => phase !== 'idle' && n > 0)
    .map(([phase, n]) => `${phase} ${n}`)
    .join(', ');
  return [
    `[${(elapsedMs / 1000).toFixed(1)}s]`,
    `${stats.connected}/${stats.modules} connected`,
    `readings ${rate}/s`,
    `versions ${versions || '-'}`,
    busy ? `updating: ${busy}` : 'all idle',
    `installs ${stats.installs}`,
    ...(stats.rejected > 0 ? [`rejected ${stats.rejected}`] : []),
  ].join(' · ');
}
