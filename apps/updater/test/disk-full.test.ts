import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdaterEvent } from '../src/updater';
import { UpdaterHarness } from './support/harness';

/**
 * The updater's data dir on a real tmpfs of its own: filled up (ENOSPC) or remounted read-only
 * (EROFS) at the moment an install reaches each step, from a listener of the event raised there.
 */
class SmallDisk {
  private readonly filler: string;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', path]);
    this.filler = join(path, 'filler');
  }

  fill(): void {
    const fd = openSync(this.filler, 'a');
    const chunk = Buffer.alloc(4096);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
  }

  readOnly(): void {
    execFileSync('mount', ['-o', 'remount,ro', this.path]);
  }

  /** Writable again, with its space back. */
  heal(): void {
    execFileSync('mount', ['-o', 'remount,rw', this.path]);
    rmSync(this.filler, { force: true });
  }

  unmount(): void {
    execFileSync('umount', [this.path]);
  }
}

describe('a full or read-only disk at each install step', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let disk: SmallDisk;
  let v1: string;
  let v2: string;
  let broken: string;

  beforeAll(async () => {
    h = await UpdaterHarness.create({ env: { GROWOFF_HEALTH_TIMEOUT_S: '8', GROWOFF_PROBATION_S: '1' } });
    disk = new SmallDisk(h.dataDir);
    v1 = h.images.build({ version: '1.0.0' });
    v2 = h.images.build({ version: '2.0.0' });
    broken = h.images.build({ version: '2.1.0', mode: 'unhealthy' });
    await h.startUpdater();
    await h.installed(v1, '1.0.0');
  }, 180_000);

  afterAll(async () => {
    await h?.stopUpdater();
    disk?.heal();
    disk?.unmount();
    await h?.cleanup();
  });

  const steps: Array<{
    at: string;
    when: string;
    fault: 'ENOSPC' | 'EROFS';
    image?: () => string;
    expect: { type: string; code: string; step?: string };
  }> = [
    {
      at: 'the journal write before the pull',
      when: 'release.accepted',
      fault: 'ENOSPC',
      expect: { type: 'install.failed', code: 'JOURNAL_WRITE_FAILED', step: 'downloading' },
    },
    {
      at: 'the journal write after the pull',
      when: 'download.completed',
      fault: 'EROFS',
      expect: { type: 'install.failed', code: 'JOURNAL_WRITE_FAILED', step: 'downloaded' },
    },
    {
      at: 'the journal write after the old core stopped',
      when: 'install.stopping_old',
      fault: 'ENOSPC',
      expect: { type: 'install.rolled_back', code: 'JOURNAL_WRITE_FAILED' },
    },
    {
      at: 'the start of the new core',
      when: 'install.starting_new',
      fault: 'EROFS',
      expect: { type: 'install.rolled_back', code: 'JOURNAL_WRITE_FAILED' },
    },
    {
      at: 'the commit',
      when: 'install.health_gate',
      fault: 'ENOSPC',
      expect: { type: 'install.rolled_back', code: 'JOURNAL_WRITE_FAILED' },
    },
    {
      at: 'the rollback of a core that failed its gate',
      when: 'install.health_gate',
      fault: 'ENOSPC',
      image: () => broken,
      expect: { type: 'install.rolled_back', code: 'HEALTH_GATE_FAILED' },
    },
  ];

  for (const s of steps) {
    it(`${s.fault} at ${s.at} leaves the old core running and a coded error`, async () => {
      const target = s.image?.() ?? v2;
      const off = h.updater!.onEvent((e: UpdaterEvent) => {
        if (e.type !== s.when) return;
        off();
        if (s.fault === 'ENOSPC') disk.fill();
        else disk.readOnly();
      });
      const outcome = h.nextEvent(s.expect.type, (e) => e.data?.image === target);
      try {
        await h.publish(target, target === broken ? '2.1.0' : '2.0.0');
        const event = await outcome;
        if (s.expect.type === 'install.failed') {
          expect(event.data).toMatchObject({ step: s.expect.step, error: { code: s.expect.code } });
        } else {
          expect(event.data).toMatchObject({ code: s.expect.code });
        }
        expect(h.updater!.status().lastError).toMatchObject({ code: s.expect.code, app: 'core' });
        expect(h.updater!.status().phase).toMatch(/idle|probation/);
        const health = await h.updater!.health();
        expect(health).toMatchObject({ status: 'degraded', reasons: ['journal'] });
        expect(health.errors?.journal).toContain(s.fault);
        await waitUntil('the old core answering', async () => (await h.coreHealth()) === '1.0.0', 30_000);
        const running = (await h.coreContainers()).filter((c) => c.running);
        expect(running).toEqual([expect.objectContaining({ image: v1 })]);
      } finally {
        off();
        disk.heal();
      }
    });
  }

  it('installs the release once the disk takes writes again', async () => {
    const committed = h.nextEvent('install.committed', (e) => e.data?.image === v2);
    await h.publish(v2, '2.0.0');
    await committed;
    expect(await h.coreHealth()).toBe('2.0.0');
    expect(await h.updater!.health()).toEqual({ status: 'ok' });
    expect(h.updater!.journal.app('core').failedImages).toEqual([broken]);
  });
});
