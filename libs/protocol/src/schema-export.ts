import { Kind, type TSchema } from '@sinclair/typebox';
import { readdir, readFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';
import * as protocol from './index';

/** Where the generated JSON Schema files live, one per exported TypeBox schema. */
export const SCHEMAS_DIR = new URL('../schemas/', import.meta.url);
export const REGENERATE_COMMAND = 'pnpm --filter @growoff/protocol run schemas';

function isSchema(value: unknown): value is TSchema {
  return typeof value === 'object' && value !== null && Kind in value;
}

/** Nested `$id`s would make each file depend on the others; every file stands alone. */
function stripNestedIds(node: unknown, root: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => stripNestedIds(n, false));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' && !root) continue;
    out[key] = stripNestedIds(value, false);
  }
  return out;
}

/**
 * File name → file content for every schema `@growoff/protocol` exports, formatted as the repo's
 * prettier does. A schema is named by its `$id` when it has one (`ErrorCodeSchema` → `ErrorCode`).
 */
export async function buildJsonSchemas(): Promise<Map<string, string>> {
  const prettierOptions = (await resolveConfig(new URL('x.json', SCHEMAS_DIR).pathname)) ?? {};
  const files = new Map<string, string>();
  const names = Object.keys(protocol).sort();
  for (const key of names) {
    const value = (protocol as Record<string, unknown>)[key];
    if (!isSchema(value)) continue;
    const name = typeof value.$id === 'string' ? value.$id : key;
    const plain = stripNestedIds(JSON.parse(JSON.stringify(value)), true) as Record<string, unknown>;
    const doc = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      ...plain,
      $id: `https://schemas.growoff.io/protocol/v1/${name}.json`,
      title: name,
    };
    files.set(
      `${name}.json`,
      await format(JSON.stringify(doc, null, 2), { ...prettierOptions, parser: 'json' }),
    );
  }
  return files;
}

/** Files whose content differs from what the schemas generate, and files nothing generates. */
export async function schemaDrift(): Promise<{ changed: string[]; missing: string[]; extra: string[] }> {
  const expected = await buildJsonSchemas();
  const present = new Set(
    (await readdir(SCHEMAS_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.json')),
  );
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [file, content] of expected) {
    if (!present.has(file)) missing.push(file);
    else if ((await readFile(new URL(file, SCHEMAS_DIR), 'utf8')) !== content) changed.push(file);
  }
  const extra = [...present].filter((f) => !expected.has(f));
  return { changed, missing, extra };
}
