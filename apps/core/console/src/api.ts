/** The error contract of the REST API, as the page receives it. */
export interface ApiFailure {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiFailure };

/**
 * One request to the core. A cookie signs it in; unsafe methods carry the page's Origin, which the
 * core checks. A 401 on a page that needs sign-in goes to the sign-in page.
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return {
      ok: false,
      error: { status: 0, code: 'UNREACHABLE', message: `the module does not answer (${String(e)})` },
    };
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return { ok: true, value: parsed as T };
  const err = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  const failure: ApiFailure = {
    status: res.status,
    code: typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`,
    message: typeof err?.message === 'string' ? err.message : res.statusText,
    ...(err?.details === undefined ? {} : { details: err.details }),
  };
  if (res.status === 401 && path !== '/api/v1/session') goToSignIn();
  return { ok: false, error: failure };
}

/** An endpoint this core does not have (an older core): the section says so instead of failing. */
export function isMissingRoute(e: ApiFailure): boolean {
  return e.status === 404 && e.code === 'NOT_FOUND';
}

export function goToSignIn(): void {
  const next = location.pathname + location.search;
  leaveTo(`/sign-in?next=${encodeURIComponent(next)}`);
}

let leaving = false;
/**
 * Leaves the page, once: after a sign-out, the sections' requests still in flight come back 401 and
 * would each start a navigation of their own, aborting the one already under way.
 */
export function leaveTo(url: string): void {
  if (leaving) return;
  leaving = true;
  location.assign(url);
}

/** The words a person reads for a refusal: interlocks are named as such. */
export function describeFailure(e: ApiFailure): string {
  if (e.code === 'INTERLOCK') return `Refused by interlock: ${e.message}`;
  return `${e.code}: ${e.message}`;
}

/**
 * A section that could not load: a route this core does not have (an older core, or real hardware
 * for simulation) replaces the section with `unavailable`; any other failure is said in its line.
 */
export function reportLoadFailure(
  e: ApiFailure,
  section: HTMLElement,
  line: HTMLElement,
  unavailable: string,
): void {
  if (isMissingRoute(e)) {
    const p = document.createElement('p');
    p.className = 'unavailable';
    p.textContent = unavailable;
    section.replaceChildren(p);
    return;
  }
  line.textContent = describeFailure(e);
  line.className = 'message error';
  line.setAttribute('role', 'alert');
}
