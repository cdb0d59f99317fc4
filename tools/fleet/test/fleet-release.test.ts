import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEcrStandin, type EcrStandin } from '@growoff/ecr-standin';
import {
  generateReleaseKeyPair,
  keyIdOf,
  loadTrustedKeys,
  signEnvelope,
  verifyEnvelope,
  type FleetPayload,
  type ReleaseDocument,
} from '@growoff/protocol';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  freePort,
  getService,
  startMosquitto,
  stopProcess,
  type MosquittoInfo,
} from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest, FleetHarness, Observer, unique } from './fleet-harness';
import { TinyImages } from './tiny-images';

const fleet = new FleetHarness();
const images = new TinyImages();
let observer: Observer;
let ecr: EcrStandin;
let keys: { privateKeyPath: string; publicKeyPath: string };
// A broker of its own: revocations and key sets are fleet-wide topics other tests' updaters follow.
let broker: MosquittoInfo;

const channelTopic = (channel: string) => `growoff/v1/fleet/releases/${channel}`;
const pinTopic = (moduleId: string) => `growoff/v1/modules/${moduleId}/release`;
const image = (fill: string) => `127.0.0.1:15000/growoff/core@sha256:${digest(fill)}`;
const CHECKLIST_IDS = 'installed,health,sensors,actuators,rollback,changelog';

beforeAll(async () => {
  broker = await startMosquitto({
    dir: mkdtempSync(join(tmpdir(), 'fleet-cli-broker-')),
    port: await freePort(),
  });
  fleet.env.GROWOFF_MQTT_URL = broker.url;
  observer = await Observer.connect(broker.url);
  keys = await fleet.keygen();
  ecr = await startEcrStandin({ registry: getService('registry') });
  Object.assign(fleet.env, {
    GROWOFF_ECR_ENDPOINT: ecr.url,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIDFLEETTEST',
    AWS_SECRET_ACCESS_KEY: 'fleet-test-secret',
  });
  observer.track('growoff/v1/fleet/revocations');
  observer.track('growoff/v1/fleet/keys');
});

afterAll(async () => {
  await observer?.close();
  await ecr?.close();
  await images.cleanup();
  if (broker) await stopProcess(broker.pid);
});

async function retained(topic: string): Promise<FleetPayload> {
  return verifyEnvelope(await observer.retained(topic), loadTrustedKeys(keys.publicKeyPath));
}

async function retainedRelease(topic: string): Promise<ReleaseDocument> {
  const payload = await retained(topic);
  expect(payload.kind).toBe('release');
  return payload as ReleaseDocument;
}

async function ok(args: string[]): Promise<string> {
  const result = await fleet.run(args);
  expect(result.code, `${args.join(' ')}: ${result.err}`).toBe(0);
  return result.out;
}

/** `publish` of release `name` to all of `channel`, without a git tag; the apps' options follow. */
function publishToAll(channel: string, name: string, apps: string[]): Promise<string> {
  return ok(['publish', '--channel', channel, '--percent', '100', '--name', name, '--no-git-tag', ...apps]);
}

/** `publish` of release `name` (vX.Y.Z…) with only a core image, to all of `channel`. */
function publishCore(channel: string, name: string, image: string): Promise<string> {
  return publishToAll(channel, name, ['--core-version', name.slice(1), '--core-image', image]);
}

describe('keygen', () => {
  it('writes an Ed25519 pair with a private key only its owner can read', () => {
    expect(statSync(keys.privateKeyPath).mode & 0o777).toBe(0o600);
    const [trusted] = loadTrustedKeys(keys.publicKeyPath);
    expect(trusted!.keyid).toBe(keyIdOf(readFileSync(keys.privateKeyPath, 'utf8')));
  });

  it('refuses to overwrite an existing key without --force', async () => {
    const again = await fleet.run(['keygen', '--out', 'keys', '--name', 'release']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^FLEET_KEY_EXISTS: /);
    expect((await fleet.run(['keygen', '--out', 'keys', '--name', 'other', '--force'])).code).toBe(0);
  });
});

