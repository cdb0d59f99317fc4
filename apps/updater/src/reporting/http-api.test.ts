import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorBody, validate } from '@growoff/protocol';
import type { Updater } from '../updater';
import { UpdaterError } from '../updater-error';
import { startHttpApi } from './http-api';

/** An updater whose status and history throw what each test gives it. */
function failingUpdater(error: unknown): Updater {
  const fail = () => {
    throw error;
  };
  return { status: fail, history: fail, check: async () => undefined } as unknown as Updater;
}

describe('updater HTTP API errors', () => {
  let close: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function get(updater: Updater, path: string) {
    const app = await startHttpApi(updater, 0);
    close = () => app.close();
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: (await res.json()) as { error: unknown } };
  }

  it('answers a thrown registry error with its code and the registry status', async () => {
    const unreachable = new UpdaterError('REGISTRY_UNREACHABLE', 'the registry is unreachable');
    expect(await get(failingUpdater(unreachable), '/status')).toEqual({
      status: 503,
      body: { error: { code: 'REGISTRY_UNREACHABLE', message: 'the registry is unreachable' } },
    });
    const corrupt = new UpdaterError('JOURNAL_CORRUPT', 'journal unreadable', { line: 3 });
    expect(await get(failingUpdater(corrupt), '/history')).toEqual({
      status: 500,
      body: { error: { code: 'JOURNAL_CORRUPT', message: 'journal unreadable', details: { line: 3 } } },
    });
  });

  it('answers an unknown error as 500 INTERNAL in the contract shape, without its message', async () => {
    const foreign = Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
    const answer = await get(failingUpdater(foreign), '/status');
    expect(answer).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
    expect(validate(ErrorBody, answer.body.error).ok).toBe(true);
  });

  it('answers an unknown route as 404 NOT_FOUND in the contract shape', async () => {
    const answer = await get(failingUpdater(new Error('unused')), '/nowhere');
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nowhere' } });
  });
});
