// Regenerates libs/protocol/schemas/*.json from the TypeBox schemas the package exports.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { buildJsonSchemas, SCHEMAS_DIR } from '../src/schema-export';

const files = await buildJsonSchemas();
await mkdir(SCHEMAS_DIR, { recursive: true });
for (const old of await readdir(SCHEMAS_DIR)) {
  if (old.endsWith('.json') && !files.has(old)) await rm(new URL(old, SCHEMAS_DIR));
}
for (const [file, content] of files) await writeFile(new URL(file, SCHEMAS_DIR), content);
console.log(`wrote ${files.size} JSON Schema files to ${SCHEMAS_DIR.pathname}`);
