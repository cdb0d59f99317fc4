import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { topics } from '@growoff/protocol';
import { spawnApp, startSecureMosquitto, TopicWatch, type SecureMosquitto } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = resolve(import.meta.dirname, '..');

describe('the release CLI (`fleet status`) on a broker that wants a password and a client certificate', () => {
  let broker: SecureMosquitto;
  let module: TopicWatch;
  const prefix = `fleet-tls-${randomBytes(4).toString('hex')}`;
  const moduleId = `${prefix}-0001`;

  beforeAll(async () => {
    broker = await startSecureMosquitto({
      users: [
        { username: 'release', password: 'right-password' },
        { username: moduleId, password: 'module-password' },
      ],
    });
    module = await TopicWatch.connect(broker.url, broker.clientOptions(moduleId, 'module-password'));
    await module.client.publishAsync(
      topics.status(moduleId, 'core'),
      JSON.stringify({ state: 'online', version: '1.2.3', ts: Date.now() }),
      { retain: true, qos: 1 },
    );
  });

  afterAll(async () => {
    await module?.close();
    await broker?.stop();
  });

  /** The CLI as `npm run fleet -- status --once …` runs it: its own process. */
  async function status(password: string): Promise<{ code: number | null; output: string }> {
    const cli = spawnApp(
      ['--import', 'tsx', 'src/main.ts', 'status', '--once', '--json', '--prefix', prefix],
      broker.env('release', password),
      { cwd: packageDir },
    );
    const { code } = await cli.exited;
    return { code, output: cli.output() };
  }

  it('connects with the CA, client certificate and credentials from the environment and reads the fleet', async () => {
    const { code, output } = await status('right-password');
    expect(code, output).toBe(0);
    const { modules } = JSON.parse(output) as { modules: { moduleId: string; core: unknown }[] };
    expect(modules).toEqual([
      expect.objectContaining({
        moduleId,
        core: expect.objectContaining({ state: 'online', version: '1.2.3' }),
      }),
    ]);
  });

  it('is refused with a wrong password: a coded error naming the broker, no stack, no password', async () => {
    const { code, output } = await status('wrong-password');
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FLEET_MQTT_UNREACHABLE: cannot connect to the MQTT broker at mqtts:\/\/127\.0\.0\.1:\d+\/?: .*Not authorized/,
    );
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).not.toContain('wrong-password');
  });
});
