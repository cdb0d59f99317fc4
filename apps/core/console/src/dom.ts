type Child = Node | string | null | undefined | false;

/** A small element factory: attributes, then children (text is escaped by the DOM). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new TypeError(`console page has no #${id}`);
  return el as T;
}

export function clear(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren(
    ...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false),
  );
}

export function time(ts: number | null | undefined): string {
  if (ts === null || ts === undefined) return '—';
  return new Date(ts).toLocaleString();
}

/** A status line under a control: `role=status` for results, `role=alert` for refusals. */
export function say(el: HTMLElement, text: string, kind: 'ok' | 'error'): void {
  el.textContent = text;
  el.className = kind === 'error' ? 'message error' : 'message ok';
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}
