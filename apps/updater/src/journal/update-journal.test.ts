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
    journal.setSequence('channel:stable', { sequence: 7, digest: 'd' });
    const reopened = new UpdateJournal(dataDir);
    expect(reopened.app('core').pending?.step).toBe('stopping-old');
    expect(reopened.sequence('channel:stable')?.sequence).toBe(7);
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
