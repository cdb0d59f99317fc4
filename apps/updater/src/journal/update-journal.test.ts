import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UpdateJournal } from './update-journal';

const dir = () => mkdtempSync(join(tmpdir(), 'updater-journal-'));

describe('UpdateJournal', () => {
  it('keeps every step across a restart', () => {
    const dataDir = dir();
    const journal = new UpdateJournal(dataDir);
    journal.updateApp('core', (s) => {
      s.pending = { target: { version: '1.0.0', image: 'r@sha256:1' }, step: 'stopping-old', startedAt: 1 };
    });
    journal.save({ floor: 3, slots: {}, revoked: [{ image: 'sha256:1', name: 'v1.0.0', reason: 'r' }] });
    journal.rememberGood('core', { version: '1.0.0', image: 'r@sha256:1' });
    const reopened = new UpdateJournal(dataDir);
    expect(reopened.app('core').pending?.step).toBe('stopping-old');
    expect(reopened.load()).toMatchObject({ floor: 3, revoked: [{ image: 'sha256:1' }] });
    expect(reopened.snapshot.goodReleases.core).toEqual([{ version: '1.0.0', image: 'r@sha256:1' }]);
  });

  it('remembers the last few good releases per app, newest last, without repeats', () => {
    const journal = new UpdateJournal(dir());
    for (const n of [1, 2, 1, 3, 4, 5, 6, 6]) {
      journal.rememberGood('core', { version: `1.0.${n}`, image: `r@sha256:${n}` });
    }
    expect(journal.snapshot.goodReleases.core?.map((r) => r.version)).toEqual(
      ['1.0.2', '1.0.1', '1.0.3', '1.0.4', '1.0.5', '1.0.6'].slice(-5),
    );
  });

  it('drops the per-source sequences of a journal written before fleet documents', () => {
    const dataDir = dir();
    writeFileSync(
      join(dataDir, 'updater-state.json'),
      JSON.stringify({
        format: 1,
        apps: { core: { failedImages: [] } },
        sequences: { pin: { sequence: 9 } },
      }),
    );
    expect(new UpdateJournal(dataDir).load()).toEqual({ floor: 1, slots: {}, revoked: [] });
  });

  it('skips a torn last history line', () => {
    const dataDir = dir();
    const journal = new UpdateJournal(dataDir);
    journal.record({ ts: 1, app: 'core', type: 'install.committed', message: 'ok' });
    writeFileSync(
      join(dataDir, 'updater-history.jsonl'),
      readFileSync(join(dataDir, 'updater-history.jsonl'), 'utf8') + '{"ts":2,"ap',
    );
    expect(new UpdateJournal(dataDir).history()).toHaveLength(1);
  });

  it('refuses a journal it cannot read with a coded error', () => {
    const dataDir = dir();
    writeFileSync(join(dataDir, 'updater-state.json'), 'garbage');
    expect(() => new UpdateJournal(dataDir)).toThrow(expect.objectContaining({ code: 'JOURNAL_CORRUPT' }));
  });

  it('rotates the history: the newest entries in the current file, the ones before in one rotated file', () => {
    const dataDir = dir();
    const journal = new UpdateJournal(dataDir, { historyEntries: 3 });
    for (let ts = 1; ts <= 8; ts++)
      journal.record({ ts, app: 'core', type: 'install.committed', message: `${ts}` });
    const lines = (name: string) => readFileSync(join(dataDir, name), 'utf8').split('\n').filter(Boolean);
    expect(lines('updater-history.jsonl').map((l) => JSON.parse(l).ts)).toEqual([7, 8]);
    expect(lines('updater-history.1.jsonl').map((l) => JSON.parse(l).ts)).toEqual([4, 5, 6]);
    expect(new UpdateJournal(dataDir, { historyEntries: 3 }).history().map((e) => e.ts)).toEqual([
      4, 5, 6, 7, 8,
    ]);
    expect(existsSync(join(dataDir, 'updater-history.2.jsonl'))).toBe(false);
  });

  it('on a full disk refuses a step with JOURNAL_WRITE_FAILED and keeps the state it had', () => {
    const dataDir = dir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dataDir]);
    try {
      const journal = new UpdateJournal(dataDir);
      journal.updateApp(
        'core',
        (s) => (s.current = { version: '1.0.0', image: 'r@sha256:1', containerId: 'a' }),
      );
      const fd = openSync(join(dataDir, 'filler'), 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096));
      } catch {
        closeSync(fd);
      }
      expect(() =>
        journal.updateApp('core', (s) => {
          s.pending = {
            target: { version: '2.0.0', image: 'r@sha256:2' },
            step: 'downloading',
            startedAt: 1,
          };
        }),
      ).toThrow(expect.objectContaining({ code: 'JOURNAL_WRITE_FAILED', details: { errno: 'ENOSPC' } }));
      expect(journal.app('core').pending).toBeUndefined();
      expect(journal.writeFailure?.code).toBe('JOURNAL_WRITE_FAILED');
      expect(existsSync(join(dataDir, 'updater-state.json.tmp'))).toBe(false);
      expect(journal.record({ ts: 1, app: 'core', type: 'install.failed', message: 'full' })).toBe(false);

      // The way back is applied in memory even so; the disk keeps what leads to the same place.
      const failure = journal.updateAppBestEffort('core', (s) => s.failedImages.push('r@sha256:2'));
      expect(failure?.code).toBe('JOURNAL_WRITE_FAILED');
      expect(journal.app('core').failedImages).toEqual(['r@sha256:2']);
      expect(new UpdateJournal(dataDir).app('core').current?.version).toBe('1.0.0');

      execFileSync('rm', [join(dataDir, 'filler')]);
      journal.record({ ts: 2, app: 'core', type: 'install.committed', message: 'room again' });
      journal.updateApp('core', (s) => (s.spec = undefined));
      expect(journal.writeFailure).toBeUndefined();
      expect(new UpdateJournal(dataDir).app('core').failedImages).toEqual(['r@sha256:2']);
      expect(journal.history().map((e) => e.ts)).toEqual([2]);
    } finally {
      execFileSync('umount', [dataDir]);
    }
  });
});
