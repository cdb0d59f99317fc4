import { api, describeFailure, type ApiFailure } from './api';
import { byId, h, say } from './dom';

type Config = Record<string, unknown>;

/**
 * The module config as a form, a fieldset per section. Saving sends the sections; the core validates
 * with the config's schema, and each of its errors is shown at the field its path names.
 */
export class ConfigForm {
  private readonly form = byId<HTMLFormElement>('config-form');
  private readonly fields = byId('config-fields');
  private readonly msg = byId('config-message');
  private inputs = new Map<string, HTMLInputElement>();

  constructor() {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
  }

  async load(): Promise<void> {
    const res = await api<Config>('GET', '/api/v1/config');
    if (!res.ok) {
      say(this.msg, describeFailure(res.error), 'error');
      return;
    }
    this.render(res.value);
  }

  private render(config: Config): void {
    this.inputs = new Map();
    this.fields.replaceChildren(...this.entries(config, ''));
  }

  /**
   * The elements of an object's entries: a fieldset per nested object, nested as deep as the config
   * is (e.g. alarms → limits → ph → high), and a field per value — at the top too (e.g. timezone).
   */
  private entries(value: Record<string, unknown>, path: string): HTMLElement[] {
    return Object.entries(value).map(([key, v]) => {
      const at = `${path}/${key}`;
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? h('fieldset', {}, h('legend', {}, key), ...this.entries(v as Record<string, unknown>, at))
        : this.field(key, at, v);
    });
  }

  private field(key: string, at: string, v: unknown): HTMLElement {
    const id = `cfg${at.replaceAll('/', '-')}`;
    const kind = Array.isArray(v) ? 'json' : typeof v;
    const input = h('input', {
      id,
      name: at,
      'data-path': at,
      'data-kind': kind,
      type: kind === 'boolean' ? 'checkbox' : kind === 'number' ? 'number' : 'text',
      step: kind === 'number' ? 'any' : undefined,
      'aria-describedby': `${id}-error`,
    });
    if (kind === 'boolean') input.checked = v as boolean;
    else input.value = kind === 'json' ? JSON.stringify(v) : String(v);
    this.inputs.set(at, input);
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, key),
      input,
      h('span', { class: 'field-error', id: `${id}-error` }),
    );
  }

  private patch(): Config {
    const patch: Record<string, unknown> = {};
    for (const [path, input] of this.inputs) {
      const keys = path.split('/').slice(1);
      let at = patch;
      for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
      at[keys[keys.length - 1]!] = this.valueOf(input);
    }
    return patch as Config;
  }

  /** What the person typed, as the type the field holds; the core's schema judges the rest. */
  private valueOf(input: HTMLInputElement): unknown {
    switch (input.dataset.kind) {
      case 'boolean':
        return input.checked;
      case 'number':
        return input.value === '' ? null : Number(input.value);
      case 'json':
        try {
          return JSON.parse(input.value) as unknown;
        } catch {
          return input.value;
        }
      default:
        return input.value;
    }
  }

  private async save(): Promise<void> {
    this.showErrors(undefined);
    const res = await api<Config>('PUT', '/api/v1/config', this.patch());
    if (res.ok) {
      this.render(res.value);
      say(this.msg, 'Saved.', 'ok');
      return;
    }
    const elsewhere = this.showErrors(res.error);
    say(this.msg, [describeFailure(res.error), ...elsewhere].join(' — '), 'error');
  }

  /** Marks each field an error names; returns the errors no single field holds (e.g. a whole section). */
  private showErrors(error: ApiFailure | undefined): string[] {
    for (const input of this.inputs.values()) {
      input.removeAttribute('aria-invalid');
      byId(`${input.id}-error`).textContent = '';
    }
    if (!error || !Array.isArray(error.details)) return [];
    const elsewhere: string[] = [];
    for (const d of error.details as { path?: unknown; message?: unknown }[]) {
      const input = typeof d.path === 'string' ? this.inputs.get(d.path) : undefined;
      if (!input) {
        elsewhere.push(
          `${typeof d.path === 'string' && d.path !== '' ? d.path : 'config'}: ${String(d.message)}`,
        );
        continue;
      }
      input.setAttribute('aria-invalid', 'true');
      const slot = byId(`${input.id}-error`);
      slot.textContent = [slot.textContent, String(d.message)].filter(Boolean).join('; ');
    }
    return elsewhere;
  }
}
