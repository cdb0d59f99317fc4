import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe as group, expect, it } from 'vitest';
import {
  configInvalid,
  defineEnv,
  describe,
  ignoredBy,
  ignoredText,
  ignoredVariables,
  isConfigInvalid,
  parseEnv,
  READ_ELSEWHERE,
  type ConfigInvalid,
} from './parse-env';
import { boolean, file, integer, list, number, oneOf, path, port, seconds, string, url } from './variables';

const packageDir = join(import.meta.dirname, '..');

function refusal(run: () => unknown): ConfigInvalid {
  try {
    run();
  } catch (error) {
    if (isConfigInvalid(error)) return error;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID, nothing was thrown');
}

const Env = defineEnv({
  name: string('APP_NAME', { default: 'dev', pattern: /^[a-z]+$/, expected: 'lower-case letters' }),
  mode: oneOf('APP_MODE', ['sim', 'i2c'], { default: 'sim' }),
  port: port('APP_PORT', { default: 8080 }),
  count: integer('APP_COUNT', { default: 3, min: 1, max: 10 }),
  scale: number('APP_SCALE', { above: 0 }),
  on: boolean('APP_ON', { default: false }),
  broker: url('APP_URL', { schemes: ['mqtt', 'mqtts', 'ws', 'wss'], default: 'mqtt://127.0.0.1:1883' }),
  timeoutMs: seconds('APP_TIMEOUT_S', { default: 120, above: 0, max: 86_400 }),
  data: path('APP_DATA', { default: 'data' }),
  groups: list('APP_GROUPS', { pattern: /^[a-z0-9]+$/, expected: 'a group name' }),
  token: string('APP_TOKEN', { secret: true }),
  repo: string('APP_REPO', { required: true }),
});

group('parseEnv', () => {
  it('fills the defaults and types each variable', () => {
    const config = parseEnv(Env, { APP_REPO: 'r' }, { cwd: '/srv' });
    expect(config).toEqual({
      name: 'dev',
      mode: 'sim',
      port: 8080,
      count: 3,
      on: false,
      broker: 'mqtt://127.0.0.1:1883',
      timeoutMs: 120_000,
      data: '/srv/data',
      groups: [],
      repo: 'r',
    });
  });

  it('converts text: integers, decimals, seconds to ms, booleans, lists; trims and treats empty as unset', () => {
    const config = parseEnv(Env, {
      APP_REPO: ' r ',
      APP_PORT: '0',
      APP_COUNT: '10',
      APP_SCALE: '0.5',
      APP_ON: 'On',
      APP_TIMEOUT_S: '0.25',
      APP_GROUPS: 'i2c, 997',
      APP_MODE: '',
      APP_DATA: '/var/lib/x',
    });
    expect(config).toMatchObject({
      repo: 'r',
      port: 0,
      count: 10,
      scale: 0.5,
      on: true,
      timeoutMs: 250,
      groups: ['i2c', '997'],
      mode: 'sim',
      data: '/var/lib/x',
    });
    for (const [text, value] of [
      ['1', true],
      ['yes', true],
      ['true', true],
      ['0', false],
      ['no', false],
      ['off', false],
    ] as const) {
      expect(parseEnv(Env, { APP_REPO: 'r', APP_ON: text }).on).toBe(value);
    }
  });

  it.each([
    ['APP_PORT', '65536', 'a port from 0 to 65535'],
    ['APP_PORT', '80.5', 'a port from 0 to 65535'],
    ['APP_COUNT', '0', 'a whole number from 1 to 10'],
    ['APP_COUNT', '11', 'a whole number from 1 to 10'],
    ['APP_COUNT', 'three', 'a whole number from 1 to 10'],
    ['APP_SCALE', '0', 'a number above 0'],
    ['APP_SCALE', '-2', 'a number above 0'],
    ['APP_TIMEOUT_S', '0', 'a number of seconds above 0 s and at most 86400 s'],
    ['APP_TIMEOUT_S', '86401', 'a number of seconds above 0 s and at most 86400 s'],
    ['APP_ON', 'maybe', 'on or off'],
    ['APP_MODE', 'gpio', 'one of sim, i2c'],
    ['APP_NAME', 'Dev', 'lower-case letters'],
    ['APP_GROUPS', 'i2c,not a group', 'comma-separated, each a group name'],
  ])('refuses %s=%s, naming the variable, what was expected and what was given', (name, value, expected) => {
    const error = refusal(() => parseEnv(Env, { APP_REPO: 'r', [name]: value }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`${name}: expected ${expected}`);
    expect(error.message).toContain(JSON.stringify(value));
    expect(error.details.issues).toEqual([expect.objectContaining({ variable: name, got: value })]);
  });

  it('accepts each allowed URL scheme and refuses others and non-URLs', () => {
    for (const scheme of ['mqtt', 'mqtts', 'ws', 'wss']) {
      expect(parseEnv(Env, { APP_REPO: 'r', APP_URL: `${scheme}://broker:1` }).broker).toBe(
        `${scheme}://broker:1`,
      );
    }
    for (const bad of [
      'http://broker',
      'tcp://broker',
      'ssl://broker',
      'broker:1883',
      'nonsense',
      'mqtt://[::',
    ]) {
      const error = refusal(() => parseEnv(Env, { APP_REPO: 'r', APP_URL: bad }));
      expect(error.message).toContain('APP_URL: expected a URL with scheme mqtt, mqtts, ws, wss');
    }
  });

  it('names a required variable that is not set', () => {
    expect(refusal(() => parseEnv(Env, {})).message).toContain('APP_REPO is required');
  });

  it('collects every bad variable into the one error', () => {
    const error = refusal(() => parseEnv(Env, { APP_PORT: 'x', APP_MODE: 'gpio', APP_ON: 'perhaps' }));
    expect(error.details.issues.map((i) => i.variable)).toEqual([
      'APP_MODE',
      'APP_PORT',
      'APP_ON',
      'APP_REPO',
    ]);
    for (const name of ['APP_MODE', 'APP_PORT', 'APP_ON', 'APP_REPO']) expect(error.message).toContain(name);
  });

  it('never echoes a secret: a bad secret value, nor a password inside a refused URL', () => {
    const SecretEnv = defineEnv({
      pin: integer('APP_PIN', { secret: true, min: 0, max: 9999 }),
      broker: url('APP_URL', { schemes: ['mqtt'] }),
    });
    const error = refusal(() =>
      parseEnv(SecretEnv, { APP_PIN: 'hunter2', APP_URL: 'http://user:s3cret@host' }),
    );
    const printed = `${error.message} ${JSON.stringify(error.details)}`;
    expect(printed).toContain('APP_PIN: expected a whole number from 0 to 9999');
    expect(printed).toContain('APP_URL');
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('s3cret');
    expect(printed).toContain('http://user:***@host');
  });

  it('reads a fallback variable when the first is unset, and names the one it read', () => {
    const Region = defineEnv({
      region: string('AWS_REGION', { also: ['AWS_DEFAULT_REGION'], default: 'eu-central-1' }),
    });
    expect(parseEnv(Region, {}).region).toBe('eu-central-1');
    expect(parseEnv(Region, { AWS_DEFAULT_REGION: 'us-east-1' }).region).toBe('us-east-1');
    expect(parseEnv(Region, { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' }).region).toBe(
      'eu-west-1',
    );
  });

  it('joins the issues of cross-variable checks into the one error', () => {
    const error = refusal(() =>
      parseEnv(
        Env,
        { APP_REPO: 'r', APP_COUNT: '2' },
        {
          refine: (c) =>
            c.count < 5 ? [{ variable: 'APP_COUNT', expected: 'at least 5 with APP_REPO r' }] : [],
        },
      ),
    );
    expect(error.message).toBe('invalid configuration: APP_COUNT: expected at least 5 with APP_REPO r');
  });
});

group('file variables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-files-'));
  const readable = join(dir, 'ca.pem');
  writeFileSync(readable, 'pem');
  const Files = defineEnv({
    ca: file('APP_CA'),
    keys: file('APP_KEYS', { folder: true }),
  });

  it('accepts a readable file, and a folder where the variable allows one, resolved against cwd', () => {
    expect(parseEnv(Files, { APP_CA: 'ca.pem', APP_KEYS: dir }, { cwd: dir })).toEqual({
      ca: readable,
      keys: dir,
    });
  });

  it('refuses a missing file naming the variable and the path', () => {
    const error = refusal(() => parseEnv(Files, { APP_CA: join(dir, 'nope.pem') }));
    expect(error.message).toContain(
      `APP_CA: expected a readable file, got "${join(dir, 'nope.pem')} does not exist"`,
    );
  });

  it('refuses a folder where a file is expected', () => {
    expect(refusal(() => parseEnv(Files, { APP_CA: dir })).message).toContain(
      'APP_CA: expected a readable file',
    );
  });

  it('refuses an unreadable file naming the variable', () => {
    const locked = join(dir, 'locked.pem');
    writeFileSync(locked, 'pem');
    chmodSync(locked, 0o000);
    chmodSync(dir, 0o755);
    // Root reads any file, so the check runs in a process of an unprivileged user (as in the images).
    const script = [
      "import { defineEnv, parseEnv } from './src/parse-env.ts';",
      "import { file } from './src/variables.ts';",
      `try { parseEnv(defineEnv({ ca: file('APP_CA') }), { APP_CA: ${JSON.stringify(locked)} }); console.log('accepted'); }`,
      'catch (error) { console.log(error.code, error.message); }',
    ].join('\n');
    const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: packageDir,
      env: { PATH: process.env.PATH, HOME: tmpdir() },
      encoding: 'utf8',
      ...unprivileged,
    });
    expect(out).toContain(
      `CONFIG_INVALID invalid configuration: APP_CA: expected a readable file, got "${locked} cannot be read (EACCES)"`,
    );
  });

  it('checks a defaulted file too', () => {
    const Defaulted = defineEnv({ keys: file('APP_KEYS', { folder: true, default: join(dir, 'missing') }) });
    expect(refusal(() => parseEnv(Defaulted, {})).message).toContain('APP_KEYS');
  });
});

