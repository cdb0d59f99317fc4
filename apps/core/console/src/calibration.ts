import { api, describeFailure, reportLoadFailure } from './api';
import { byId, clear, h, say, time } from './dom';

interface Calibration {
  sensor: string;
  points: { action: string; value?: number; at: number }[];
  /** The steps this sensor takes, when the core says so. */
  actions?: string[];
  /** The points the device itself reports (EZO `Cal,?`). */
  devicePoints?: number | null;
  calibratedAt: number | string | null;
  dueAt: number | string | null;
  due: boolean;
  offset: number;
  scale: number;
}

/** What a probe can be calibrated with, by sensor; every sensor takes an offset and scale. */
const ACTIONS: Record<string, string[]> = {
  ph: ['mid', 'low', 'high', 'clear'],
  ec: ['dry', 'single', 'low', 'high', 'clear'],
  co2: ['forced'],
};
const NEEDS_NO_VALUE = new Set(['dry', 'clear']);

/** Probe calibration: the state and due date of one sensor, and its calibration steps. */
export class CalibrationPanel {
  private readonly sensor = byId<HTMLSelectElement>('cal-sensor');
  private readonly value = byId<HTMLInputElement>('cal-value');
  private readonly scale = byId<HTMLInputElement>('cal-scale');
  private readonly actions = byId('cal-actions');
  private readonly state = byId('cal-state');
  private readonly msg = byId('cal-message');

  constructor() {
    this.sensor.addEventListener('change', () => void this.load());
  }

  setSensors(ids: string[]): void {
    if (this.sensor.options.length > 0) return;
    for (const id of ids) this.sensor.append(h('option', { value: id }, id));
    this.sensor.value = ids.includes('ph') ? 'ph' : (ids[0] ?? '');
    void this.load();
  }

  async load(): Promise<void> {
    const id = this.sensor.value;
    if (!id) return;
    const res = await api<Calibration>('GET', `/api/v1/sensors/${encodeURIComponent(id)}/calibration`);
    if (!res.ok) {
      reportLoadFailure(
        res.error,
        byId('calibration-content'),
        this.msg,
        'Calibration is not available in this core.',
      );
      return;
    }
    const c = res.value;
    clear(
      this.state,
      h(
        'p',
        {},
        `Calibrated: ${c.calibratedAt === null ? 'never' : time(new Date(c.calibratedAt).getTime())}`,
      ),
      h('p', {}, `Due: ${c.dueAt === null ? '—' : time(new Date(c.dueAt).getTime())}`),
      c.due ? h('p', { class: 'due', role: 'status' }, 'Calibration is due.') : null,
      h(
        'p',
        { id: 'cal-points' },
        `Points: ${c.points.length === 0 ? 'none' : c.points.map((p) => `${p.action}${p.value === undefined ? '' : ` ${p.value}`} (${time(p.at)})`).join(', ')}`,
      ),
      c.devicePoints === undefined || c.devicePoints === null
        ? null
        : h('p', {}, `The probe reports ${c.devicePoints} point(s).`),
      h('p', {}, `Offset ${c.offset}, scale ${c.scale}`),
    );
    this.actions.replaceChildren(
      ...(c.actions ?? [...(ACTIONS[id] ?? []), 'offset']).map((action) => {
        const b = h('button', { type: 'button', id: `cal-${action}` }, `Calibrate ${action}`);
        b.addEventListener('click', () => void this.run(action));
        return b;
      }),
    );
  }

  private async run(action: string): Promise<void> {
    const body: Record<string, unknown> = { action };
    if (!NEEDS_NO_VALUE.has(action) && this.value.value !== '') body.value = Number(this.value.value);
    if (action === 'offset' && this.scale.value !== '') body.scale = Number(this.scale.value);
    const id = this.sensor.value;
    const res = await api('POST', `/api/v1/sensors/${encodeURIComponent(id)}/calibration`, body);
    if (!res.ok) {
      say(this.msg, describeFailure(res.error), 'error');
      return;
    }
    say(this.msg, `${id}: ${action} done.`, 'ok');
    await this.load();
  }
}
