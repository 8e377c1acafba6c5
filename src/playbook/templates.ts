/**
 * EJS templates, rendered on the controller. Compiled during validation so a syntax error
 * surfaces before any host is contacted.
 */
import ejs from 'ejs';
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../errors.js';

const cache = new Map<string, ejs.AsyncTemplateFunction>();

function compile(file: string): ejs.AsyncTemplateFunction {
  let fn = cache.get(file);
  if (!fn) {
    const text = readFileSync(file, 'utf8');
    fn = ejs.compile(text, { filename: file, async: true, strict: false, _with: true, rmWhitespace: false });
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
    const msg = String((e as Error).message ?? e);
    const lineMatch = /:(\d+)\n/.exec(msg) ?? /line (\d+)/i.exec(msg);
    const reason = msg
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^\d+\|/.test(l) && !/^>>/.test(l) && !l.startsWith(file))
      .pop() ?? msg;
    return {
      severity: 'error',
      message: `template syntax error: ${reason.replace(/ in \S+ while compiling ejs.*$/, '').replace(/\s+while compiling ejs.*$/, '')}`,
      pos: { file, line: lineMatch ? Number(lineMatch[1]) : 1, col: 1 },
    };
  }
}

/** Renders a template with variables in scope (each variable is a local name, plus `vars`). */
export async function renderTemplate(file: string, vars: Record<string, unknown>): Promise<string> {
  const fn = compile(file);
  return fn({ ...vars, vars });
}
