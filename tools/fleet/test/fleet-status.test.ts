import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelRow, ModuleRow } from '../src';
import { digest, FleetHarness, Observer, unique } from './fleet-harness';

const fleet = new FleetHarness();
let observer: Observer;
const prefix = unique('status');
const ids = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
const channel = unique('status-ch');
const status = (id: string, app: string) => `growoff/v1/modules/${id}/${app}/status`;

beforeAll(async () => {
  observer = await Observer.connect();
  await fleet.keygen();
  const [a, b, c] = ids as [string, string, string];
  await observer.publishRetained(status(a, 'core'), { state: 'online', version: '1.0.0', ts: Date.now() });
  await observer.publishRetained(status(a, 'updater'), {
    state: 'online',
    version: '0.3.0',
    current: '1.0.0',
    target: '1.0.0',
    phase: 'idle',
    lastResult: { result: 'committed', version: '1.0.0' },
    ts: Date.now(),
  });
  await observer.publishRetained(status(b, 'core'), { state: 'offline', version: '0.9.0', ts: Date.now() });
  await observer.publishRetained(status(b, 'updater'), {
    state: 'online',
    version: '0.3.0',
    current: { version: '0.9.0', image: `r/core@sha256:${digest('9')}` },
    target: { version: '1.0.0', image: `r/core@sha256:${digest('1')}` },
    phase: 'downloading',
    ts: Date.now(),
  });
  await observer.publishRetained(status(c, 'updater'), {
    state: 'online',
    version: '0.3.0',
    current: '0.9.0',
    phase: 'rolled-back',
    lastResult: 'rolled-back',
    ts: Date.now(),
  });
  observer.track(`growoff/v1/fleet/releases/${channel}`);
  observer.track(`growoff/v1/modules/${c}/release`);
  const image = `127.0.0.1:15000/growoff/core@sha256:${digest('1')}`;
  const core = ['--no-git-tag', '--core-version', '1.0.0', '--core-image', image];
  await fleet.run(['publish', '--channel', channel, '--percent', '25', '--name', 'v1.0.0', ...core]);
  await fleet.run(['pin', '--module', c, '--name', 'v1.1.0-rc1', ...core]);
});

afterAll(async () => {
  await observer?.close();
});

describe('status --once', () => {
  it("reports each module's core, current, target, phase, last result and pin from the retained statuses", async () => {
    const result = await fleet.run(['status', '--once', '--json', '--prefix', prefix, '--channel', channel]);
    expect(result.code, result.err).toBe(0);
    const { channels, modules } = JSON.parse(result.out) as { channels: ChannelRow[]; modules: ModuleRow[] };
    expect(channels).toEqual([
      { channel, name: 'v1.0.0', apps: 'core 1.0.0', sequence: expect.any(Number), percent: 25 },
    ]);
    expect(modules.map((m) => m.moduleId)).toEqual(ids);
    const [a, b, c] = modules as [ModuleRow, ModuleRow, ModuleRow];
    expect(a).toMatchObject({
      core: { state: 'online', version: '1.0.0' },
      current: '1.0.0',
      target: '1.0.0',
      phase: 'idle',
      lastResult: 'committed 1.0.0',
    });
    expect(b).toMatchObject({
      core: { state: 'offline' },
      current: '0.9.0',
      target: '1.0.0',
      phase: 'downloading',
    });
    expect(c).toMatchObject({
      core: { state: '-' },
      phase: 'rolled-back',
      lastResult: 'rolled-back',
      pinned: 'v1.1.0-rc1',
    });
  });

  it('prints a table with one line per module and a summary', async () => {
    const result = await fleet.run(['status', '--once', '--prefix', prefix, '--channel', channel]);
    expect(result.code, result.err).toBe(0);
    const lines = result.out.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^channel ${channel}: v1\\.0\\.0 \\(core 1\\.0\\.0\\)  sequence \\d+  rollout 25%$`),
    );
    expect(lines.find((l) => l.startsWith(ids[1]!))).toMatch(
      /offline 0\.9\.0\s+online\s+0\.9\.0\s+1\.0\.0\s+downloading/,
    );
    expect(result.out).toContain('3 modules: 1 idle, 1 downloading, 1 rolled-back');
  });
});

describe('status (live)', () => {
  it('redraws when a module reports, with download progress from its events', async () => {
    const controller = new AbortController();
    let out = '';
    let waiter: { pattern: RegExp; resolve: () => void } | undefined;
    // Resolves at the frame that first shows the pattern.
    const frame = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        if (pattern.test(out)) resolve();
        else waiter = { pattern, resolve };
      });
    const moduleId = ids[1]!;
    const running = fleet.run(['status', '--prefix', prefix], {
      signal: controller.signal,
      out: (text) => {
        out += text;
        if (waiter?.pattern.test(out)) waiter.resolve();
      },
    });
    await frame(new RegExp(moduleId));
    await observer.publish(`growoff/v1/modules/${moduleId}/events`, {
      type: 'update.progress',
      severity: 'info',
      message: 'pulling',
      ts: Date.now(),
      data: { bytes: 300, total: 1000 },
    });
    await frame(/downloading 30%/);
    await observer.publishRetained(status(moduleId, 'updater'), {
      state: 'online',
      version: '0.3.0',
      current: '1.0.0',
      target: '1.0.0',
      phase: 'probation',
      ts: Date.now(),
    });
    await frame(/\n\S+-b .*probation/);
    controller.abort();
    expect((await running).code).toBe(0);
  });
});
