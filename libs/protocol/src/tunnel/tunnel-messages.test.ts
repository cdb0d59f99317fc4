import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { TunnelCloseRequest, TunnelOpenRequest, TunnelStatus } from './tunnel-messages';

describe('tunnel messages', () => {
  it('accepts an open request with a ttl and a reason', () => {
    expect(Value.Check(TunnelOpenRequest, { ttlSeconds: 600, reason: 'pump diagnosis', id: 'r1' })).toBe(
      true,
    );
  });

  it('refuses an open request without a reason, with a non-integer ttl or with unknown fields', () => {
    expect(Value.Check(TunnelOpenRequest, { ttlSeconds: 600 })).toBe(false);
    expect(Value.Check(TunnelOpenRequest, { ttlSeconds: 1.5, reason: 'x' })).toBe(false);
    expect(Value.Check(TunnelOpenRequest, { ttlSeconds: 0, reason: 'x' })).toBe(false);
    expect(Value.Check(TunnelOpenRequest, { ttlSeconds: 60, reason: 'x', port: 22 })).toBe(false);
  });

  it('accepts a close request with or without a reason', () => {
    expect(Value.Check(TunnelCloseRequest, {})).toBe(true);
    expect(Value.Check(TunnelCloseRequest, { reason: 'done' })).toBe(true);
    expect(Value.Check(TunnelCloseRequest, { reason: '' })).toBe(false);
  });

  it('describes an open tunnel and the offline will', () => {
    expect(
      Value.Check(TunnelStatus, {
        state: 'online',
        version: '0.1.0',
        ts: 1,
        tunnel: 'open',
        remotePort: 40022,
        expiresAt: 1_767_225_600_000,
        reason: 'pump diagnosis',
      }),
    ).toBe(true);
    expect(Value.Check(TunnelStatus, { state: 'offline', version: '0.1.0', ts: 1 })).toBe(true);
    expect(Value.Check(TunnelStatus, { state: 'online', version: '0.1.0', ts: 1, tunnel: 'half-open' })).toBe(
      false,
    );
  });
});
