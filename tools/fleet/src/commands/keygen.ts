import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateReleaseKeyPair } from '@growoff/protocol';
import { resolvePath, type CliIo } from '../cli-io';
import { FleetError } from '../fleet-error';

export interface KeygenFlags {
  out?: string;
  name?: string;
  force?: boolean;
}

export interface KeygenResult {
  keyid: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

/**
 * A new Ed25519 release key pair: `<name>.key` (PKCS#8 PEM, mode 0600: it signs releases) and
 * `<name>.pub` (SPKI PEM: goes into every module's GROWOFF_RELEASE_KEYS).
 */
export function keygen(io: CliIo, flags: KeygenFlags): KeygenResult {
  const dir = resolvePath(io, flags.out ?? '.');
  const name = flags.name ?? 'growoff-release';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new FleetError('FLEET_BAD_OPTION', `--name must be a plain file name, got '${name}'`);
  }
  const privateKeyPath = join(dir, `${name}.key`);
  const publicKeyPath = join(dir, `${name}.pub`);
  for (const path of [privateKeyPath, publicKeyPath]) {
    if (existsSync(path) && !flags.force) {
      throw new FleetError('FLEET_KEY_EXISTS', `${path} exists; pass --force to replace it`);
    }
  }
  const pair = generateReleaseKeyPair();
  mkdirSync(dir, { recursive: true });
  writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600 });
  // writeFile keeps the mode of a file it replaces, so set it explicitly.
  chmodSync(privateKeyPath, 0o600);
  writeFileSync(publicKeyPath, pair.publicKeyPem, { mode: 0o644 });
  io.out(
    `keyid       ${pair.keyid}\nprivate key ${privateKeyPath} (keep secret)\npublic key  ${publicKeyPath}\n`,
  );
  return { keyid: pair.keyid, privateKeyPath, publicKeyPath };
}
