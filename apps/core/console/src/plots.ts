import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, isMissingRoute } from './api';
import { byId, clear, h } from './dom';
import type { Reading } from './types';

interface History {
  sensor: string;
  unit: string;
  points: [number, number | null][];
}
interface Series {
  plot: uPlot;
  xs: number[];
  ys: (number | null)[];
  dirty: boolean;
}

/** Points per plot: enough for the hours shown, few enough for a Pi 3's browser to redraw. */
const MAX_POINTS = 1500;

/** A uPlot per sensor: the last hours from the history endpoint, then live readings appended. */
export class Plots {
  private readonly series = new Map<string, Series>();
  private readonly root = byId('plots');
  private available = true;
  private hours = 6;

  constructor() {
    const select = byId<HTMLSelectElement>('plot-hours');
    select.addEventListener('change', () => {
      this.hours = Number(select.value);
      void this.load([...this.series.keys()]);
    });
    // Redraw in one batch at a calm pace instead of on every reading.
    setInterval(() => this.redraw(), 2000);
  }

  async load(sensors: string[]): Promise<void> {
    const to = Date.now();
    const from = to - this.hours * 3600_000;
    const step = Math.max(1000, Math.round((to - from) / 600));
    for (const id of sensors) {
      const res = await api<History>(
        'GET',
        `/api/v1/sensors/${encodeURIComponent(id)}/history?from=${from}&to=${to}&step=${step}`,
      );
      if (!res.ok) {
        if (isMissingRoute(res.error)) {
          this.available = false;
          clear(this.root, h('p', { class: 'unavailable' }, 'History is not available in this core.'));
          return;
        }
        this.ensure(id, '').xs.length = 0;
        continue;
      }
      const s = this.ensure(id, res.value.unit);
      s.xs = res.value.points.map((p) => p[0] / 1000);
      s.ys = res.value.points.map((p) => p[1]);
      s.dirty = true;
    }
    this.redraw();
  }

  add(r: Reading): void {
    if (!this.available) return;
    const s = this.series.get(r.id);
    if (!s) return;
    s.xs.push(r.ts / 1000);
    s.ys.push(r.quality === 'ok' ? r.value : null);
    if (s.xs.length > MAX_POINTS) {
      s.xs.splice(0, s.xs.length - MAX_POINTS);
      s.ys.splice(0, s.ys.length - MAX_POINTS);
    }
    s.dirty = true;
  }

  private ensure(id: string, unit: string): Series {
    const existing = this.series.get(id);
    if (existing) return existing;
    const box = h(
      'figure',
      { class: 'plot', 'data-plot': id },
      h('figcaption', {}, `${id}${unit ? ` (${unit})` : ''}`),
    );
    this.root.append(box);
    const plot = new uPlot(
      {
        width: Math.max(260, Math.min(420, box.clientWidth || 320)),
        height: 140,
        legend: { show: false },
        series: [{}, { label: id, stroke: '#2f7d32', width: 1.5, spanGaps: false }],
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 50 }],
      },
      [[], []],
      box,
    );
    const s: Series = { plot, xs: [], ys: [], dirty: false };
    this.series.set(id, s);
    return s;
  }

  private redraw(): void {
    for (const s of this.series.values()) {
      if (!s.dirty) continue;
      s.dirty = false;
      s.plot.setData([s.xs, s.ys]);
    }
  }
}
