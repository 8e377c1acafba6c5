/**
 * Templates, rendered on the controller: EJS here, Jinja (`.j2`, `.jinja`, `.jinja2`) in jinja.ts,
 * chosen by the file's extension. EJS templates are rendered on the controller. Compiled during validation so a syntax error
 * surfaces before any host is contacted.
 *
 * Templates write configuration files, not HTML: `<%= x %>` inserts the value verbatim (no
 * `&amp;` or `&#39;`), exactly like `<%- x %>`; null and undefined insert nothing.
 *
 * A template is code the playbook's author wrote, so it runs where expressions run: EJS turns
 * it into function source, which is compiled inside the expression sandbox (src/vars/sandbox.ts:
 * its own frozen intrinsics, no `process`, no code from strings), and rendered with the
 * variables read lazily and copied in, bounded in time like an expression. Rendering is
 * synchronous: `include('part.ejs', { extra })` returns the text of another template, found
 * relative to the including one (inside the rendered template's folder) and rendered the same way.
 */
import { createRequire } from 'node:module';
import { parse } from 'acorn';
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { UserError, type Diagnostic } from '../core/errors.js';
import { runTemplate, toVarSource, unwrapSecrets, type ScopeLike, type VarSource } from '../vars/expr.js';
import { compileTemplateInContext, type SandboxTemplate, type TemplateIncluder } from '../vars/sandbox.js';
import { analyzeTemplateCode } from '../vars/analyze.js';
import { checkJinjaTemplate, isJinjaFile, JinjaSyntaxError, renderJinja } from './jinja.js';
import { readLocalFile } from './files.js';

type EjsTemplate = { generateSource(): void; source: string };
// ejs is loaded on the first EJS template compiled, not at start-up (a playbook may have none).
let EjsTemplate: (new (text: string, opts: object) => EjsTemplate) | undefined;
const ejsTemplate = () => (EjsTemplate ??= (createRequire(import.meta.url)('ejs') as { Template: new (text: string, opts: object) => EjsTemplate }).Template);

/** The code EJS generates for a template's text and tags (`__line = N` before each piece). */
function generated(text: string, file: string): string {
  const t = new (ejsTemplate())(text, { filename: file, compileDebug: true, _with: false, localsName: 'locals', strict: false, rmWhitespace: false });
  t.generateSource();
  return t.source;
}

/** The function body ejs.compile would make of a template, for the sandbox (its rethrow records where an error happened). */
function functionBody(text: string, file: string): string {
  return [
    `var __line = 1, __lines, __filename = ${JSON.stringify(file)};`,
    'try {',
    '  var __output = "";',
    '  function __append(s) { if (s !== undefined && s !== null) __output += s }',
    '  with (locals) {',
    generated(text, file),
    '  }',
    '  return __output;',
    '} catch (e) {',
    '  rethrow(e, __lines, __filename, __line, escapeFn);',
    '}',
  ].join('\n');
}

type Compiled = SandboxTemplate & { quick: boolean };
const cache = new Map<string, { mtimeMs: number; size: number; t: Compiled }>();

/** Names in EJS's generated code that are functions of its own (quick to call). */
const EJS_FUNCTIONS = ['__append', 'escapeFn'];

/** The template compiled in the sandbox; recompiled when the file changed. Throws SyntaxError. */
function compile(file: string): Compiled {
  const st = statSync(file);
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.t;
  const text = readLocalFile(file).bytes.toString('utf8');
  const fn = compileTemplateInContext(functionBody(text, file), file);
  const { names, quick } = analyzeTemplateCode(generated(text, file), EJS_FUNCTIONS);
  const t = { fn, file, names, quick };
  cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, t });
  return t;
}

/** Compiles a template; returns a diagnostic instead of throwing. */
export function checkTemplate(file: string): Diagnostic | undefined {
  if (isJinjaFile(file)) return checkJinjaTemplate(file);
  try {
    compile(file);
    return undefined;
  } catch (e) {
    const where = locateSyntaxError(file);
    const first = String((e as Error).message ?? e).split('\n')[0]!;
    const usesAwait = /\bawait\b/.test(readText(file));
    return {
      severity: 'error',
      message: `template syntax error: ${where?.reason ?? first}`,
      pos: { file, line: where?.line ?? 1, col: 1 },
      hint: usesAwait
        ? "templates are rendered synchronously: write include('part.ejs') without await"
        : where?.atEnd
          ? 'a <% %> tag or a { } block opened in the template is not closed'
          : undefined,
    };
  }
}

