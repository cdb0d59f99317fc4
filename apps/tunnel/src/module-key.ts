import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { opensshFingerprint } from './host-key';
import { TunnelError } from './tunnel-error';

export interface ModuleKey {
  privateKey: Buffer;
  /** `ssh-ed25519 AAAA…`, the line the bastion script takes. */
  publicKey: string;
  fingerprint: string;
}

/**
 * Reads the module's Ed25519 private key (OpenSSH or PKCS#8 PEM, unencrypted). A missing key is
 * refused rather than generated: the key is provisioned with the module and registered on the
 * bastion, so a new one made here could never log in.
 */
export function loadModuleKey(file: string): ModuleKey {
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(file);
  } catch (error) {
    throw new TunnelError(
      'TUNNEL_KEY_UNREADABLE',
      `GROWOFF_TUNNEL_KEY: cannot read the module key ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    throw new TunnelError(
      'TUNNEL_KEY_UNREADABLE',
      `GROWOFF_TUNNEL_KEY: ${file} is not an unencrypted private key (${key instanceof Error ? key.message : 'empty'})`,
    );
  }
  if (key.type !== 'ssh-ed25519' || !key.isPrivateKey()) {
    throw new TunnelError(
      'TUNNEL_KEY_NOT_ED25519',
      `GROWOFF_TUNNEL_KEY: ${file} is a ${key.type} key; an Ed25519 private key is required`,
    );
  }
  const blob = key.getPublicSSH();
  return {
    privateKey,
    publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
    fingerprint: opensshFingerprint(blob),
  };
}
