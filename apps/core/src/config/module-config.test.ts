import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@growoff/protocol';
import { applyConfigPatch, DEFAULT_MODULE_CONFIG } from './module-config';
import { CONFIG_FILE, ConfigStore, ConfigStoreError } from './config-store';

describe('module config', () => {
  it('applies a partial change and keeps the other fields', () => {
    const next = applyConfigPatch(DEFAULT_MODULE_CONFIG, { light: { level: 55 }, climate: { fanLevel: 40 } });
    expect(next.light).toEqual({ ...DEFAULT_MODULE_CONFIG.light, level: 55 });
    expect(next.climate.fanLevel).toBe(40);
    expect(next.irrigation).toEqual(DEFAULT_MODULE_CONFIG.irrigation);
  });

  it('refuses unknown fields, bad values and broken hysteresis bands, naming the field', () => {
    const attempts = [
      { light: { level: 120 } },
      { light: { on: '25:00' } },
      { nope: 1 },
      { climate: { fanOffBelowC: 30 } },
      { irrigation: { runSeconds: 900 } },
    ];
    for (const patch of attempts) {
      try {
        applyConfigPatch(DEFAULT_MODULE_CONFIG, patch);
        expect.unreachable(JSON.stringify(patch));
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('INVALID_MESSAGE');
        expect(JSON.stringify((e as ProtocolError).details)).toMatch(/\//);
      }
    }
  });

  it('persists atomically and loads back what was saved; defaults when nothing was saved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'core-config-'));
    const store = new ConfigStore(dir);
    expect(await store.load()).toEqual(DEFAULT_MODULE_CONFIG);
    const changed = applyConfigPatch(DEFAULT_MODULE_CONFIG, { thresholds: { co2HighPpm: 1200 } });
    await store.save(changed);
    expect(await new ConfigStore(dir).load()).toEqual(changed);
    expect(JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8'))).toEqual(changed);
  });

  it('refuses a corrupt config file instead of silently replacing it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'core-config-'));
    await writeFile(join(dir, CONFIG_FILE), '{"light":');
    await expect(new ConfigStore(dir).load()).rejects.toBeInstanceOf(ConfigStoreError);
  });

  it('gives a config saved before timezone existed the default zone (from the host) and keeps the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'core-config-'));
    const { timezone: _, ...older } = applyConfigPatch(DEFAULT_MODULE_CONFIG, { light: { level: 33 } });
    await writeFile(join(dir, CONFIG_FILE), JSON.stringify(older));
    const hostDefaults = { ...DEFAULT_MODULE_CONFIG, timezone: 'Europe/Berlin' };
    const loaded = await new ConfigStore(dir, hostDefaults).load();
    expect(loaded).toMatchObject({ timezone: 'Europe/Berlin', light: { level: 33 } });
    const fresh = await mkdtemp(join(tmpdir(), 'core-config-'));
    expect((await new ConfigStore(fresh, hostDefaults).load()).timezone).toBe('Europe/Berlin');
  });
});
