import { execFile } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '@growoff/test-services';
import { keyIdOf, loadTrustedKeys, verifyEnvelope, type ReleasePayload } from '@growoff/protocol';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest, FleetHarness, Observer, unique } from './fleet-harness';

const fleet = new FleetHarness();
let observer: Observer;
let keys: { privateKeyPath: string; publicKeyPath: string };

const channelTopic = (channel: string) => `growoff/v1/fleet/releases/${channel}`;
const pinTopic = (moduleId: string) => `growoff/v1/modules/${moduleId}/release`;
const image = (fill: string) => `127.0.0.1:15000/growoff/core@sha256:${digest(fill)}`;

beforeAll(async () => {
  observer = await Observer.connect();
  keys = await fleet.keygen();
});

afterAll(async () => {
  await observer?.close();
});

async function retainedRelease(topic: string): Promise<ReleasePayload> {
  return verifyEnvelope(await observer.retained(topic), loadTrustedKeys(keys.publicKeyPath));
}

describe('keygen', () => {
  it('writes an Ed25519 pair with a private key only its owner can read', async () => {
    expect(statSync(keys.privateKeyPath).mode & 0o777).toBe(0o600);
    const [trusted] = loadTrustedKeys(keys.publicKeyPath);
    expect(trusted!.keyid).toBe(keyIdOf(readFileSync(keys.privateKeyPath, 'utf8')));
  });

  it('refuses to overwrite an existing key without --force', async () => {
    const again = await fleet.run(['keygen', '--out', 'keys', '--name', 'release']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^FLEET_KEY_EXISTS: /);
    const forced = await fleet.run(['keygen', '--out', 'keys', '--name', 'other', '--force']);
    expect(forced.code).toBe(0);
  });
});

describe('sign', () => {
  it('turns a payload file into an envelope the modules verify', async () => {
    writeFileSync(
      join(fleet.dir, 'release.json'),
      JSON.stringify({ app: 'core', version: '2.0.0', image: image('c'), rollout: { percent: 5 } }),
    );
    const result = await fleet.run([
      'sign',
      '--payload',
      'release.json',
      '--channel',
      'beta',
      '--sequence',
      '4',
      '--out',
      'env.json',
    ]);
    expect(result.code, result.err).toBe(0);
    const envelope = JSON.parse(readFileSync(join(fleet.dir, 'env.json'), 'utf8')) as unknown;
    const payload = verifyEnvelope(envelope, loadTrustedKeys(keys.publicKeyPath));
    expect(payload).toMatchObject({
      version: '2.0.0',
      channel: 'beta',
      sequence: 4,
      rollout: { percent: 5 },
    });
  });

  it('refuses a release without a sequence, or with a tag instead of a digest', async () => {
    const noSequence = await fleet.run([
      'sign',
      '--channel',
      'beta',
      '--version',
      '1.0.0',
      '--image',
      image('d'),
      '--percent',
      '1',
    ]);
    expect(noSequence.code).toBe(2);
    expect(noSequence.err).toMatch(/^FLEET_USAGE: .*sequence/);
    const tagged = await fleet.run([
      'sign',
      '--channel',
      'beta',
      '--sequence',
      '1',
      '--version',
      '1.0.0',
      '--image',
      'growoff/core:latest',
      '--percent',
      '1',
    ]);
    expect(tagged.code).toBe(1);
    expect(tagged.err).toMatch(/^BAD_PAYLOAD: .*image/);
  });
});

