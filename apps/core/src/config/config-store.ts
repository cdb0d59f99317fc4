import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-file';
import { DEFAULT_MODULE_CONFIG, parseModuleConfig, type ModuleConfig } from './module-config';

export const CONFIG_FILE = 'module-config.json';

export class ConfigStoreError extends Error {
  override readonly name = 'ConfigStoreError';
  readonly code = 'CORE_CONFIG_FILE_INVALID';
}

/** The module config on disk: written to a temp file, fsynced, then renamed over the old one. */
export class ConfigStore {
  private readonly file: string;

  constructor(private readonly dataDir: string) {
    this.file = join(dataDir, CONFIG_FILE);
  }

  /** The saved config, or the defaults when none was saved yet. A corrupt file is refused, not replaced. */
  async load(): Promise<ModuleConfig> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(DEFAULT_MODULE_CONFIG);
      throw e;
    }
    try {
      return parseModuleConfig(JSON.parse(text));
    } catch (e) {
      throw new ConfigStoreError(`${this.file} is not a valid module config: ${(e as Error).message}`);
    }
  }

  async save(config: ModuleConfig): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(config, null, 2)}\n`);
  }
}
