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

/**
 * The size of the record at `offset` of `buf` (which holds `available` valid bytes) when it is whole
 * and its checksum holds; 0 when it runs past `available`; -1 when it is damaged. Allocates nothing:
 * the reader of a batch calls it for every record.
 */
export function recordSize(buf: Buffer, offset: number, available: number): number {
  if (available - offset < RECORD_HEADER_BYTES) return 0;
  const length = buf.readUInt32LE(offset);
  if (length > MAX_RECORD_PAYLOAD) return -1;
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > available) return 0;
  if (crc32(buf.subarray(offset + 8, end)) !== buf.readUInt32LE(offset + 4)) return -1;
  return RECORD_HEADER_BYTES + length;
}

/** The sequence number of the record at `offset` (checked by `recordSize`). */
export function recordSeq(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + 8) + buf.readUInt32LE(offset + 12) * 0x1_0000_0000;
}
