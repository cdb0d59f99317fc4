import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  getService,
  jsonWhenUp,
  spawnBuiltApp,
  waitUntil,
  type SpawnedApp,
} from '@growoff/test-services';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueModuleId } from './helpers';

const packageDir = join(import.meta.dirname, '..');
let app: SpawnedApp | undefined;

afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/**
 * A preload for the built core that records what it loads: every ES module (through a loader hook,
 * into `modules`) and, at SIGUSR2, the builtins (`process.moduleLoadList`, into `builtins`).
 */
async function loadRecorder(dir: string): Promise<{ flags: string[]; modules: string; builtins: string }> {
  const modules = join(dir, 'modules.txt');
  const builtins = join(dir, 'builtins.txt');
  await writeFile(
    join(dir, 'hooks.mjs'),
    [
      "import { appendFileSync } from 'node:fs';",
      'let file;',
      'export function initialize(data) { file = data.file; }',
      "export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }",
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'preload.mjs'),
    [
      "import { writeFileSync } from 'node:fs';",
      "import { register } from 'node:module';",
      `register('./hooks.mjs', import.meta.url, { data: { file: ${JSON.stringify(modules)} } });`,
      `process.on('SIGUSR2', () => writeFileSync(${JSON.stringify(builtins)}, process.moduleLoadList.join('\\n')));`,
    ].join('\n'),
  );
  await writeFile(modules, '');
  return { flags: ['--import', join(dir, 'preload.mjs')], modules, builtins };
}

/** The built core with the recorder, started and healthy; `env` adds to its variables. */
async function startRecordedCore(name: string, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), `core-${name}-`));
  const recorder = await loadRecorder(dir);
  const port = await freePort();
  app = spawnBuiltApp(
    packageDir,
    {
      GROWOFF_MODULE_ID: uniqueModuleId(name),
      GROWOFF_MQTT_URL: getService('mosquitto').url,
      GROWOFF_HAL: 'sim',
      GROWOFF_HTTP_PORT: String(port),
      GROWOFF_DATA_DIR: join(dir, 'data'),
      ...env,
    },
    { node: [process.execPath, ...recorder.flags] },
  );
  await jsonWhenUp(`http://127.0.0.1:${port}/health`);
  return { app, recorder, port };
}

/** The builtins the core has loaded by now (the recorder writes them at SIGUSR2). */
async function builtinsNow(recorder: { builtins: string }): Promise<string[]> {
  app!.child.kill('SIGUSR2');
  await waitUntil('builtins recorded', () => existsSync(recorder.builtins), 10_000);
  return (await readFile(recorder.builtins, 'utf8')).split('\n');
}

describe('the built core (dist/main.js) loads on demand', { timeout: 90_000 }, () => {
  it('starts without https, http2, tls, the debug package or the docs UI, and loads the docs UI at the first request to /docs', async () => {
    const { recorder, port } = await startRecordedCore('loaded');
    const builtins = await builtinsNow(recorder);
    // The recorder works: the core's own builtins are in the list.
    expect(builtins).toEqual(expect.arrayContaining(['NativeModule http', 'NativeModule net']));
    expect(builtins.filter((m) => /^NativeModule (https|http2|tls)$/.test(m))).toEqual([]);
    // Nor the npm package debug (mqtt.js's logger, which loads tty): DEBUG is not set.
    expect(builtins).not.toContain('NativeModule tty');
    const docsUi = (text: string) => text.split('\n').filter((url) => /\/swagger-ui-[^/]*\.js$/.test(url));
    const atStart = await readFile(recorder.modules, 'utf8');
    expect(atStart).toContain('/dist/main.js');
    expect(docsUi(atStart)).toEqual([]);

    const page = await fetch(`http://127.0.0.1:${port}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('swagger-initializer.js');
    expect(docsUi(await readFile(recorder.modules, 'utf8'))).toHaveLength(1);
  });

  it("with DEBUG set, mqtt.js's debug output is there as from the npm package (a namespace on, the others off)", async () => {
    const { app: core, recorder } = await startRecordedCore('debug', { DEBUG: 'mqttjs:client' });
    // The client's connect is logged under its namespace; the packet parser's namespace stays off.
    await core.waitForLine('mqttjs:client MqttClient :: version:', 10_000);
    expect(core.output()).not.toContain('mqtt-packet:');
    expect(await builtinsNow(recorder)).toContain('NativeModule tty');
  });
});
