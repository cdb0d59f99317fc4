import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

export interface ValidationIssue {
  /** JSON pointer into the value, `''` for the root. */
  path: string;
  message: string;
}
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
const MAX_ISSUES = 10;
/** One decoder for every payload (decode without `stream` keeps no state): making one per message costs more than the parse. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Checks a value against a schema (compiled once per schema); never throws. */
export function validate<S extends TSchema>(schema: S, value: unknown): ValidationResult<Static<S>> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(value)) return { ok: true, value: value as Static<S> };
  const errors: ValidationIssue[] = [];
  for (const e of check.Errors(value)) {
    errors.push({ path: e.path, message: e.message });
    if (errors.length >= MAX_ISSUES) break;
  }
  return { ok: false, errors };
}

/** Parses a UTF-8 JSON payload; null when it is not JSON. */
export function parseJsonPayload(payload: Buffer | string): { ok: true; value: unknown } | { ok: false } {
  try {
    const text = typeof payload === 'string' ? payload : UTF8.decode(payload);
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
