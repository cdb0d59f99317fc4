import { readFileSync, statSync } from 'node:fs';
import { mqttConnectionFromEnv } from '@growoff/config';
import {
  loadTrustedKeys,
  parsePrivateKey,
  trustedKeyFromPem,
  keyIdOf,
  type MqttConnection,
  type TrustedKey,
} from '@growoff/protocol';
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { resolvePath, type CliIo } from './cli-io';
import { FleetError } from './fleet-error';

export interface CommonFlags {
  'mqtt-url'?: string;
  key?: string;
  'trusted-keys'?: string;
}

/** The broker connection: the MQTT section like every app's, with --mqtt-url before the URL variable. */
export function mqttConnectionOf(io: CliIo, flags: CommonFlags): MqttConnection {
  return mqttConnectionFromEnv(io.env, { url: flags['mqtt-url'], cwd: io.cwd });
}

export interface SigningKey {
  keyid: string;
  privateKey: KeyObject;
  path: string;
}

/** The signing key from --key or GROWOFF_RELEASE_SIGNING_KEY; FLEET_USAGE when neither is set. */
export function signingKeyOf(io: CliIo, flags: CommonFlags): SigningKey {
  const given = flags.key ?? io.env.GROWOFF_RELEASE_SIGNING_KEY;
  if (!given) {
    throw new FleetError('FLEET_USAGE', 'no signing key: pass --key FILE or set GROWOFF_RELEASE_SIGNING_KEY');
  }
  const path = resolvePath(io, given);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    throw new FleetError('FLEET_BAD_FILE', `cannot read the signing key ${path}`);
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    io.err(`warning: the signing key ${path} is readable by other users; chmod 600 it\n`);
  }
  const privateKey = parsePrivateKey(pem, path);
  return { keyid: keyIdOf(privateKey), privateKey, path };
}

/**
 * The keys a release this CLI reads back must verify against: --trusted-keys / GROWOFF_RELEASE_KEYS
 * (what the modules trust) plus the public half of the signing key, if one is configured.
 */
export function trustedKeysOf(io: CliIo, flags: CommonFlags, signing?: SigningKey): TrustedKey[] {
  const keys: TrustedKey[] = [];
  const path = flags['trusted-keys'] ?? io.env.GROWOFF_RELEASE_KEYS;
  if (path) keys.push(...loadTrustedKeys(resolvePath(io, path)));
  if (signing && !keys.some((k) => k.keyid === signing.keyid)) {
    const pem = createPublicKey(signing.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    keys.push(trustedKeyFromPem(pem, signing.path));
  }
  return keys;
}
