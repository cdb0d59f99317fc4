import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const lib = resolve(dirname(fileURLToPath(import.meta.url)), '../lib/install-lib.sh');
const work = mkdtempSync(join(tmpdir(), 'growoff-install-lib-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `script` in bash with the library sourced, as install.sh and provision.sh source it. */
function withLib(script: string) {
  const r = spawnSync('bash', ['-c', `set -euo pipefail; . "$1"; ${script}`, 'lib-test', lib], {
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tools/base/lib/install-lib.sh', () => {
  it('writes a file only when its content changed, sets its mode every time, and counts the writes', () => {
    const file = join(work, 'etc/example.conf');
    const r = withLib(`
      write_if_changed "${file}" 0600 '' /etc/example.conf <<<one
      chmod 0644 "${file}"
      write_if_changed "${file}" 0600 '' /etc/example.conf <<<one
      write_if_changed "${file}" 0600 '' /etc/example.conf <<<two
      echo "$changed changed"`);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('changed /etc/example.conf\nchanged /etc/example.conf\n2 changed\n');
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  });

  it('links only when the link points elsewhere', () => {
    const link = join(work, 'wants/unit.service');
    const r = withLib(`
      link_if_changed "${link}" /etc/a.service wants/unit.service
      link_if_changed "${link}" /etc/a.service wants/unit.service
      link_if_changed "${link}" /etc/b.service wants/unit.service
      echo "$changed changed"`);
    expect(r.stdout).toBe('changed wants/unit.service\nchanged wants/unit.service\n2 changed\n');
  });

  it('reads KEY=VALUE lines, and refuses a malformed line or value naming the file, line and key, with exit code 2', () => {
    const conf = join(work, 'module.conf');
    writeFileSync(conf, '# comment\n\nMODULE_ID=gw-1\nCHANNEL=beta\n');
    const ok =
      withLib(`declare -A conf=([CHANNEL]=stable); read_conf "${conf}" '^[a-z0-9-]*$' 'other characters'
      echo "\${conf[MODULE_ID]} \${conf[CHANNEL]}"`);
    expect(ok).toMatchObject({ code: 0, stdout: 'gw-1 beta\n', stderr: '' });
    writeFileSync(conf, 'MODULE_ID=gw-1\nnot a pair\n');
    const malformed = withLib(`declare -A conf=(); read_conf "${conf}" '.*' ''`);
    expect(malformed).toMatchObject({
      code: 2,
      stderr: "lib-test: module.conf line 2 is not KEY=VALUE: 'not a pair'\n",
    });
    writeFileSync(conf, 'MQTT_URL=mqtt://a b\n');
    const spaced = withLib(`declare -A conf=(); read_conf "${conf}" '^[^[:space:]]*$' 'spaces'`);
    expect(spaced).toMatchObject({
      code: 2,
      stderr: 'lib-test: module.conf: MQTT_URL must not contain spaces\n',
    });
  });
});