describe('publish', () => {
  it('retains a verifiable envelope on the channel, sequenced by the clock and always increasing', async () => {
    const channel = unique('pub');
    observer.track(channelTopic(channel));
    const clock = new Date('2026-11-27T03:00:00.000Z');
    const now = { now: () => clock };
    const first = await fleet.run(
      ['publish', '--channel', channel, '--version', '1.0.0', '--image', image('1'), '--percent', '10'],
      now,
    );
    expect(first.code, first.err).toBe(0);
    expect(await retainedRelease(channelTopic(channel))).toMatchObject({
      app: 'core',
      version: '1.0.0',
      image: image('1'),
      channel,
      sequence: clock.getTime(),
      rollout: { percent: 10 },
    });
    const second = await fleet.run(
      ['publish', '--channel', channel, '--version', '1.1.0', '--image', image('2'), '--percent', '10'],
      now,
    );
    expect(second.code, second.err).toBe(0);
    expect(await retainedRelease(channelTopic(channel))).toMatchObject({
      version: '1.1.0',
      sequence: clock.getTime() + 1,
    });
  });

  it('publishes a pre-signed envelope only for its channel and above the retained sequence', async () => {
    const channel = unique('presigned');
    observer.track(channelTopic(channel));
    fleet.env.GROWOFF_RELEASE_KEYS = keys.publicKeyPath;
    const sign = (sequence: number, forChannel = channel) =>
      fleet.run([
        'sign',
        '--channel',
        forChannel,
        '--sequence',
        String(sequence),
        '--version',
        '3.0.0',
        '--image',
        image('3'),
        '--percent',
        '100',
        '--out',
        `env-${forChannel}-${sequence}.json`,
      ]);
    await sign(5);
    await sign(6, 'other');
    const published = await fleet.run([
      'publish',
      '--channel',
      channel,
      '--envelope',
      `env-${channel}-5.json`,
    ]);
    expect(published.code, published.err).toBe(0);
    expect((await retainedRelease(channelTopic(channel))).sequence).toBe(5);

    const replay = await fleet.run(['publish', '--channel', channel, '--envelope', `env-${channel}-5.json`]);
    expect(replay.err).toMatch(/^FLEET_STALE_SEQUENCE: /);
    const wrongChannel = await fleet.run(['publish', '--channel', channel, '--envelope', 'env-other-6.json']);
    expect(wrongChannel.err).toMatch(/^FLEET_BAD_OPTION: .*'other'/);
  });
});

describe('pin and unpin', () => {
  it('pins one module to a release and unpinning clears the retained pin', async () => {
    const moduleId = unique('pinned');
    const pin = (version: string, fill: string) =>
      fleet.run(['pin', '--module', moduleId, '--version', version, '--image', image(fill)]);
    expect((await pin('4.0.0-rc.1', '4')).code).toBe(0);
    const first = await retainedRelease(pinTopic(moduleId));
    expect(first).toMatchObject({ version: '4.0.0-rc.1', rollout: { percent: 100 } });
    expect((await pin('4.0.0-rc.2', '5')).code).toBe(0);
    const second = await retainedRelease(pinTopic(moduleId));
    expect(second.sequence).toBeGreaterThan(first.sequence);

    const unpin = await fleet.run(['unpin', '--module', moduleId]);
    expect(unpin.code, unpin.err).toBe(0);
    await expect(observer.retained(pinTopic(moduleId), 1_000)).rejects.toThrow(/no retained message/);
  });

  it('gives a pin after an unpin a sequence above the cleared one, so modules do not take it for a replay', async () => {
    const moduleId = unique('repinned');
    const pin = () => fleet.run(['pin', '--module', moduleId, '--version', '6.0.0', '--image', image('e')]);
    await pin();
    const before = (await retainedRelease(pinTopic(moduleId))).sequence;
    await fleet.run(['unpin', '--module', moduleId]);
    await pin();
    expect((await retainedRelease(pinTopic(moduleId))).sequence).toBeGreaterThan(before);
  });

  it('refuses a module id that is not one topic level', async () => {
    const result = await fleet.run(['unpin', '--module', 'a/+/b']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^FLEET_BAD_OPTION: --module/);
  });
});

