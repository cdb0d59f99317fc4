import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ReleaseError } from './release-error';

/** A public key the updater accepts release signatures from. */
export interface TrustedKey {
  /** `keyIdOf(publicKey)`: lowercase hex SHA-256 of the key's SubjectPublicKeyInfo DER. */
  keyid: string;
  publicKey: KeyObject;
  /** Where the key came from (file path), for messages. */
  source?: string;
}

export interface ReleaseKeyPair {
  keyid: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

/**
 * The key id of an Ed25519 public key: the hex SHA-256 of its SPKI DER encoding. It depends only
 * on the key, so the signer and every module compute the same id without sharing anything else;
 * accepts a public key or a private key (whose public half is used), as PEM or KeyObject.
 */
export function keyIdOf(key: string | KeyObject): string {
  const publicKey = toPublicKey(key);
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function generateReleaseKeyPair(): ReleaseKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyid: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Parses an Ed25519 private key (PKCS#8 PEM); BAD_KEY otherwise. */
export function parsePrivateKey(pem: string | KeyObject, source = 'private key'): KeyObject {
  let key: KeyObject;
  try {
    key = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  } catch {
    throw new ReleaseError('BAD_KEY', `${source} is not a PEM private key`, { source });
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new ReleaseError('BAD_KEY', `${source} is not an Ed25519 private key`, { source });
  }
  return key;
}

/** A trusted key from one PEM public key; BAD_KEY when it is not an Ed25519 public key. */
export function trustedKeyFromPem(pem: string, source = 'public key'): TrustedKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch {
    throw new ReleaseError('BAD_KEY', `${source} is not a PEM public key`, { source });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new ReleaseError('BAD_KEY', `${source} is a ${publicKey.asymmetricKeyType} key, not Ed25519`, {
      source,
    });
  }
  return { keyid: keyIdOf(publicKey), publicKey, source };
}

const PUBLIC_KEY_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/** Every `BEGIN PUBLIC KEY` block of a text (a file may list several keys, e.g. during rotation). */
export function parseTrustedKeys(text: string, source = 'keys'): TrustedKey[] {
  return (text.match(PUBLIC_KEY_BLOCK) ?? []).map((pem, i) => trustedKeyFromPem(pem, `${source}#${i + 1}`));
}

/**
 * Loads the trusted release keys (GROWOFF_RELEASE_KEYS): a file holding one or more PEM public
 * keys, or a folder whose `*.pem` / `*.pub` files each hold some. Rotation is adding the new key
 * beside the old one, publishing with the new key, then removing the old one. Duplicates are
 * dropped; no key at all is NO_TRUSTED_KEYS, because a module without keys could never update.
 */
export function loadTrustedKeys(path: string): TrustedKey[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((name) => name.endsWith('.pem') || name.endsWith('.pub'))
          .sort()
          .map((name) => join(path, name))
      : [path];
  } catch {
    throw new ReleaseError('NO_TRUSTED_KEYS', `trusted release keys not found at ${path}`, { path });
  }
  const byId = new Map<string, TrustedKey>();
  for (const file of files) {
    for (const key of parseTrustedKeys(readFileSync(file, 'utf8'), file)) {
      if (!byId.has(key.keyid)) byId.set(key.keyid, key);
    }
  }
  if (byId.size === 0) {
    throw new ReleaseError('NO_TRUSTED_KEYS', `no PEM public key found in ${path}`, { path });
  }
  return [...byId.values()];
}

function toPublicKey(key: string | KeyObject): KeyObject {
  try {
    if (typeof key !== 'string') return key.type === 'private' ? createPublicKey(key) : key;
    return key.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(key)) : createPublicKey(key);
  } catch {
    throw new ReleaseError('BAD_KEY', 'not a PEM key');
  }
}