describe('the fleet sequence counter', () => {
  it('numbers every document of every kind from one counter; floor is what a new module must still accept', async () => {
    const channel = unique('counter');
    const moduleId = unique('counter-m');
    observer.track(channelTopic(channel));
    observer.track(pinTopic(moduleId));
    const core = ['--core-version', '1.0.0', '--core-image', image('1')];
    await ok([
      'publish',
      '--channel',
      channel,
      '--percent',
      '10',
      '--name',
      'v1.0.0',
      '--no-git-tag',
      ...core,
    ]);
    const published = (await retained(channelTopic(channel))).sequence;
    await ok(['pin', '--module', moduleId, '--release', 'v1.0.0', '--no-git-tag']);
    const pinned = await retainedRelease(pinTopic(moduleId));
    await ok(['rollout', '--channel', channel, '--percent', '20']);
    const rolled = (await retained(channelTopic(channel))).sequence;
    await ok(['unpin', '--module', moduleId]);
    const unpin = await retained(pinTopic(moduleId));
    expect([pinned.sequence, rolled, unpin.sequence]).toEqual([published + 1, published + 2, published + 3]);
    expect(pinned.target).toEqual({ module: moduleId });
    expect(unpin).toMatchObject({ kind: 'unpin', module: moduleId });
    // A module installed now must still accept the channel's current release, and nothing older.
    expect(await ok(['floor', '--channel', channel])).toBe(`${published + 2}\n`);
    expect(await ok(['floor', '--channel', unique('none')])).toBe(`${published + 4}\n`);
  });

  it('goes above a higher sequence retained on the topic (a store restored from an old copy)', async () => {
    const channel = unique('restored');
    observer.track(channelTopic(channel));
    const signed = signEnvelope(
      {
        kind: 'release',
        name: 'v0.9.0',
        apps: { core: { version: '0.9.0', image: image('9') } },
        target: { channel, rollout: { percent: 5 } },
        sequence: 9_000_000,
        issuedAt: '2026-11-27T03:00:00Z',
      },
      { privateKeyPem: readFileSync(keys.privateKeyPath, 'utf8') },
    );
    await observer.publishRetained(channelTopic(channel), signed);
    await ok(['rollout', '--channel', channel, '--percent', '50']);
    expect((await retained(channelTopic(channel))).sequence).toBe(9_000_001);
  });
});

describe('publish', () => {
  it("carries the channel's other apps over when a release names only Telegraf", async () => {
    const channel = unique('carry');
    observer.track(channelTopic(channel));
    await publishCore(channel, 'v2.0.0', image('2'));
    const out = await publishToAll(channel, 'v2.0.1', [
      '--telegraf-version',
      '1.30.0',
      '--telegraf-image',
      image('f'),
    ]);
    expect(out).toContain('core carried over from v2.0.0');
    expect((await retainedRelease(channelTopic(channel))).apps).toEqual({
      core: { version: '2.0.0', image: image('2') },
      telegraf: { version: '1.30.0', image: image('f') },
    });
  });

  it('refuses a release name already used for another image, and retains nothing', async () => {
    const channel = unique('reuse');
    observer.track(channelTopic(channel));
    const publish = (fill: string) =>
      fleet.run([
        'publish',
        '--channel',
        channel,
        '--percent',
        '5',
        '--name',
        'v3.0.0',
        '--no-git-tag',
        '--core-version',
        '3.0.0',
        '--core-image',
        image(fill),
      ]);
    expect((await publish('3')).code).toBe(0);
    const before = await retained(channelTopic(channel));
    const again = await publish('4');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^FLEET_RELEASE_EXISTS: v3\.0\.0 already names core/);
    expect(await retained(channelTopic(channel))).toEqual(before);
  });

  it('publishes a pre-signed envelope only for its channel and above the retained sequence', async () => {
    const channel = unique('presigned');
    observer.track(channelTopic(channel));
    fleet.env.GROWOFF_RELEASE_KEYS = keys.publicKeyPath;
    const sign = (sequence: number, forChannel: string) =>
      ok([
        'sign',
        '--channel',
        forChannel,
        '--percent',
        '100',
        '--sequence',
        String(sequence),
        '--name',
        'v3.1.0',
        '--core-version',
        '3.1.0',
        '--core-image',
        image('5'),
        '--out',
        `env-${forChannel}-${sequence}.json`,
      ]);
    await sign(5, channel);
    await sign(6, 'other');
    await ok(['publish', '--channel', channel, '--envelope', `env-${channel}-5.json`]);
    expect((await retained(channelTopic(channel))).sequence).toBe(5);
    const replay = await fleet.run(['publish', '--channel', channel, '--envelope', `env-${channel}-5.json`]);
    expect(replay.err).toMatch(/^FLEET_STALE_SEQUENCE: /);
    const wrong = await fleet.run(['publish', '--channel', channel, '--envelope', 'env-other-6.json']);
    expect(wrong.err).toMatch(/^FLEET_BAD_OPTION: .*not a release for channel/);
  });
});