describe('rollout', () => {
  it("re-signs the channel's release wider with a higher sequence, same image", async () => {
    const channel = unique('rollout');
    observer.track(channelTopic(channel));
    await fleet.run([
      'publish',
      '--channel',
      channel,
      '--version',
      '5.0.0',
      '--image',
      image('6'),
      '--percent',
      '5',
    ]);
    const published = await retainedRelease(channelTopic(channel));
    const widened = await fleet.run(['rollout', '--channel', channel, '--percent', '50']);
    expect(widened.code, widened.err).toBe(0);
    expect(widened.out).toContain('5% → 50%');
    expect(await retainedRelease(channelTopic(channel))).toMatchObject({
      version: '5.0.0',
      image: image('6'),
      rollout: { percent: 50 },
    });
    const rolledOut = await retainedRelease(channelTopic(channel));
    expect(rolledOut.sequence).toBeGreaterThan(published.sequence);

    const narrowed = await fleet.run(['rollout', '--channel', channel, '--percent', '10']);
    expect(narrowed.code).toBe(1);
    expect(narrowed.err).toMatch(/^FLEET_ROLLOUT_NARROWING: /);
    const forced = await fleet.run(['rollout', '--channel', channel, '--percent', '10', '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect((await retainedRelease(channelTopic(channel))).sequence).toBeGreaterThan(rolledOut.sequence);
  });

  it('refuses a channel without a release, and one signed by a key it does not trust', async () => {
    const empty = await fleet.run(['rollout', '--channel', unique('empty'), '--percent', '50']);
    expect(empty.err).toMatch(/^FLEET_NO_RELEASE: .*no release/);

    const channel = unique('foreign');
    observer.track(channelTopic(channel));
    const stranger = new FleetHarness();
    await stranger.keygen('stranger');
    await stranger.run([
      'publish',
      '--channel',
      channel,
      '--version',
      '1.0.0',
      '--image',
      image('7'),
      '--percent',
      '5',
    ]);
    const env = { ...fleet.env };
    delete fleet.env.GROWOFF_RELEASE_KEYS;
    const result = await fleet.run(['rollout', '--channel', channel, '--percent', '50']);
    Object.assign(fleet.env, env);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^FLEET_NO_RELEASE: .*does not verify/);
  });
});

describe('bad input', () => {
  it('answers an unknown command or option with FLEET_USAGE and exit code 2', async () => {
    expect(await fleet.run(['deploy'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^FLEET_USAGE: unknown command 'deploy'/),
    });
    expect(await fleet.run(['publish', '--chanel', 'x'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^FLEET_USAGE: /),
    });
  });

  it('refuses a percent outside 0..100 and a channel that is not one topic level', async () => {
    const percent = await fleet.run(['rollout', '--channel', 'stable', '--percent', '150']);
    expect(percent.err).toMatch(/^FLEET_BAD_OPTION: --percent/);
    const channel = await fleet.run(['publish', '--channel', 'stable/#', '--version', '1.0.0']);
    expect(channel.err).toMatch(/^FLEET_BAD_OPTION: --channel/);
  });

  it('says which broker it cannot reach', async () => {
    const port = await freePort();
    const result = await fleet.run(['unpin', '--module', 'm1', '--mqtt-url', `mqtt://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^FLEET_MQTT_UNREACHABLE: .*127\\.0\\.0\\.1:${port}`));
  });

  it('needs a signing key to publish', async () => {
    const bare = new FleetHarness();
    const result = await bare.run([
      'publish',
      '--channel',
      'stable',
      '--version',
      '1.0.0',
      '--image',
      image('8'),
      '--percent',
      '1',
    ]);
    expect(result.err).toMatch(/^FLEET_USAGE: no signing key.*GROWOFF_RELEASE_SIGNING_KEY/);
  });

  it('prints only CODE: message from the real entry point, with a failing exit code', async () => {
    const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
    const run = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'rollout', '--channel', 'stable', '--percent', '150'],
      {
        cwd: pkg,
        env: { ...process.env, GROWOFF_MQTT_URL: fleet.env.GROWOFF_MQTT_URL },
      },
    );
    const failure = (await run.then(
      () => null,
      (error: unknown) => error,
    )) as { code: number; stderr: string } | null;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe("FLEET_BAD_OPTION: --percent must be a number from 0 to 100, got '150'\n");
  });
});
