import { byId, h, time } from './dom';
import type { AppStatus } from './types';

/** The core's, updater's and tunnel's status, the latter two from their retained MQTT status. */
export class AppsPanel {
  private readonly body = byId<HTMLTableSectionElement>('apps-body');
  private readonly apps = new Map<string, AppStatus>();

  set(all: AppStatus[]): void {
    for (const a of all) this.apps.set(a.app, a);
    this.render();
  }

  update(a: AppStatus): void {
    this.apps.set(a.app, a);
    this.render();
  }

  private render(): void {
    this.body.replaceChildren(
      ...[...this.apps.values()].map((a) => {
        const { state, version, ts: _ts, ...rest } = a.status ?? {};
        return h(
          'tr',
          { 'data-app': a.app },
          h('th', { scope: 'row' }, a.app),
          h(
            'td',
            {},
            a.error ? `invalid: ${a.error}` : a.status === null ? 'no status retained' : String(state),
          ),
          h('td', {}, version === undefined ? '—' : String(version)),
          h('td', { class: 'details' }, Object.keys(rest).length === 0 ? '' : JSON.stringify(rest)),
          h('td', {}, time(a.receivedAt)),
        );
      }),
    );
  }
}
