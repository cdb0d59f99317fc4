import { describe, expect, it } from 'vitest';
import { cpuHasAes, sshAlgorithms } from './ssh-algorithms';

const X86_AES = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme sse2 ssse3 aes avx avx2\n';
const X86_NO_AES = 'processor\t: 0\nflags\t\t: fpu vme sse2 ssse3 avx\n';
const PI4 =
  'processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n';
const ARM64_CRYPTO = 'processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n';
const PI3_ARMV7 =
  'processor\t: 0\nmodel name\t: ARMv7 Processor rev 4 (v7l)\nFeatures\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32\n';

describe('the SSH algorithms the tunnel offers', () => {
  it('reads AES instructions from /proc/cpuinfo on x86 and arm, and not from a substring', () => {
    expect(cpuHasAes(X86_AES, 'x64')).toBe(true);
    expect(cpuHasAes(X86_NO_AES, 'x64')).toBe(false);
    expect(cpuHasAes(ARM64_CRYPTO, 'arm64')).toBe(true);
    expect(cpuHasAes(PI4, 'arm64')).toBe(false);
    expect(cpuHasAes(PI3_ARMV7, 'arm')).toBe(false);
    expect(cpuHasAes('Features\t: fp aes128x\n', 'arm64')).toBe(false);
  });

  it('assumes AES on x86 and none on arm when /proc/cpuinfo cannot be read', () => {
    expect(cpuHasAes(undefined, 'x64')).toBe(true);
    expect(cpuHasAes(undefined, 'arm64')).toBe(false);
    expect(cpuHasAes(undefined, 'arm')).toBe(false);
  });

  it('prefers ChaCha20-Poly1305 without AES instructions and AES-GCM with them', () => {
    expect(sshAlgorithms(false).cipher).toEqual([
      'chacha20-poly1305@openssh.com',
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'aes128-ctr',
      'aes192-ctr',
      'aes256-ctr',
    ]);
    expect((sshAlgorithms(true).cipher as string[]).slice(0, 3)).toEqual([
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'chacha20-poly1305@openssh.com',
    ]);
  });

  it('offers no CBC, RC4 or 3DES cipher and no SHA-1 or MD5 MAC', () => {
    for (const hasAes of [true, false]) {
      const offer = sshAlgorithms(hasAes);
      expect((offer.cipher as string[]).filter((c) => /cbc|arcfour|3des|blowfish|cast/.test(c))).toEqual([]);
      expect((offer.hmac as string[]).filter((m) => /sha1|md5/.test(m))).toEqual([]);
      expect(offer.hmac).toContain('hmac-sha2-256-etm@openssh.com');
    }
  });
});
