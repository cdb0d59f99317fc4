import { api, describeFailure, reportLoadFailure } from './api';
import { byId, h, say } from './dom';

/** In simulation: the cabinet's environment, edited, and faults injected into simulated chips. */
export class SimulationPanel {
  private readonly env = byId<HTMLFormElement>('sim-env-form');
  private readonly envFields = byId('sim-env-fields');
  private readonly msg = byId('sim-message');
  private readonly inputs = new Map<string, HTMLInputElement>();

  constructor() {
    this.env.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.apply();
    });
    byId<HTMLFormElement>('sim-fault-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.inject();
    });
    byId('sim-clear').addEventListener('click', () => void this.clearFaults());
  }

  async load(): Promise<void> {
    const res = await api<Record<string, number>>('GET', '/api/v1/sim/environment');
    if (!res.ok) {
      reportLoadFailure(
        res.error,
        byId('simulation-content'),
        this.msg,
        'This module runs real hardware: no simulation.',
      );
      return;
    }
    const faults = await api<{ faults: string[] }>('GET', '/api/v1/sim/faults');
    if (faults.ok) {
      byId('sim-fault').replaceChildren(...faults.value.faults.map((f) => h('option', { value: f }, f)));
    }
    this.inputs.clear();
    this.envFields.replaceChildren(
      ...Object.entries(res.value).map(([k, v]) => {
        const input = h('input', { type: 'number', step: 'any', id: `sim-${k}`, name: k, value: v });
        this.inputs.set(k, input);
        return h('div', { class: 'field' }, h('label', { for: input.id }, k), input);
      }),
    );
  }

  private async apply(): Promise<void> {
    const patch: Record<string, number> = {};
    for (const [k, input] of this.inputs) patch[k] = Number(input.value);
    const res = await api<Record<string, number>>('PUT', '/api/v1/sim/environment', patch);
    say(this.msg, res.ok ? 'Environment applied.' : describeFailure(res.error), res.ok ? 'ok' : 'error');
  }

  private async inject(): Promise<void> {
    const target = byId<HTMLInputElement>('sim-target').value.trim();
    const fault = byId<HTMLSelectElement>('sim-fault').value;
    const res = await api('POST', '/api/v1/sim/faults', { target, fault });
    say(
      this.msg,
      res.ok ? `Injected ${fault} into ${target}.` : describeFailure(res.error),
      res.ok ? 'ok' : 'error',
    );
  }

  private async clearFaults(): Promise<void> {
    const res = await api('DELETE', '/api/v1/sim/faults');
    say(this.msg, res.ok ? 'All faults cleared.' : describeFailure(res.error), res.ok ? 'ok' : 'error');
  }
}