describe('rollout', () => {
  it('widens with the same apps, pauses at 0 without --force, and narrows otherwise only with --force', async () => {
    const channel = unique('rollout');
    observer.track(channelTopic(channel));
    await ok([
      'publish',
      '--channel',
      channel,
      '--percent',
      '5',
      '--name',
      'v5.0.0',
      '--no-git-tag',
      '--core-version',
      '5.0.0',
      '--core-image',
      image('6'),
    ]);
    expect(await ok(['rollout', '--channel', channel, '--percent', '50'])).toContain('5% → 50%');
    expect(await retainedRelease(channelTopic(channel))).toMatchObject({
      name: 'v5.0.0',
      apps: { core: { image: image('6') } },
      target: { channel, rollout: { percent: 50 } },
    });
    const narrowed = await fleet.run(['rollout', '--channel', channel, '--percent', '10']);
    expect(narrowed.err).toMatch(/^FLEET_ROLLOUT_NARROWING: /);
    expect((await retainedRelease(channelTopic(channel))).target).toMatchObject({ rollout: { percent: 50 } });
    await ok(['rollout', '--channel', channel, '--percent', '0']);
    expect((await retainedRelease(channelTopic(channel))).target).toMatchObject({ rollout: { percent: 0 } });
    await ok(['rollout', '--channel', channel, '--percent', '20']);
    await ok(['rollout', '--channel', channel, '--percent', '10', '--force']);
    expect((await retainedRelease(channelTopic(channel))).target).toMatchObject({ rollout: { percent: 10 } });
  });

  it('refuses a channel without a release, and one signed by a key it does not trust', async () => {
    const empty = await fleet.run(['rollout', '--channel', unique('empty'), '--percent', '50']);
    expect(empty.err).toMatch(/^FLEET_NO_RELEASE: .*no release/);
    const channel = unique('foreign');
    observer.track(channelTopic(channel));
    const stranger = generateReleaseKeyPair();
    await observer.publishRetained(
      channelTopic(channel),
      signEnvelope(
        {
          kind: 'release',
          name: 'v1.0.0',
          apps: { core: { version: '1.0.0', image: image('7') } },
          target: { channel, rollout: { percent: 5 } },
          sequence: 1,
          issuedAt: '2026-11-27T03:00:00Z',
        },
        { privateKeyPem: stranger.privateKeyPem },
      ),
    );
    const result = await fleet.run(['rollout', '--channel', channel, '--percent', '50']);
    expect(result.err).toMatch(/^FLEET_NO_RELEASE: .*does not verify/);
  });
});