group('describe', () => {
  it('prints every variable with a value in one line, secrets and URL passwords masked', () => {
    const config = parseEnv(
      Env,
      {
        APP_REPO: 'r',
        APP_TOKEN: 'tok-123',
        APP_URL: 'mqtts://module:pw-456@broker:8883',
        APP_GROUPS: 'a,b',
      },
      { cwd: '/srv' },
    );
    const line = describe(config);
    expect(line).toBe(
      'APP_NAME=dev APP_MODE=sim APP_PORT=8080 APP_COUNT=3 APP_ON=false APP_URL=mqtts://module:***@broker:8883 ' +
        'APP_TIMEOUT_S=120 APP_DATA=/srv/data APP_GROUPS=a,b APP_TOKEN=*** APP_REPO=r',
    );
    expect(line).not.toMatch(/tok-123|pw-456/);
  });

  it('refuses an object that parseEnv did not read', () => {
    expect(() => describe({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

group('GROWOFF_* variables that are set but not read', () => {
  const Growoff = defineEnv({
    mqttUrl: url('GROWOFF_MQTT_URL', { schemes: ['mqtt'] }),
    moduleId: string('GROWOFF_MODULE_ID', { default: 'dev-module' }),
    httpPort: port('GROWOFF_HTTP_PORT', { default: 8080 }),
    nested: defineEnv({ region: string('GROWOFF_AWS_REGION', { also: ['AWS_REGION'] }) }),
  });

  it('names each one, with the declared variable a misspelling most likely meant, and keeps the defaults', () => {
    const env = {
      GROWOFF_MQTT_ULR: 'mqtt://broker:1883',
      growoff_http_port: '9090',
      GROWOFF_BASTION: 'bastion.example:22',
      GROWOFF_MODUL_ID: 'm-1',
    };
    const config = parseEnv(Growoff, env);
    expect(ignoredVariables(config)).toEqual([
      { variable: 'GROWOFF_BASTION' },
      { variable: 'GROWOFF_MODUL_ID', suggestion: 'GROWOFF_MODULE_ID' },
      { variable: 'GROWOFF_MQTT_ULR', suggestion: 'GROWOFF_MQTT_URL' },
      { variable: 'growoff_http_port', suggestion: 'GROWOFF_HTTP_PORT' },
    ]);
    // Reported, not read: the configuration is what it is without them.
    expect(config).toEqual(parseEnv(Growoff, {}));
    expect(config.mqttUrl).toBeUndefined();
    expect(ignoredText(ignoredVariables(config)[2]!, 'core')).toBe(
      'GROWOFF_MQTT_ULR is set but not read by the core, so it has no effect; did you mean GROWOFF_MQTT_URL?',
    );
    expect(ignoredText({ variable: 'GROWOFF_BASTION' }, 'core')).toBe(
      'GROWOFF_BASTION is set but not read by the core, so it has no effect',
    );
  });

  it('leaves out declared names (nested sections and `also` included), other families and names read elsewhere', () => {
    const env = {
      GROWOFF_MQTT_URL: 'mqtt://broker:1883',
      GROWOFF_MODULE_ID: 'm-1',
      GROWOFF_AWS_REGION: 'eu-central-1',
      AWS_REGION: 'eu-west-1',
      HOME: '/root',
      NODE_ENV: 'production',
      GROWOFF_UNSET: undefined,
      ...Object.fromEntries(READ_ELSEWHERE.map((name) => [name, '1'])),
    };
    expect(ignoredVariables(parseEnv(Growoff, env))).toEqual([]);
    expect(ignoredBy(Growoff, env)).toEqual([]);
  });

  it('suggests nothing for a name more than two edits from every declared one', () => {
    expect(ignoredBy(Growoff, { GROWOFF_MQT_URRL: 'x', GROWOFF_HTTP: '1' })).toEqual([
      { variable: 'GROWOFF_HTTP' },
      { variable: 'GROWOFF_MQT_URRL', suggestion: 'GROWOFF_MQTT_URL' },
    ]);
    expect(ignoredBy(Growoff, { GROWOFF_MQ_URRL: 'x' })).toEqual([{ variable: 'GROWOFF_MQ_URRL' }]);
  });

  it('refuses an object that parseEnv did not read', () => {
    expect(() => ignoredVariables({})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

it('configInvalid builds the coded error from issues', () => {
  const error = configInvalid([{ variable: 'X', expected: 'y', got: 'z' }]);
  expect(error).toMatchObject({
    code: 'CONFIG_INVALID',
    message: 'invalid configuration: X: expected y, got "z"',
  });
});
