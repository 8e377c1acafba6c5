/**
 * Ansible's reading of scalars in module parameters: a number or boolean given where the
 * schema wants a string is that value's string form (`content: "{{ port }}"` with port 8080 is
 * "8080", `name: 42` is "42"). Everything else is left for the schema to accept or reject.
 *
 * File modes are the exception: an unquoted `mode: 0644` is the number 644 or 420 depending on
 * the YAML version, so octalMode keeps refusing numbers with its own fix-it.
 */
import type { z } from 'zod';
import { octalMode } from './module.js';

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; shape?: Record<string, z.ZodType>; valueType?: z.ZodType };

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** The schema under optional/default/nullable/... and the input side of pipes. */
function core(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    if (s === octalMode) return s;
    const def = s._zod.def as unknown as Def;
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in && def.out) s = (def.in._zod.def as unknown as Def).type === 'transform' ? def.out : def.in;
    else return s;
  }
  return s;
}

const wantsString = (s: z.ZodType) => s !== octalMode && (s._zod.def as unknown as Def).type === 'string';

/** A copy of `value` in which numbers and booleans at string positions of `schema` are strings. */
export function coerceScalars(schema: z.ZodType, value: unknown): unknown {
  const s = core(schema);
  const def = s._zod.def as unknown as Def;
  if (typeof value === 'number' || typeof value === 'boolean') {
    if (wantsString(s)) return String(value);
    if (def.type === 'union' && def.options?.some((o) => wantsString(core(o))) && !s.safeParse(value).success) return String(value);
    return value;
  }
  if (Array.isArray(value)) {
    return def.type === 'array' && def.element ? value.map((v) => coerceScalars(def.element!, v)) : value;
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const fieldSchema = (k: string) => (def.type === 'object' ? (s as z.ZodObject).shape[k] : def.type === 'record' ? def.valueType : undefined);
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const f = fieldSchema(k);
      const c = f ? coerceScalars(f, v) : v;
      if (c !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = c;
    }
    return out ?? value;
  }
  return value;
}