describe('candidate, checklist and promote', () => {
  it('pins the candidate, refuses to promote it before its checklist is done, then promotes the same digests', async () => {
    const channel = unique('promote');
    const moduleId = unique('test-module');
    observer.track(channelTopic(channel));
    observer.track(pinTopic(moduleId));
    const rcImage = await images.push('1.3.0-rc.1');
    const rcCommit = fleet.git(['rev-parse', 'HEAD']);
    await ok([
      'candidate',
      '--name',
      'v1.3.0-rc1',
      '--module',
      moduleId,
      '--core-version',
      '1.3.0-rc.1',
      '--core-image',
      rcImage,
    ]);
    expect(await retainedRelease(pinTopic(moduleId))).toMatchObject({
      name: 'v1.3.0-rc1',
      apps: { core: { version: '1.3.0-rc.1', image: rcImage } },
      target: { module: moduleId },
    });
    expect(fleet.git(['rev-parse', 'v1.3.0-rc1^{commit}'])).toBe(rcCommit);

    const early = await fleet.run([
      'promote',
      '--release',
      'v1.3.0-rc1',
      '--channel',
      channel,
      '--percent',
      '10',
    ]);
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/^FLEET_CHECKLIST_INCOMPLETE: .*installed, health/);
    await expect(observer.retained(channelTopic(channel), 800)).rejects.toThrow(/no retained message/);
    expect(await images.digestOf('v1.3.0')).toBeNull();

    expect(await ok(['checklist', '--release', 'v1.3.0-rc1', '--tick', 'installed', '--by', 'qa'])).toMatch(
      /1\/6 done[\s\S]*\[x\] installed/,
    );
    const unknown = await fleet.run(['checklist', '--release', 'v1.3.0-rc1', '--tick', 'nope']);
    expect(unknown.err).toMatch(/^FLEET_BAD_OPTION: .*no item 'nope'/);
    expect(await ok(['checklist', '--release', 'v1.3.0-rc1', '--tick', CHECKLIST_IDS])).toContain('6/6 done');

    // Work goes on: the final tag still marks the candidate's commit.
    fleet.git(['commit', '-q', '--allow-empty', '-m', 'later work']);
    await ok(['promote', '--release', 'v1.3.0-rc1', '--channel', channel, '--percent', '10']);
    expect(await retainedRelease(channelTopic(channel))).toMatchObject({
      name: 'v1.3.0',
      apps: { core: { version: '1.3.0-rc.1', image: rcImage } },
      target: { channel, rollout: { percent: 10 } },
    });
    expect(await images.digestOf('v1.3.0')).toBe(rcImage.split('@')[1]);
    expect(fleet.git(['rev-parse', 'v1.3.0^{commit}'])).toBe(rcCommit);
  });

  it('refuses a release whose git tag already points at another commit', async () => {
    fleet.git(['tag', 'v7.0.0-rc1']);
    fleet.git(['commit', '-q', '--allow-empty', '-m', 'moved on']);
    const moduleId = unique('tagged');
    observer.track(pinTopic(moduleId));
    const result = await fleet.run([
      'candidate',
      '--name',
      'v7.0.0-rc1',
      '--module',
      moduleId,
      '--core-version',
      '7.0.0-rc.1',
      '--core-image',
      image('8'),
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^FLEET_GIT_TAG_EXISTS: the git tag v7\.0\.0-rc1 points at/);
    await expect(observer.retained(pinTopic(moduleId), 800)).rejects.toThrow(/no retained message/);
  });
});

describe('revoke and delete', () => {
  it('keeps a cumulative signed revocation list', async () => {
    const channel = unique('revoke');
    observer.track(channelTopic(channel));
    for (const [name, fill] of [
      ['v8.0.0', 'a'],
      ['v8.0.1', 'b'],
    ] as const) {
      await publishCore(channel, name, image(fill));
      await ok(['revoke', '--release', name, '--reason', `${name} is bad`]);
    }
    const list = await retained('growoff/v1/fleet/revocations');
    expect(list).toMatchObject({ kind: 'revocation' });
    expect(list.kind === 'revocation' && list.revoked).toEqual(
      expect.arrayContaining([
        { image: image('a'), name: 'v8.0.0', reason: 'v8.0.0 is bad' },
        { image: image('b'), name: 'v8.0.1', reason: 'v8.0.1 is bad' },
      ]),
    );
  });

  it('refuses to delete while a channel names the release or a module runs it, then deletes it from ECR', async () => {
    const channel = unique('delete');
    const moduleId = unique('runner');
    const statusTopic = `growoff/v1/modules/${moduleId}/updater/status`;
    observer.track(channelTopic(channel));
    const bad = await images.push('9.0.0');
    const good = await images.push('9.0.1');
    const publish = (name: string, ref: string) => publishCore(channel, name, ref);
    await publish('v9.0.0', bad);
    const named = await fleet.run(['delete', '--release', 'v9.0.0']);
    expect(named.err).toMatch(/^FLEET_RELEASE_IN_USE: .*channel /);
    await publish('v9.0.1', good);
    await observer.publishRetained(statusTopic, {
      state: 'online',
      apps: { core: { current: { version: '9.0.0', image: bad }, phase: 'idle' } },
    });
    const running = await fleet.run(['delete', '--release', 'v9.0.0']);
    expect(running.err).toMatch(new RegExp(`^FLEET_RELEASE_IN_USE: .*module ${moduleId} \\(runs it\\)`));
    expect(await images.digestOf(bad.split('@')[1]!)).toBe(bad.split('@')[1]);
    await observer.publishRetained(statusTopic, {
      state: 'online',
      apps: { core: { current: { version: '9.0.1', image: good }, phase: 'idle' } },
    });
    expect(await ok(['delete', '--release', 'v9.0.0'])).toContain(`deleted ${bad} from ECR`);
    expect(await images.digestOf(bad.split('@')[1]!)).toBeNull();
    expect(await images.digestOf(good.split('@')[1]!)).toBe(good.split('@')[1]);
  });
});

