import { mkdir, readFile, rename, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError } from '@growoff/protocol';
import { DEFAULT_MODULE_CONFIG, parseModuleConfig, type ModuleConfig } from './module-config';

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
    await mkdir(this.dataDir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`);
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
  }
}
