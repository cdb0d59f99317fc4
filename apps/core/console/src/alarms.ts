import { api, describeFailure, reportLoadFailure } from './api';
import { byId, h, say, time } from './dom';

interface Alarm {
  sensor: string;
  limit: 'low' | 'high';
  value: number | null;
  since: number;
  acknowledged: boolean;
}

/** Active alarms with filters and acknowledge; reloaded when the stream says an alarm changed. */
export class AlarmPanel {
  private alarms: Alarm[] = [];
  private readonly body = byId<HTMLTableSectionElement>('alarms-body');
  private readonly filter = byId<HTMLSelectElement>('alarms-filter');
  private readonly sensor = byId<HTMLInputElement>('alarms-sensor');
  private readonly msg = byId('alarms-message');

  constructor() {
    this.filter.addEventListener('change', () => this.render());
    this.sensor.addEventListener('input', () => this.render());
  }

  async load(): Promise<void> {
    const res = await api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    if (!res.ok) {
      reportLoadFailure(
        res.error,
        byId('alarms-content'),
        this.msg,
        'Alarms are not available in this core.',
      );
      return;
    }
    this.alarms = res.value.alarms;
    this.render();
  }

  private render(): void {
    const onlyOpen = this.filter.value === 'unacknowledged';
    const sensor = this.sensor.value.trim();
    const shown = this.alarms
      .filter((a) => !onlyOpen || !a.acknowledged)
      .filter((a) => sensor === '' || a.sensor.includes(sensor));
    byId('alarms-count').textContent = String(this.alarms.filter((a) => !a.acknowledged).length);
    this.body.replaceChildren(
      ...shown.map((a) => {
        const ack = h(
          'button',
          { type: 'button', id: `ack-${a.sensor}-${a.limit}` },
          `Acknowledge ${a.sensor} ${a.limit}`,
        );
        ack.disabled = a.acknowledged;
        ack.addEventListener('click', () => void this.acknowledge(a));
        return h(
          'tr',
          { 'data-alarm': `${a.sensor}:${a.limit}` },
          h('td', {}, a.sensor),
          h('td', {}, a.limit),
          h('td', {}, a.value === null ? '—' : String(a.value)),
          h('td', {}, time(a.since)),
          h('td', { class: 'acknowledged' }, a.acknowledged ? 'yes' : 'no'),
          h('td', {}, ack),
        );
      }),
    );
  }

  private async acknowledge(a: Alarm): Promise<void> {
    const res = await api('POST', '/api/v1/alarms/ack', { sensor: a.sensor, limit: a.limit });
    if (!res.ok) {
      say(this.msg, describeFailure(res.error), 'error');
      return;
    }
    say(this.msg, `Acknowledged ${a.sensor} ${a.limit}.`, 'ok');
    await this.load();
  }
}