describe('delete, with an image two releases name', () => {
  it("refuses to delete a candidate whose image is its promoted final's, until that image is revoked", async () => {
    const channel = unique('shared');
    observer.track(channelTopic(channel));
    const shared = await images.push('9.2.0');
    const next = await images.push('9.2.1');
    const publish = (name: string, ref: string) => publishCore(channel, name, ref);
    // A candidate and its final with the same image, as `promote` makes them; then a newer release,
    // so that no channel, pin or module uses the image any more.
    await publish('v9.2.0-rc1', shared);
    await publish('v9.2.0', shared);
    await publish('v9.2.1', next);
    const refused = await fleet.run(['delete', '--release', 'v9.2.0-rc1']);
    expect(refused.err).toMatch(
      /^FLEET_RELEASE_IN_USE: v9\.2\.0-rc1 is still in use: release v9\.2\.0 \(the same image\)/,
    );
    expect(await images.digestOf(shared.split('@')[1]!)).toBe(shared.split('@')[1]);
    await ok(['revoke', '--release', 'v9.2.0', '--reason', 'v9.2.0 is bad']);
    expect(await ok(['delete', '--release', 'v9.2.0-rc1'])).toContain(`deleted ${shared} from ECR`);
    expect(await images.digestOf(shared.split('@')[1]!)).toBeNull();
    expect(await images.digestOf(next.split('@')[1]!)).toBe(next.split('@')[1]);
  });
});

describe('rotate-keys', () => {
  it('publishes the new key set signed by the key the modules trust now', async () => {
    const next = generateReleaseKeyPair();
    writeFileSync(join(fleet.dir, 'next.pub'), next.publicKeyPem);
    await ok(['rotate-keys', '--keys', 'next.pub']);
    const set = await retained('growoff/v1/fleet/keys');
    expect(set).toMatchObject({ kind: 'key-set', keys: [next.publicKeyPem] });
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

  it('refuses a percent outside 0..100, a channel or module that is not one topic level, a bad name', async () => {
    const percent = await fleet.run(['rollout', '--channel', 'stable', '--percent', '150']);
    expect(percent.err).toMatch(/^FLEET_BAD_OPTION: --percent/);
    const channel = await fleet.run(['publish', '--channel', 'stable/#', '--name', 'v1.0.0']);
    expect(channel.err).toMatch(/^FLEET_BAD_OPTION: --channel/);
    const moduleId = await fleet.run(['unpin', '--module', 'a/+/b']);
    expect(moduleId.err).toMatch(/^FLEET_BAD_OPTION: --module/);
    const name = await fleet.run([
      'publish',
      '--channel',
      'stable',
      '--percent',
      '1',
      '--name',
      '1.0',
      '--core-version',
      '1.0.0',
      '--core-image',
      image('c'),
    ]);
    expect(name.err).toMatch(/^FLEET_BAD_OPTION: --name must be a fleet release name/);
  });

  it('says which broker it cannot reach', async () => {
    const port = await freePort();
    const result = await fleet.run(['unpin', '--module', 'm1', '--mqtt-url', `mqtt://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^FLEET_MQTT_UNREACHABLE: .*127\\.0\\.0\\.1:${port}`));
  });

  it('needs a signing key to publish, and a release store to number it', async () => {
    const bare = new FleetHarness();
    const args = [
      'publish',
      '--channel',
      'stable',
      '--percent',
      '1',
      '--name',
      'v1.0.0',
      '--core-version',
      '1.0.0',
      '--core-image',
      image('d'),
    ];
    expect((await bare.run(args)).err).toMatch(/^FLEET_USAGE: no signing key.*GROWOFF_RELEASE_SIGNING_KEY/);
    await bare.keygen();
    delete bare.env.GROWOFF_FLEET_STORE;
    expect((await bare.run(args)).err).toMatch(/^FLEET_USAGE: no release store.*GROWOFF_FLEET_STORE/);
  });

  it('prints only CODE: message from the real entry point, with a failing exit code', async () => {
    const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
    const run = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'rollout', '--channel', 'stable', '--percent', '150'],
      { cwd: pkg, env: { ...process.env, GROWOFF_MQTT_URL: fleet.env.GROWOFF_MQTT_URL } },
    );
    const failure = (await run.then(
      () => null,
      (error: unknown) => error,
    )) as { code: number; stderr: string } | null;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe("FLEET_BAD_OPTION: --percent must be a number from 0 to 100, got '150'\n");
  });
});
