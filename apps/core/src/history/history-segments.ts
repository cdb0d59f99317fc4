import { appendFile, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Raw readings: `[ts, sensor, value]`, one hour per file. Minute means: `[minute, sensor, mean, count]`, one day per file. */
export type SegmentKind = 'raw' | 'min';
export const SEGMENT_MS: Record<SegmentKind, number> = { raw: 3_600_000, min: 86_400_000 };

export interface SegmentFile {
  kind: SegmentKind;
  start: number;
  name: string;
  bytes: number;
}

export type RawRecord = [ts: number, sensor: string, value: number];
export type MinuteRecord = [minute: number, sensor: string, mean: number, count: number];

const NAME = /^(raw|min)-(\d{1,15})\.jsonl$/;

export function segmentName(kind: SegmentKind, ts: number): string {
  return `${kind}-${Math.floor(ts / SEGMENT_MS[kind]) * SEGMENT_MS[kind]}.jsonl`;
}

/** The history's files, oldest first; anything else in the folder is left alone. */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  await mkdir(dir, { recursive: true });
  const files: SegmentFile[] = [];
  for (const name of await readdir(dir)) {
    const m = NAME.exec(name);
    if (!m) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile())
      files.push({ kind: m[1] as SegmentKind, start: Number(m[2]), name, bytes: info.size });
  }
  return files.sort((a, b) => a.start - b.start || a.kind.localeCompare(b.kind));
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Corruption policy: files are append-only lines, and each line stands alone. A line that is not
 * exactly a record (a torn write at a power cut, flipped bits) is skipped and counted; the rest of
 * the file still loads. A file without a final newline gets one before the next append.
 */
export async function readSegment(
  dir: string,
  file: SegmentFile,
): Promise<{ records: (RawRecord | MinuteRecord)[]; corrupt: number; tornTail: boolean }> {
  const text = await readFile(join(dir, file.name), 'utf8');
  const records: (RawRecord | MinuteRecord)[] = [];
  let corrupt = 0;
  const lines = text.split('\n');
  for (const line of lines) {
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      corrupt++;
      continue;
    }
    const ok =
      Array.isArray(v) &&
      isNum(v[0]) &&
      isName(v[1]) &&
      isNum(v[2]) &&
      (file.kind === 'raw' ? v.length === 3 : v.length === 4 && isNum(v[3]) && v[3] > 0);
    if (ok) records.push(v as RawRecord | MinuteRecord);
    else corrupt++;
  }
  return { records, corrupt, tornTail: text.length > 0 && !text.endsWith('\n') };
}

export async function appendLines(dir: string, name: string, lines: string[], newlineFirst: boolean) {
  await appendFile(join(dir, name), (newlineFirst ? '\n' : '') + lines.join('\n') + '\n');
}

export async function removeSegment(dir: string, name: string): Promise<void> {
  await unlink(join(dir, name)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
