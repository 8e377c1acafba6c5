/**
 * `tsplay doc MODULE` and the README's module table, generated from the modules' zod schemas
 * (the docs/modules/*.md pages are module-pages.ts's).
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import type { AnyModule } from '../core/module.js';

export interface ParamDoc {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** Describes the top-level parameters of a module. */
export function paramDocs(m: AnyModule): ParamDoc[] {
  return fieldDocs(m.params, 'input');
}

/** Describes the top-level fields of a zod object schema (params as written, or a module's output). */
export function fieldDocs(s: z.ZodType, io: 'input' | 'output'): ParamDoc[] {
  const schema = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const props = schema.properties ?? {};
  return Object.entries(props).map(([name, p]) => ({
    name,
    type: typeName(p),
    required: (schema.required ?? []).includes(name) && !('default' in p),
    default: p.default,
    description: typeof p.description === 'string' ? p.description : undefined,
  }));
}

function typeName(p: Record<string, unknown>): string {
  if (Array.isArray(p.enum)) return p.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (p.const !== undefined) return JSON.stringify(p.const);
  if (Array.isArray(p.anyOf)) return [...new Set((p.anyOf as Array<Record<string, unknown>>).map(typeName))].join(' | ');
  if (Array.isArray(p.oneOf)) return [...new Set((p.oneOf as Array<Record<string, unknown>>).map(typeName))].join(' | ');
  if (p.type === 'array') return `list of ${p.items ? typeName(p.items as Record<string, unknown>) : 'any'}`;
  if (typeof p.type === 'string') return p.type === 'integer' ? 'int' : p.type;
  return 'any';
}

export function moduleDoc(m: AnyModule): string {
  const out: string[] = [];
  out.push(`${m.name} — ${m.summary}`, '');
  if (m.description) out.push(m.description.trim(), '');
  out.push('PARAMETERS');
  for (const p of paramDocs(m)) {
    const flags = [p.required ? 'required' : undefined, p.default !== undefined ? `default: ${JSON.stringify(p.default)}` : undefined].filter(Boolean).join(', ');
    out.push(`  ${p.name} (${p.type}${flags ? `; ${flags}` : ''})`);
    if (p.description) out.push(`      ${p.description}`);
  }
  if (m.output) {
    out.push('', 'REGISTERED RESULT (what `register:` receives; also changed, failed, msg, and skipped when skipped)');
    for (const p of fieldDocs(m.output, 'output')) {
      out.push(`  ${p.name} (${p.type})`);
      if (p.description) out.push(`      ${p.description}`);
    }
  }
  out.push('', 'EXAMPLES');
  for (const ex of m.examples) {
    out.push(`  # ${ex.title}`);
    out.push(
      stringify([ex.task])
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  return out.join('\n') + '\n';
}

/**
 * Markdown table of modules for the README; with `pages` (a folder relative to the README,
 * e.g. `docs/modules`), each name links to the module's generated page (module-pages.ts).
 */
export function moduleTable(modules: AnyModule[], pages?: string): string {
  const rows = ['| module | what it does | parameters |', '|---|---|---|'];
  for (const m of [...modules].sort((a, b) => a.name.localeCompare(b.name))) {
    const name = pages ? `[\`${m.name}\`](${pages}/${m.name}.md)` : `\`${m.name}\``;
    rows.push(`| ${name} | ${m.summary.replace(/\|/g, '\\|')} | ${paramDocs(m).map((p) => `\`${p.name}\``).join(', ')} |`);
  }
  return rows.join('\n') + '\n';
}

const START = '<!-- module-table -->';
const END = '<!-- /module-table -->';

/** Where the README's module table links to: the pages `npm run docs` writes (module-pages.ts). */
export const README_PAGES = 'docs/modules';

/** Replaces the module table between the README's markers (keeps the README in step with the code). */
export function withModuleTable(readme: string, modules: AnyModule[], pages: string | undefined = README_PAGES): string {
  const table = moduleTable(modules, pages);
  const a = readme.indexOf(START);
  if (a < 0) throw new Error(`README has no ${START} marker`);
  const b = readme.indexOf(END, a);
  const after = b < 0 ? readme.slice(a + START.length) : readme.slice(b + END.length);
  return `${readme.slice(0, a)}${START}\n${table}${END}${after}`;
}
