import { describe, expect, it } from 'vitest';
import { cookieValue, SessionStore, SignInThrottle } from './session-auth';

describe('SessionStore', () => {
  it('gives random 256-bit ids that are valid until they expire, then never again', () => {
    let now = 1_000;
    const store = new SessionStore(60_000, () => now);
    const a = store.create();
    const b = store.create();
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(store.valid(a)).toBe(true);
    now += 59_999;
    expect(store.valid(a)).toBe(true);
    now += 1;
    expect(store.valid(a)).toBe(false);
    now -= 10_000;
    expect(store.valid(a)).toBe(false);
    expect(store.valid(undefined)).toBe(false);
    expect(store.valid('made-up')).toBe(false);
  });

  it('forgets a signed-out session', () => {
    const store = new SessionStore();
    const id = store.create();
    store.delete(id);
    expect(store.valid(id)).toBe(false);
  });

  it('keeps at most 64 sessions: a flood of sign-ins drops the oldest, not memory', () => {
    const store = new SessionStore();
    const first = store.create();
    const ids = Array.from({ length: 64 }, () => store.create());
    expect(store.valid(first)).toBe(false);
    expect(ids.every((id) => store.valid(id))).toBe(true);
  });
});

describe('cookieValue', () => {
  it('finds a cookie among others and ignores look-alikes', () => {
    expect(cookieValue('a=1; growoff_session=xyz; b=2', 'growoff_session')).toBe('xyz');
    expect(cookieValue('xgrowoff_session=no', 'growoff_session')).toBeUndefined();
    expect(cookieValue(undefined, 'growoff_session')).toBeUndefined();
    expect(cookieValue('growoff_session', 'growoff_session')).toBeUndefined();
  });
});

describe('SignInThrottle', () => {
  it('allows ten wrong tokens a minute, then makes the next try wait until the oldest leaves the window', () => {
    let now = 0;
    const throttle = new SignInThrottle(10, 60_000, () => now);
    for (let i = 0; i < 10; i++) {
      expect(throttle.waitMs()).toBe(0);
      throttle.failed();
      now += 1000;
    }
    expect(throttle.waitMs()).toBe(50_000);
    now = 60_000;
    expect(throttle.waitMs()).toBe(0);
  });
});
