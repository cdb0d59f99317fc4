import { api, describeFailure, type ApiFailure } from './api';
import { byId, h, say } from './dom';

type Config = Record<string, Record<string, unknown>>;

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
    this.fields.replaceChildren();
    for (const [section, values] of Object.entries(config)) {
      const set = h('fieldset', {}, h('legend', {}, section));
      for (const [key, value] of Object.entries(values)) {
        const path = `/${section}/${key}`;
        const id = `cfg-${section}-${key}`;
        const input = h('input', {
          id,
          name: path,
          'data-path': path,
          'data-kind': typeof value,
          type: typeof value === 'boolean' ? 'checkbox' : typeof value === 'number' ? 'number' : 'text',
          step: typeof value === 'number' ? 'any' : undefined,
          'aria-describedby': `${id}-error`,
        });
        if (typeof value === 'boolean') input.checked = value;
        else input.value = String(value);
        this.inputs.set(path, input);
        set.append(
          h(
            'div',
            { class: 'field' },
            h('label', { for: id }, key),
            input,
            h('span', { class: 'field-error', id: `${id}-error` }),
          ),
        );
      }
      this.fields.append(set);
    }
  }

  private patch(): Config {
    const patch: Config = {};
    for (const [path, input] of this.inputs) {
      const [, section, key] = path.split('/') as [string, string, string];
      const kind = input.dataset.kind;
      const value =
        kind === 'boolean'
          ? input.checked
          : kind === 'number'
            ? input.value === ''
              ? null
              : Number(input.value)
            : input.value;
      (patch[section] ??= {})[key] = value;
    }
    return patch;
  }

  private async save(): Promise<void> {
    this.showErrors(undefined);
    const res = await api<Config>('PUT', '/api/v1/config', this.patch());
    if (res.ok) {
      this.render(res.value);
      say(this.msg, 'Saved.', 'ok');
      return;
    }
    this.showErrors(res.error);
    say(this.msg, describeFailure(res.error), 'error');
  }

  private showErrors(error: ApiFailure | undefined): void {
    for (const input of this.inputs.values()) {
      input.removeAttribute('aria-invalid');
      byId(`${input.id}-error`).textContent = '';
    }
    if (!error || !Array.isArray(error.details)) return;
    for (const d of error.details as { path?: unknown; message?: unknown }[]) {
      const input = typeof d.path === 'string' ? this.inputs.get(d.path) : undefined;
      if (!input) continue;
      input.setAttribute('aria-invalid', 'true');
      const slot = byId(`${input.id}-error`);
      slot.textContent = [slot.textContent, String(d.message)].filter(Boolean).join('; ');
    }
  }
}
