import { readFileSync } from 'node:fs';
import type { Algorithms, CipherAlgorithm, MacAlgorithm } from 'ssh2';

/** AEAD ciphers first, then CTR; no CBC, no arcfour, no 3DES. */
const AES_GCM: CipherAlgorithm[] = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'];
const CHACHA20_POLY1305: CipherAlgorithm = 'chacha20-poly1305@openssh.com';
const AES_CTR: CipherAlgorithm[] = ['aes128-ctr', 'aes192-ctr', 'aes256-ctr'];
/** Used only with the CTR ciphers (AEAD ciphers carry their own tag): SHA-2, encrypt-then-MAC first; no SHA-1, no MD5. */
const MACS: MacAlgorithm[] = [
  'hmac-sha2-256-etm@openssh.com',
  'hmac-sha2-512-etm@openssh.com',
  'hmac-sha2-256',
  'hmac-sha2-512',
];

/**
 * Whether the CPU has AES instructions, from /proc/cpuinfo (`aes` among x86's `flags` or arm's
 * `Features`; a Raspberry Pi 3 or 4 has none). Where it cannot be read: x86 is assumed to have them,
 * arm not.
 */
export function cpuHasAes(cpuinfo: string | undefined, arch: string): boolean {
  if (cpuinfo !== undefined) {
    const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo);
    if (line) return line[1]!.split(/\s+/).includes('aes');
  }
  return arch === 'x64' || arch === 'ia32';
}

function readCpuinfo(): string | undefined {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * What the tunnel offers the bastion, fastest first for this CPU: AES-GCM where the CPU has AES
 * instructions, ChaCha20-Poly1305 where it has not (software AES is several times slower there).
 * ssh2 orders them so itself only when its optional cpu-features addon is installed, and offers
 * SHA-1 MACs; key exchange and host key algorithms stay ssh2's (no SHA-1 key exchange; the host key
 * is pinned).
 */
export function sshAlgorithms(hasAes = cpuHasAes(readCpuinfo(), process.arch)): Algorithms {
  return {
    cipher: hasAes
      ? [...AES_GCM, CHACHA20_POLY1305, ...AES_CTR]
      : [CHACHA20_POLY1305, ...AES_GCM, ...AES_CTR],
    hmac: [...MACS],
  };
}
