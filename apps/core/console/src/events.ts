import { api, describeFailure } from './api';
import { byId, h, time } from './dom';
import type { CoreEvent } from './types';

const KEEP = 500;

/** The event log: the recent ones from the core, then each as the stream pushes it; filtered here. */
export class EventLog {
  private events: CoreEvent[] = [];
  private readonly body = byId<HTMLTableSectionElement>('events-body');
  private readonly severity = byId<HTMLSelectElement>('events-severity');
  private readonly text = byId<HTMLInputElement>('events-text');

  constructor() {
    this.severity.addEventListener('change', () => this.render());
    this.text.addEventListener('input', () => this.render());
  }

  async load(): Promise<void> {
    const res = await api<CoreEvent[]>('GET', '/api/v1/events?limit=200');
    if (!res.ok) {
      byId('events-message').textContent = describeFailure(res.error);
      return;
    }
    this.events = [...res.value].sort((a, b) => b.ts - a.ts);
    this.render();
  }

  add(e: CoreEvent): void {
    this.events.unshift(e);
    if (this.events.length > KEEP) this.events.length = KEEP;
    this.render();
  }

  private render(): void {
    const severity = this.severity.value;
    const text = this.text.value.trim().toLowerCase();
    const shown = this.events
      .filter((e) => severity === '' || e.severity === severity)
      .filter((e) => text === '' || `${e.type} ${e.message}`.toLowerCase().includes(text))
      .slice(0, 100);
    this.body.replaceChildren(
      ...shown.map((e) =>
        h(
          'tr',
          { class: `sev-${e.severity}` },
          h('td', {}, time(e.ts)),
          h('td', {}, e.severity),
          h('td', {}, e.type),
          h('td', {}, e.message),
        ),
      ),
    );
  }
}
