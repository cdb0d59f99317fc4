import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
});
