/**
 * docs/modules/<module>.md: one Markdown page per module, generated from its zod schemas and
 * examples like `tsplay doc MODULE` (`npm run docs` writes them; a test fails when one is
 * missing, stale, or left over from a module that no longer exists). The generated text sits
 * between two markers: a page that is only that is the module's reference; a hand-written
 * guide (install-ufw.md ...) keeps its text and gets the reference appended as its last section.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AnyModule } from '../core/module.js';
import { fieldDocs, type ParamDoc } from './module-doc.js';

const START = '<!-- module-reference: generated from the module schema by `npm run docs`; do not edit until the end marker -->';
const END = '<!-- /module-reference -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function fieldTable(fields: ParamDoc[], withRequired: boolean): string[] {
  const head = withRequired ? ['| name | type | required | default | description |', '|---|---|---|---|---|'] : ['| name | type | description |', '|---|---|---|'];
  return [
    ...head,
    ...fields.map((f) => {
      const base = [`\`${f.name}\``, cell(f.type)];
      const more = withRequired ? [f.required ? 'yes' : '', f.default !== undefined ? `\`${cell(JSON.stringify(f.default))}\`` : ''] : [];
      return `| ${[...base, ...more, cell(f.description ?? '')].join(' | ')} |`;
    }),
  ];
}

/**
 * A module's reference in Markdown: a whole page (`# name`), or, below a hand-written guide,
 * its last section (`## Reference`).
 */
export function moduleReference(m: AnyModule, within: 'page' | 'guide' = 'page'): string {
  const h = (n: number) => '#'.repeat(n + (within === 'page' ? 0 : 1));
  const out = within === 'page' ? [`# \`${m.name}\``, '', m.summary, ''] : ['## Reference', '', `${m.summary} (Generated from the schema, like \`tsplay doc ${m.name}\`.)`, ''];
  if (m.description && within === 'page') out.push(m.description.trim(), '');
  const params = fieldDocs(m.params, 'input');
  out.push(`${h(2)} Parameters`, '', ...(params.length ? fieldTable(params, true) : ['(none)']), '');
  if (m.output) {
    out.push(`${h(2)} Registered result`, '', 'What `register:` receives, besides `changed`, `failed` and `msg`.', '');
    out.push(...fieldTable(fieldDocs(m.output, 'output'), false), '');
  }
  out.push(`${h(2)} Examples`, '');
  for (const ex of m.examples) out.push(`${h(3)} ${ex.title}`, '', '```yaml', stringify([ex.task]).trimEnd(), '```', '');
  return out.join('\n').trimEnd() + '\n';
}

/** The page file as it should be, given what is there now (undefined: no file yet). */
export function modulePage(m: AnyModule, existing?: string): string {
  const a = existing?.indexOf(START) ?? -1;
  const b = a < 0 ? -1 : existing!.indexOf(END, a);
  const guide = existing === undefined ? '' : a < 0 ? existing : existing.slice(0, a) + (b < 0 ? '' : existing.slice(b + END.length));
  if (!guide.trim()) return `${START}\n${moduleReference(m, 'page')}${END}\n`;
  const region = `${START}\n${moduleReference(m, 'guide')}${END}`;
  if (a < 0) return `${existing!.trimEnd()}\n\n${region}\n`;
  return existing!.slice(0, a) + region + (b < 0 ? '\n' : existing!.slice(b + END.length));
}

/** What differs between a folder of pages and the modules: missing, stale, or left-over pages. */
export interface PagesCheck {
  missing: string[];
  stale: string[];
  extra: string[];
}

export function checkModulePages(dir: string, modules: AnyModule[]): PagesCheck {
  const byFile = new Map(modules.map((m) => [`${m.name}.md`, m]));
  const have = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.md')) : [];
  const stale = have.filter((f) => {
    const m = byFile.get(f);
    if (!m) return false;
    const text = readFileSync(join(dir, f), 'utf8');
    return modulePage(m, text) !== text;
  });
  return {
    missing: [...byFile.keys()].filter((f) => !have.includes(f)).sort(),
    stale: stale.sort(),
    extra: have.filter((f) => !byFile.has(f)).sort(),
  };
}

/**
 * Writes every module's page (keeping a hand-written guide's text) and removes the pages of
 * modules that no longer exist when they are only generated text (a guide is left for a person).
 */
export function writeModulePages(dir: string, modules: AnyModule[]): { written: number; removed: string[] } {
  mkdirSync(dir, { recursive: true });
  for (const m of modules) {
    const file = join(dir, `${m.name}.md`);
    writeFileSync(file, modulePage(m, existsSync(file) ? readFileSync(file, 'utf8') : undefined));
  }
  const removed = checkModulePages(dir, modules).extra.filter((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END, a);
    return a >= 0 && b >= 0 && !(text.slice(0, a) + text.slice(b + END.length)).trim();
  });
  for (const f of removed) rmSync(join(dir, f));
  return { written: modules.length, removed };
}
