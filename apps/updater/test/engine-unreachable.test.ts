import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpApi } from '../src/reporting/http-api';
import { UpdaterHarness } from './support/harness';

describe("the updater's /health", { timeout: 60_000 }, () => {
  let h: UpdaterHarness;

  beforeAll(async () => {
    h = await UpdaterHarness.create();
  }, 60_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  async function health(env: Record<string, string> = {}) {
    const updater = await h.startUpdater(env);
    const api = await startHttpApi(updater, h.httpPort);
    try {
      const res = await fetch(`http://127.0.0.1:${h.httpPort}/health`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    } finally {
      await api.close();
      await h.stopUpdater();
    }
  }

  it('says degraded, with the reason, while the Docker engine cannot be reached', async () => {
    const socket = join(h.dir, 'no-such-docker.sock');
    const answer = await health({ GROWOFF_DOCKER_HOST: `unix://${socket}` });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'degraded', reasons: ['docker'], version: '0.0.0-test' });
    expect((answer.body.errors as { docker: string }).docker).toContain('ENOENT');
  });

  it('says ok with the engine there', async () => {
    const answer = await health();
    expect(answer).toMatchObject({ status: 200, body: { status: 'ok', phase: 'idle' } });
    expect(answer.body.reasons).toBeUndefined();
  });
});
