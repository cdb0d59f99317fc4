import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-file';
import { DEFAULT_MODULE_CONFIG, applyConfigPatch, type ModuleConfig } from './module-config';
import { CodedError } from '@growoff/protocol';

export const CONFIG_FILE = 'module-config.json';

export class ConfigStoreError extends CodedError<'CORE_CONFIG_FILE_INVALID'> {
  override readonly name = 'ConfigStoreError';

  constructor(message: string) {
    super('CORE_CONFIG_FILE_INVALID', message);
  }
}

/** The module config on disk: written to a temp file, fsynced, then renamed over the old one. */
export class ConfigStore {
  private readonly file: string;

  /** `defaults` is the config of a module that saved none yet (its timezone comes from the host). */
  constructor(
    private readonly dataDir: string,
    private readonly defaults: ModuleConfig = DEFAULT_MODULE_CONFIG,
  ) {
    this.file = join(dataDir, CONFIG_FILE);
  }

  /**
   * The saved config, or the defaults when none was saved yet. A corrupt file is refused, not
   * replaced. A file saved before `timezone` existed gets the default one.
   */
  async load(): Promise<ModuleConfig> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(this.defaults);
      throw e;
    }
    try {
      // Over the defaults: a file saved before a setting existed (timezone, the pump budget…)
      // still loads, with its default.
      return applyConfigPatch(this.defaults, JSON.parse(text));
    } catch (e) {
      throw new ConfigStoreError(`${this.file} is not a valid module config: ${(e as Error).message}`);
    }
  }

  async save(config: ModuleConfig): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(config, null, 2)}\n`);
  }
}
