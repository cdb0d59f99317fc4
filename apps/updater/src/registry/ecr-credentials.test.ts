import { describe, expect, it } from 'vitest';
import { RegistryCredentials, type TokenSource } from './ecr-credentials';

function source(ttlMs: number, clock: { now: number }): TokenSource & { calls: number } {
  const fn = (async () => {
    fn.calls++;
    return {
      auth: { username: 'AWS', password: `token-${fn.calls}`, serveraddress: 'r' },
      endpoint: 'http://r',
      expiresAt: clock.now + ttlMs,
    };
  }) as TokenSource & { calls: number };
  fn.calls = 0;
  return fn;
}

describe('RegistryCredentials', () => {
  it('reuses a token while it is fresh', async () => {
    const clock = { now: 0 };
    const src = source(12 * 3600_000, clock);
    const creds = new RegistryCredentials(src, () => clock.now);
    await creds.get();
    clock.now += 3600_000;
    await creds.get();
    expect(src.calls).toBe(1);
  });

  it('renews a token before it expires', async () => {
    const clock = { now: 0 };
    const src = source(12 * 3600_000, clock);
    const creds = new RegistryCredentials(src, () => clock.now);
    await creds.get();
    clock.now = 12 * 3600_000 - 29 * 60_000;
    expect((await creds.get()).auth.password).toBe('token-2');
  });

  it('renews short-lived tokens in the last quarter of their life', async () => {
    const clock = { now: 0 };
    const src = source(4000, clock);
    const creds = new RegistryCredentials(src, () => clock.now);
    await creds.get();
    clock.now = 2900;
    await creds.get();
    expect(src.calls).toBe(1);
    clock.now = 3100;
    await creds.get();
    expect(src.calls).toBe(2);
  });

  it('asks once when many pulls want a token at the same time', async () => {
    const clock = { now: 0 };
    const src = source(60_000, clock);
    const creds = new RegistryCredentials(src, () => clock.now);
    await Promise.all([creds.get(), creds.get(), creds.get()]);
    expect(src.calls).toBe(1);
  });
});
