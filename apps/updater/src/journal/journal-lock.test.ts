import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalLock } from './journal-lock';

describe('the journal lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has one holder per folder at a time, and is free again once released', async () => {
    const held = await JournalLock.tryAcquire(dir);
    expect(held).not.toBeNull();
    expect(await JournalLock.tryAcquire(dir)).toBeNull();
    const other = mkdtempSync(join(tmpdir(), 'journal-lock-other-'));
    const elsewhere = await JournalLock.tryAcquire(other);
    expect(elsewhere).not.toBeNull();
    await elsewhere!.release();
    rmSync(other, { recursive: true });
    const waiting = JournalLock.acquire(dir, { pollMs: 20 });
    await held!.release();
    await (await waiting).release();
  });

  it('is free at once when its holder is killed with SIGKILL', async () => {
    // A separate process holds it, as another updater would.
    const source = `
      const { createServer } = require('node:net');
      const s = createServer();
      s.listen('\\0' + process.argv[1], () => console.log('holding'));`;
    const child = spawn(process.execPath, ['-e', source, JournalLock.nameOf(dir)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', () => resolve()),
    );
    expect(await JournalLock.tryAcquire(dir)).toBeNull();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const lock = await JournalLock.tryAcquire(dir);
    expect(lock).not.toBeNull();
    await lock!.release();
  });
});
