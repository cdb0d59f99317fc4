import { readFileSync } from 'node:fs';
import { opensshFingerprint } from './host-key';
import { TunnelError } from './tunnel-error';

export interface ModuleKey {
  privateKey: Buffer;
  /** `ssh-ed25519 AAAA…`, the line the bastion script takes. */
  publicKey: string;
  fingerprint: string;
}

/**
 * Reads the module's Ed25519 private key (OpenSSH format, unencrypted, as ssh-keygen writes it). A missing key is
 * refused rather than generated: the key is provisioned with the module and registered on the
 * bastion, so a new one made here could never log in.
 *
 * Read by a reader of OpenSSH's key format rather than ssh2's parser, so that ssh2 is loaded only when
 * a tunnel opens (it is several MB of the tunnel's idle memory); it accepts and refuses what ssh2 did.
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
  const key = parsePrivateKey(privateKey.toString('utf8'));
  if ('error' in key) {
    throw new TunnelError(
      'TUNNEL_KEY_UNREADABLE',
      `GROWOFF_TUNNEL_KEY: ${file} is not an unencrypted private key (${key.error})`,
    );
  }
  if (key.type !== 'ssh-ed25519' || !key.isPrivate) {
    throw new TunnelError(
      'TUNNEL_KEY_NOT_ED25519',
      `GROWOFF_TUNNEL_KEY: ${file} is a ${key.type} key; an Ed25519 private key is required`,
    );
  }
  return {
    privateKey,
    publicKey: `ssh-ed25519 ${key.publicBlob.toString('base64')}`,
    fingerprint: opensshFingerprint(key.publicBlob),
  };
}

type ParsedKey = { type: string; isPrivate: boolean; publicBlob: Buffer } | { error: string };

const OPENSSH_PEM = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const PUBLIC_LINE = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+) ([A-Za-z0-9+/]+=*)/;
/** The legacy PEM private keys ssh2 reads (none of them Ed25519); encrypted ones it cannot. */
const LEGACY_PEM = /-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----/;
const LEGACY_TYPE: Record<string, string> = { RSA: 'ssh-rsa', EC: 'ecdsa', DSA: 'ssh-dss' };

/** What ssh2, which uses the key when the tunnel opens, accepts; Ed25519 only in OpenSSH's format. */
function parsePrivateKey(text: string): ParsedKey {
  const openssh = OPENSSH_PEM.exec(text);
  if (openssh) return parseOpenSsh(Buffer.from(openssh[1]!.replace(/\s+/g, ''), 'base64'));
  const line = PUBLIC_LINE.exec(text.trim());
  if (line) return { type: line[1]!, isPrivate: false, publicBlob: Buffer.from(line[2]!, 'base64') };
  const legacy = LEGACY_PEM.exec(text);
  if (legacy && !text.includes('ENCRYPTED'))
    return { type: LEGACY_TYPE[legacy[1]!]!, isPrivate: true, publicBlob: Buffer.alloc(0) };
  if (text.trim() === '') return { error: 'empty' };
  return { error: legacy ? 'encrypted' : 'not an OpenSSH private key' };
}

/** OpenSSH's private key format (PROTOCOL.key in OpenSSH's sources): `openssh-key-v1`, unencrypted. */
function parseOpenSsh(data: Buffer): ParsedKey {
  const MAGIC = 'openssh-key-v1\0';
  if (data.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return { error: 'not openssh-key-v1' };
  let at = MAGIC.length;
  const string = (): Buffer => {
    if (at + 4 > data.length) throw new RangeError('truncated');
    const length = data.readUInt32BE(at);
    if (at + 4 + length > data.length) throw new RangeError('truncated');
    const value = data.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  try {
    const cipher = string().toString('latin1');
    string(); // kdfname
    string(); // kdfoptions
    if (cipher !== 'none') return { error: `encrypted with ${cipher}` };
    if (at + 4 > data.length) return { error: 'truncated' };
    const keys = data.readUInt32BE(at);
    at += 4;
    if (keys < 1) return { error: 'no key' };
    const publicBlob = string();
    const type = publicBlob.subarray(4, 4 + publicBlob.readUInt32BE(0)).toString('latin1');
    return { type, isPrivate: true, publicBlob: Buffer.from(publicBlob) };
  } catch {
    return { error: 'truncated' };
  }
}
