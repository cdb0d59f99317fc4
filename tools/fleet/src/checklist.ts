import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolvePath, type CliIo } from './cli-io';
import { FleetError } from './fleet-error';
import type { Checklist, ChecklistItem } from './release-store';

/** The checklist lives in docs/RELEASING.md, so what the doc asks for is what promote requires. */
export const DEFAULT_CHECKLIST = fileURLToPath(new URL('../../../docs/RELEASING.md', import.meta.url));
const HEADING = /^#{2,4}\s+Pre-release checklist\s*$/i;
const ITEM = /^- \[[ x]\] `([a-z0-9-]+)`:?\s+(.+)$/;

/** The items of the "Pre-release checklist" section: lines `- [ ] \`id\`: what to check`. */
export function checklistItems(io: CliIo, path?: string): Omit<ChecklistItem, 'done'>[] {
  const file = path ? resolvePath(io, path) : (io.env.GROWOFF_FLEET_CHECKLIST ?? DEFAULT_CHECKLIST);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FleetError('FLEET_BAD_FILE', `cannot read the checklist ${file}`);
  }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => HEADING.test(l));
  const items: Omit<ChecklistItem, 'done'>[] = [];
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    if (/^#{1,4}\s/.test(line)) break;
    const match = ITEM.exec(line.trim());
    if (match) items.push({ id: match[1]!, text: match[2]!.trim() });
  }
  if (items.length === 0) {
    throw new FleetError('FLEET_BAD_FILE', `${file} has no "Pre-release checklist" section with items`);
  }
  return items;
}

export function openItems(checklist: Checklist): ChecklistItem[] {
  return checklist.items.filter((i) => !i.done);
}

export function renderChecklist(checklist: Checklist): string {
  const done = checklist.items.length - openItems(checklist).length;
  return (
    `checklist of ${checklist.release}: ${done}/${checklist.items.length} done\n` +
    checklist.items
      .map(
        (i) =>
          `  [${i.done ? 'x' : ' '}] ${i.id.padEnd(18)} ${i.text}` +
          (i.done ? `\n      ${i.done.by} ${i.done.at}${i.done.note ? `: ${i.done.note}` : ''}` : ''),
      )
      .join('\n') +
    '\n'
  );
}
