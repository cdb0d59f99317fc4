import { describe, expect, it } from 'vitest';
import { readSource, typeScriptFiles } from './source-tree';

/** The one base; every other error class extends it (or `codedError()` replaces the class). */
const BASE = 'libs/protocol/src/coded-error.ts';

describe('coded errors', () => {
  it('has no class in apps/, libs/ or tools/ extending Error but CodedError', () => {
    const files = typeScriptFiles('apps', 'libs', 'tools');
    expect(files).toContain(BASE);
    const extendingError = files.filter((f) => /\bextends\s+Error\b/.test(readSource(f)));
    expect(extendingError).toEqual([BASE]);
  });
});
