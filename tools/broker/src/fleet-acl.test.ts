import { describe, expect, it } from 'vitest';
import { fleetAcl } from './fleet-acl';

describe('fleetAcl', () => {
  const acl = fleetAcl({ release: 'release-mgr', operators: ['cloud'] });
  const lines = acl.split('\n');

  it('gives modules their own prefix by %u pattern, read-only for the release pin', () => {
    expect(lines).toContain('pattern read growoff/v1/modules/%u/#');
    expect(lines).toContain('pattern read growoff/v1/fleet/releases/#');
    expect(lines).toContain('pattern read growoff/v1/fleet/revocations');
    expect(lines).toContain('pattern read growoff/v1/fleet/keys');
    const writes = lines.filter((l) => l.startsWith('pattern write'));
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w).toMatch(/^pattern write growoff\/v1\/modules\/%u\//);
    expect(writes.some((w) => w.endsWith('/release') || w.endsWith('%u/+') || w.endsWith('%u/#'))).toBe(
      false,
    );
  });

  it('lets only the release identity write channel releases and pins', () => {
    const releaseBlock = acl.slice(acl.indexOf('user release-mgr'), acl.indexOf('user cloud'));
    expect(releaseBlock).toContain('topic readwrite growoff/v1/fleet/releases/#');
    expect(releaseBlock).toContain('topic readwrite growoff/v1/modules/+/release');
    expect(releaseBlock).toContain('topic readwrite growoff/v1/fleet/revocations');
    expect(releaseBlock).toContain('topic readwrite growoff/v1/fleet/keys');
    const operatorBlock = acl.slice(acl.indexOf('user cloud'));
    expect(operatorBlock).not.toMatch(/write growoff\/v1\/fleet|write growoff\/v1\/modules\/\+\/release/);
  });
});
