import { api, describeFailure } from './api';
import { byId, h, say } from './dom';
import type { ActuatorView } from './types';

/**
 * Switches and dimmers. Commands go to `PUT /api/v1/actuators/{id}`, the same command path as MQTT;
 * the row shows what the core reports back, and a refusal (an interlock) in the core's own words.
 */
export class ActuatorPanel {
  private readonly rows = new Map<
    string,
    { state: HTMLElement; level?: HTMLInputElement; msg: HTMLElement }
  >();
  private readonly root = byId('actuators-list');

  async load(): Promise<void> {
    const res = await api<ActuatorView[]>('GET', '/api/v1/actuators');
    if (!res.ok) {
      this.root.textContent = describeFailure(res.error);
      return;
    }
    this.root.replaceChildren();
    this.rows.clear();
    for (const a of res.value) this.add(a);
  }

  update(a: ActuatorView): void {
    const row = this.rows.get(a.id);
    if (!row) return;
    if (a.state !== undefined) row.state.textContent = a.state;
    if (a.level !== undefined) {
      row.state.textContent = `${a.level} %`;
      if (row.level && document.activeElement !== row.level) row.level.value = String(a.level);
    }
  }

  private add(a: ActuatorView): void {
    const state = h('output', { class: 'actuator-state', 'aria-live': 'polite' });
    const msg = h('p', { class: 'message', id: `actuator-${a.id}-message` });
    const controls: HTMLElement[] = [];
    let level: HTMLInputElement | undefined;
    if (a.kind === 'dimmer') {
      level = h('input', {
        type: 'range',
        min: 0,
        max: 100,
        step: 1,
        id: `actuator-${a.id}-level`,
        value: a.level ?? 0,
      });
      const input = level;
      input.addEventListener('change', () => void this.send(a.id, { level: Number(input.value) }, msg));
      controls.push(h('label', { for: input.id }, `Level of ${a.id}`), input);
    } else {
      for (const s of ['on', 'off'] as const) {
        const b = h('button', { type: 'button', id: `actuator-${a.id}-${s}` }, `${a.id} ${s}`);
        b.addEventListener('click', () => void this.send(a.id, { state: s }, msg));
        controls.push(b);
      }
    }
    const row = h(
      'li',
      { class: 'actuator', 'data-actuator': a.id },
      h('span', { class: 'actuator-name' }, a.id),
      state,
      h('span', { class: 'controls' }, ...controls),
      msg,
    );
    this.root.append(row);
    this.rows.set(a.id, { state, msg, ...(level ? { level } : {}) });
    this.update(a);
  }

  private async send(id: string, cmd: Record<string, unknown>, msg: HTMLElement): Promise<void> {
    const res = await api<ActuatorView>('PUT', `/api/v1/actuators/${encodeURIComponent(id)}`, cmd);
    if (res.ok) {
      this.update(res.value);
      say(msg, `${id}: ${res.value.state ?? `${res.value.level} %`}`, 'ok');
    } else {
      say(msg, describeFailure(res.error), 'error');
      msg.dataset.code = res.error.code;
    }
  }
}
