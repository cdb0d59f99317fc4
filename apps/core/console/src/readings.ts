import { byId, h, time } from './dom';
import type { Reading } from './types';

function format(r: Reading): string {
  if (r.value === null) return '—';
  return Math.abs(r.value) >= 100 ? r.value.toFixed(0) : r.value.toFixed(2);
}

/** The live table: one row per sensor, updated in place as readings arrive. */
export class ReadingsTable {
  private readonly rows = new Map<string, HTMLTableRowElement>();
  private readonly body = byId<HTMLTableSectionElement>('readings-body');

  update(r: Reading): void {
    let row = this.rows.get(r.id);
    if (!row) {
      row = h(
        'tr',
        { 'data-sensor': r.id },
        h('th', { scope: 'row' }, r.id),
        h('td', { class: 'value' }),
        h('td', { class: 'unit' }),
        h('td', { class: 'quality' }),
        h('td', { class: 'ts' }),
      );
      this.rows.set(r.id, row);
      const after = [...this.rows.keys()].sort().indexOf(r.id);
      this.body.insertBefore(row, this.body.children[after] ?? null);
    }
    const [, value, unit, quality, ts] = row.children as unknown as HTMLElement[];
    value!.textContent = format(r);
    unit!.textContent = r.unit;
    quality!.textContent = r.quality;
    quality!.className = `quality q-${r.quality === 'ok' ? 'ok' : 'bad'}`;
    if (r.error) quality!.title = r.error;
    ts!.textContent = time(r.ts);
  }

  sensors(): string[] {
    return [...this.rows.keys()].sort();
  }
}
