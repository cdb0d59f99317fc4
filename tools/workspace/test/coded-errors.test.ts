import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSource, root, typeScriptFiles } from './source-tree';

/** The one base; every other error class extends it (or `codedError()` replaces the class). */
const BASE = 'libs/protocol/src/coded-error.ts';
/** Deleted by the shared configuration change (libs/config); listed only while it still exists. */
const BEING_DELETED = ['apps/core/src/config/env-config.ts'];

describe('coded errors', () => {
  it('has no class in apps/, libs/ or tools/ extending Error but CodedError', () => {
    const files = typeScriptFiles('apps', 'libs', 'tools');
    expect(files).toContain(BASE);
    const extendingError = files.filter((f) => /\bextends\s+Error\b/.test(readSource(f)));
    const allowed = [BASE, ...BEING_DELETED.filter((f) => existsSync(join(root, f)))];
    expect(extendingError.sort()).toEqual(allowed.sort());
  });
});
