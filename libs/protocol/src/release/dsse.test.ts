import { describe, expect, it } from 'vitest';
import { decodeBase64, paeEncode } from './dsse';

describe('paeEncode', () => {
  it('matches the DSSE v1 specification test vector', () => {
    const pae = paeEncode('http://example.com/HelloWorld', Buffer.from('hello world'));
    expect(pae.toString('utf8')).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts bytes, not characters, for multi-byte text', () => {
    const pae = paeEncode('t/ü', Buffer.from('é', 'utf8'));
    expect(pae.toString('utf8')).toBe('DSSEv1 4 t/ü 2 é');
  });

  it('encodes an empty body with length 0', () => {
    expect(paeEncode('a', Buffer.alloc(0)).toString('utf8')).toBe('DSSEv1 1 a 0 ');
  });
});

describe('decodeBase64', () => {
  it('accepts the standard and the URL-safe alphabet', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe]);
    expect(decodeBase64(bytes.toString('base64'))).toEqual(bytes);
    expect(decodeBase64(bytes.toString('base64url'))).toEqual(bytes);
  });

  it('rejects text that is not base64', () => {
    expect(decodeBase64('not base64!')).toBeNull();
    expect(decodeBase64('abcde')).toBeNull();
  });
});
