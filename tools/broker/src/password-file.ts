import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { isValidTopicSegment } from '@growoff/protocol';
import { BrokerConfigError } from './broker-config-error';

export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface Credential {
  username: string;
  password: string;
}

/**
 * Writes a Mosquitto password file: `user:password` lines hashed in place by `mosquitto_passwd -U`
 * (sha512-pbkdf2), one process for the whole fleet rather than one per user.
 */
export async function writePasswordFile(
  path: string,
  credentials: readonly Credential[],
  passwdBinary = MOSQUITTO_PASSWD,
): Promise<void> {
  const seen = new Set<string>();
  for (const { username, password } of credentials) {
    assertUsername(username);
    if (seen.has(username)) {
      throw new BrokerConfigError('BROKER_DUPLICATE_USER', `the user '${username}' is listed twice`, {
        username,
      });
    }
    seen.add(username);
    if (password.length === 0 || /[\r\n]/.test(password)) {
      throw new BrokerConfigError(
        'BROKER_BAD_USERNAME',
        `the password of '${username}' must be one non-empty line`,
        { username },
      );
    }
  }
  writeFileSync(path, credentials.map((c) => `${c.username}:${c.password}`).join('\n') + '\n', {
    mode: 0o600,
  });
  chmodSync(path, 0o600);
  try {
    await promisify(execFile)(passwdBinary, ['-U', path]);
  } catch (error) {
    writeFileSync(path, '');
    throw new BrokerConfigError(
      'BROKER_PASSWD_FAILED',
      `mosquitto_passwd could not hash ${path}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * A username is a module id or an identity name: one topic level (it is substituted for `%u` in
 * ACL patterns), without ':' (the password file separator) or whitespace.
 */
export function assertUsername(username: string): void {
  if (!isValidTopicSegment(username) || /[:\s%]/.test(username)) {
    throw new BrokerConfigError(
      'BROKER_BAD_USERNAME',
      `'${username}' cannot be an MQTT username here: it must be one topic level without ':', '%' or spaces`,
      { username },
    );
  }
}