function readText(file: string): string {
  try {
    return readLocalFile(file).bytes.toString('utf8');
  } catch {
    return '';
  }
}

/**
 * EJS reports syntax errors without a line. Its generated function source records the template
 * line before each piece (`__line = N`): parse that source with acorn and map the error back.
 */
function locateSyntaxError(file: string): { line: number; reason: string; atEnd: boolean } | undefined {
  try {
    const code = `(function (locals) {\n${generated(readText(file), file)}\n})`;
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

/**
 * include(path) from a template: the path is relative to the including template's folder, and
 * must stay inside `root`, the folder of the template being rendered (a template cannot read
 * other files of the controller).
 */
function includer(root: string): TemplateIncluder {
  const realRoot = realpathSync(root);
  return (from, path) => {
    const file = resolve(dirname(from), path);
    const inside = (dir: string, f: string) => {
      const rel = relative(dir, f);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    };
    if (!inside(root, file) || !inside(realRoot, realpathSync(file))) throw new Error(`include('${path}'): ${file} is outside ${root}`);
    return compile(file);
  };
}

/** The nearest folder named templates/ above a template (a role's or the project's), where Jinja includes may also look. */
export function templatesRoot(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); dir !== dirname(dir); dir = dirname(dir)) if (basename(dir) === 'templates') return dir;
  return undefined;
}

/**
 * `scope` with `extra` variables on top (they win). A class instance: toVarSource() reads a
 * plain object as a map of variables.
 */
class Overlay implements VarSource {
  private readonly src: VarSource;
  readonly vars: Record<string, unknown>;
  constructor(
    scope: ScopeLike,
    private readonly extra: Record<string, unknown>,
  ) {
    this.src = toVarSource(scope);
    this.vars = new Proxy({} as Record<string, unknown>, {
      get: (_t, k) => (typeof k === 'string' && this.has(k) ? this.get(k) : undefined),
      has: (_t, k) => typeof k === 'string' && this.has(k),
      ownKeys: () => [...this.names()],
      getOwnPropertyDescriptor: (_t, k) => (typeof k === 'string' && this.has(k) ? { value: this.get(k), enumerable: true, configurable: true, writable: false } : undefined),
    });
  }
  private own(n: string): boolean {
    return Object.hasOwn(this.extra, n);
  }
  has(n: string): boolean {
    return this.own(n) || this.src.has(n);
  }
  get(n: string): unknown {
    return this.own(n) ? unwrapSecrets(this.extra[n], (s) => this.src.noteSecret(s)) : this.src.get(n);
  }
  names(): string[] {
    return [...new Set([...this.src.names(), ...Object.keys(this.extra)])];
  }
  noteSecret(s: string): void {
    this.src.noteSecret(s);
  }
  get secretsUsed(): ReadonlySet<string> | undefined {
    return this.src.secretsUsed;
  }
}

function overlay(scope: ScopeLike, extra: Record<string, unknown>): VarSource {
  return new Overlay(scope, extra);
}

/**
 * Renders a template with variables in scope: each variable is a local name, plus `vars`.
 * `scope` is a Scope (read lazily) or a plain object of variables; `extra` variables win.
 */
export async function renderTemplate(file: string, scope: ScopeLike, extra?: Record<string, unknown>): Promise<string> {
  if (isJinjaFile(file)) {
    try {
      return renderJinja(file, extra ? overlay(scope, extra) : scope, templatesRoot(file));
    } catch (e) {
      if (!(e instanceof JinjaSyntaxError)) throw e;
      throw new UserError(checkJinjaTemplate(file) ?? { severity: 'error', message: `template syntax error: ${e.reason}`, pos: { file, line: e.line, col: e.col } });
    }
  }
  let t: Compiled;
  try {
    t = compile(file);
  } catch (e) {
    const d = checkTemplate(file); // changed since validation, or never validated
    throw d ? new UserError(d) : e;
  }
  return runTemplate(t, extra ? overlay(scope, extra) : scope, includer(dirname(resolve(file))));
}
