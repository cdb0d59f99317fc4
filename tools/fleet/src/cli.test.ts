import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, runFleet, USAGE } from './cli';

describe('runFleet', () => {
  it('prints on help a usage entry for each command it runs, and refuses any other with exit code 2', async () => {
    let out = '';
    let err = '';
    const io = { env: {}, cwd: '/', out: (t: string) => (out += t), err: (t: string) => (err += t) };
    expect(await runFleet(['help'], io)).toBe(0);
    expect(out).toBe(USAGE);
    expect(COMMAND_NAMES).toEqual([
      'keygen',
      'candidate',
      'checklist',
      'promote',
      'publish',
      'rollout',
      'pin',
      'unpin',
      'revoke',
      'delete',
      'rotate-keys',
      'sign',
      'floor',
      'status',
    ]);
    for (const name of COMMAND_NAMES) expect(USAGE).toMatch(new RegExp(`^  ${name} +.*\\n {14}\\S`, 'm'));
    expect(await runFleet(['toString'], io)).toBe(2);
    expect(err).toBe("FLEET_USAGE: unknown command 'toString' (see 'npm run fleet -- help')\n");
  });
});
