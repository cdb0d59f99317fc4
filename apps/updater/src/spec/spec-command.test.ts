import { describe, expect, it } from 'vitest';
import { specArgs } from './spec-command';

describe('main.js spec', () => {
  it('gives the updater container as docker run arguments, from the layout variables alone', () => {
    const args = specArgs(['updater'], { GROWOFF_HOST_ETC: '/srv/etc', GROWOFF_MANAGED_BY: 'm1' });
    expect(args.slice(0, 2)).toEqual(['--name', expect.stringMatching(/^growoff-updater-[0-9a-f]{6}$/)]);
    expect(args).toEqual(
      expect.arrayContaining(['--env-file', '/srv/etc/updater.env', '--label', 'growoff.managed-by=m1']),
    );
    expect(args).toContain(`GROWOFF_SELF_CONTAINER=${args[1]}`);
  });

  it('refuses an unknown app and a bad layout with a coded error', () => {
    expect(() => specArgs(['dishwasher'], {})).toThrow(
      expect.objectContaining({
        code: 'NO_CONTAINER_SPEC',
        message:
          "usage: main.js spec <app>, the app one of core, telegraf, tunnel, updater (got 'dishwasher')",
      }),
    );
    expect(() => specArgs(['updater'], { GROWOFF_HOST_ETC: 'relative' })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('GROWOFF_HOST_ETC'),
      }),
    );
  });
});
