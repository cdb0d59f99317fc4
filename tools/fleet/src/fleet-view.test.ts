import { generateReleaseKeyPair, signEnvelope } from '@growoff/protocol';
import { describe, expect, it } from 'vitest';
import { FleetView, renderFleet } from './fleet-view';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const prefix = 'growoff/v1/modules';
const keys = generateReleaseKeyPair();
const release = (
  name: string,
  sequence: number,
  target: { module: string } | { channel: string; rollout: { percent: number } },
) =>
  json(
    signEnvelope(
      {
        kind: 'release',
        name,
        apps: { core: { version: name.slice(1), image: `r/core@sha256:${'e'.repeat(64)}` } },
        target,
        sequence,
        issuedAt: '2026-11-27T03:00:00Z',
      },
      keys,
    ),
  );

describe('FleetView', () => {
  it('joins core status, updater status and pin per module, sorted by id', () => {
    const view = new FleetView();
    view.apply(`${prefix}/m2/core/status`, json({ state: 'online', version: '1.0.0' }));
    view.apply(
      `${prefix}/m1/updater/status`,
      json({ state: 'online', version: '0.1.0', current: '1.0.0', phase: 'idle' }),
    );
    view.apply(`${prefix}/m1/release`, release('v2.0.0-rc1', 3, { module: 'm1' }));
    expect(view.rows().map((r) => [r.moduleId, r.core.state, r.phase, r.pinned])).toEqual([
      ['m1', '-', 'idle', 'v2.0.0-rc1'],
      ['m2', 'online', '-', undefined],
    ]);
  });

  it('drops the pin when a signed unpin replaces it', () => {
    const view = new FleetView();
    view.apply(`${prefix}/m1/release`, release('v2.0.0-rc1', 3, { module: 'm1' }));
    const unpin = signEnvelope(
      { kind: 'unpin', module: 'm1', sequence: 4, issuedAt: '2026-11-27T03:00:00Z' },
      keys,
    );
    view.apply(`${prefix}/m1/release`, json(unpin));
    expect(view.rows()).toEqual([]);
  });

  it('forgets a module whose retained messages are all cleared', () => {
    const view = new FleetView();
    view.apply(`${prefix}/gone/core/status`, json({ state: 'online', version: '1' }));
    view.apply(`${prefix}/gone/core/status`, Buffer.alloc(0));
    expect(view.rows()).toEqual([]);
  });

  it('shows download progress only while the updater is downloading', () => {
    const view = new FleetView();
    view.apply(`${prefix}/m/updater/status`, json({ phase: 'downloading' }));
    view.apply(`${prefix}/m/events`, json({ type: 'x', data: { bytes: 512, total: 1024 } }));
    expect(view.rows()[0]?.progress).toBe(50);
    view.apply(`${prefix}/m/updater/status`, json({ phase: 'installing' }));
    expect(view.rows()[0]?.progress).toBeUndefined();
  });

  it('ignores events without progress, other prefixes and unrelated topics', () => {
    const view = new FleetView({ prefix: 'lab-' });
    expect(view.apply(`${prefix}/lab-1/events`, json({ type: 'x' }))).toBe(false);
    expect(view.apply(`${prefix}/prod-1/core/status`, json({ state: 'online' }))).toBe(false);
    expect(view.apply(`${prefix}/lab-1/sensors/co2`, json({ value: 1 }))).toBe(false);
    expect(view.apply('other/topic', json({}))).toBe(false);
  });

  it("marks a pin or channel release that is not an envelope as 'invalid'", () => {
    const view = new FleetView();
    view.apply(`${prefix}/m/release`, Buffer.from('garbage'));
    view.apply('growoff/v1/fleet/releases/beta', Buffer.from('{}'));
    expect(view.rows()[0]?.pinned).toBe('invalid');
    expect(view.channelRows()).toEqual([
      { channel: 'beta', name: 'invalid', apps: '-', sequence: null, percent: null },
    ]);
  });

  it('renders channels, an aligned table and a count per phase', () => {
    const view = new FleetView();
    view.apply(
      'growoff/v1/fleet/releases/stable',
      release('v1.0.0', 9, { channel: 'stable', rollout: { percent: 40 } }),
    );
    view.apply(
      `${prefix}/a/updater/status`,
      json({ state: 'online', phase: 'idle', lastResult: { ok: false } }),
    );
    view.apply(`${prefix}/bb/updater/status`, json({ state: 'online', phase: 'idle' }));
    const text = renderFleet(view);
    expect(text).toContain('channel stable: v1.0.0 (core 1.0.0)  sequence 9  rollout 40%');
    expect(text.split('\n')).toContain('a       -     online   -        -       idle   failed');
    expect(text).toContain('2 modules: 2 idle');
  });
});
