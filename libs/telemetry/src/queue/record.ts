import { crc32 } from 'node:zlib';
import { MAX_LINE_BYTES } from '../line-protocol';

/**
 * One queued line on disk: u32 payload length, u32 CRC-32 of (seq + payload), u64 sequence
 * number, then the UTF-8 line. The sequence makes replay order and the produced count survive
 * restarts; the checksum finds torn or rotted records.
 */
export const RECORD_HEADER_BYTES = 16;
export const MAX_RECORD_PAYLOAD = MAX_LINE_BYTES;

export function encodeRecord(seq: number, line: string): Buffer {
  const length = Buffer.byteLength(line, 'utf8');
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + length);
  buf.writeUInt32LE(length, 0);
  buf.writeUInt32LE(seq % 0x1_0000_0000, 8);
  buf.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), 12);
  buf.write(line, RECORD_HEADER_BYTES, 'utf8');
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export type DecodeResult =
  { kind: 'record'; seq: number; line: string; size: number } | { kind: 'incomplete' } | { kind: 'corrupt' };

/** Decodes the record at `offset` of `buf` (which holds `available` valid bytes). */
export function decodeRecord(buf: Buffer, offset: number, available: number): DecodeResult {
  if (available - offset < RECORD_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(offset);
  if (length > MAX_RECORD_PAYLOAD) return { kind: 'corrupt' };
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > available) return { kind: 'incomplete' };
  if (crc32(buf.subarray(offset + 8, end)) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt' };
  const seq = buf.readUInt32LE(offset + 8) + buf.readUInt32LE(offset + 12) * 0x1_0000_0000;
  return {
    kind: 'record',
    seq,
    line: buf.toString('utf8', offset + RECORD_HEADER_BYTES, end),
    size: RECORD_HEADER_BYTES + length,
  };
}
