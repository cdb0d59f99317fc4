import '../console.css';
import { api } from './api';
import { byId, say } from './dom';

/** Only a path of this site: `next` comes from the address bar and must not send the token elsewhere. */
function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

async function main(): Promise<void> {
  const msg = byId('sign-in-message');
  const session = await api<{ required: boolean; authenticated: boolean }>('GET', '/api/v1/session');
  if (session.ok && !session.value.required) say(msg, 'This module needs no sign-in.', 'ok');
  byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = byId<HTMLInputElement>('token').value;
    void api('POST', '/api/v1/session', { token }).then((res) => {
      if (res.ok) location.assign(nextPath());
      else say(msg, `${res.error.code}: ${res.error.message}`, 'error');
    });
  });
}

void main();
