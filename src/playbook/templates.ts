/**
 * EJS templates, rendered on the controller. Compiled during validation so a syntax error
 * surfaces before any host is contacted.
 *
 * Templates write configuration files, not HTML: `<%= x %>` inserts the value verbatim (no
 * `&amp;` or `&#39;`), exactly like `<%- x %>`; null and undefined insert nothing.
 */
import ejs from 'ejs';
import { parse } from 'acorn';
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../core/errors.js';

const cache = new Map<string, ejs.AsyncTemplateFunction>();

/** EJS's escape function for `<%=`: none (the value as text). */
const verbatim = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function compile(file: string): ejs.AsyncTemplateFunction {
  let fn = cache.get(file);
  if (!fn) {
    const text = readFileSync(file, 'utf8');
    fn = ejs.compile(text, { filename: file, async: true, strict: false, _with: true, rmWhitespace: false, escape: verbatim });
    cache.set(file, fn);
  }
  return fn;
}

/** Compiles a template; returns a diagnostic instead of throwing. */
export function checkTemplate(file: string): Diagnostic | undefined {
  try {
    compile(file);
    return undefined;
  } catch (e) {
    const where = locateSyntaxError(file);
    const first = String((e as Error).message ?? e).split('\n')[0]!.replace(/ in \S+ while compiling ejs$/, '');
    return {
      severity: 'error',
      message: `template syntax error: ${where?.reason ?? first}`,
      pos: { file, line: where?.line ?? 1, col: 1 },
      hint: where?.atEnd ? 'a <% %> tag or a { } block opened in the template is not closed' : undefined,
    };
  }
}

/**
 * EJS reports syntax errors without a line. Its generated function source records the template
 * line before each piece (`__line = N`): parse that source with acorn and map the error back.
 */
function locateSyntaxError(file: string): { line: number; reason: string; atEnd: boolean } | undefined {
  try {
    const EjsTemplate = (ejs as unknown as { Template: new (text: string, opts: object) => { generateSource(): void; source: string } }).Template;
    const t = new EjsTemplate(readFileSync(file, 'utf8'), { filename: file, compileDebug: true, async: true, _with: false, localsName: 'locals' });
    t.generateSource();
    const code = `(async function (locals) {\n${t.source}\n})`;
    try {
      parse(code, { ecmaVersion: 'latest' });
      return undefined;
    } catch (err) {
      const pos = (err as { pos?: number }).pos ?? code.length;
      const before = code.slice(0, pos);
      const lines = [...before.matchAll(/__line = (\d+)/g)];
      const line = lines.length ? Number(lines[lines.length - 1]![1]) : 1;
      const atEnd = code.slice(pos).trim().replace(/[\s})]/g, '') === '';
      return { line, reason: String((err as Error).message).replace(/\s*\(\d+:\d+\)$/, ''), atEnd };
    }
  } catch {
    return undefined;
  }
}

/** Renders a template with variables in scope (each variable is a local name, plus `vars`). */
export async function renderTemplate(file: string, vars: Record<string, unknown>): Promise<string> {
  const fn = compile(file);
  return fn({ ...vars, vars });
}
