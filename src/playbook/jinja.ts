/**
 * Jinja templates (`.j2`, `.jinja`, `.jinja2`), rendered on the controller like EJS ones
 * (templates.ts) with nunjucks, set up as Ansible's template module renders:
 * trim_blocks on, lstrip_blocks off, the trailing newline kept, undefined values an error,
 * Ansible's filters and tests (src/vars/jinja-context.ts), and a `#jinja2: trim_blocks: False`
 * first line honoured.
 *
 * Security: nunjucks turns a template into JavaScript source. Here that is only text
 * generation: nunjucks' parser and compiler run on the controller, and the source they produce
 * is made into functions inside the expression sandbox (src/vars/sandbox.ts: its own frozen
 * intrinsics, no code from strings), where nunjucks' runtime runs them, bounded in time.
 * `{% include %}`, `{% import %}` and `{% extends %}` find templates only in the rendered
 * template's folder and the templates folder it was found in.
 *
 * The compiler is nunjucks' own, with the expressions whose JavaScript meaning differs from
 * Python's sent to the runtime functions of jinja-context.ts: conditions (Python truthiness),
 * comparisons, `and`/`or`, `+`, `*`, `%`, `~`, `//`. Each statement records its line, so an
 * error names the template file and line.
 */
import { realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic } from '../core/errors.js';
import { runJinja, type ScopeLike } from '../vars/expr.js';
import { readLocalFile } from './files.js';
import { compileJinjaInContext, type JinjaIncluder, type SandboxJinja } from '../vars/sandbox.js';

const require = createRequire(import.meta.url);
// nunjucks' parser and compiler (no typings for these), loaded on first use: they cost ~50 ms
// of start-up that a run without Jinja templates does not pay.
/* eslint-disable @typescript-eslint/no-explicit-any */
let nj: { nodes: any; parser: any; transformer: any; Compiler: any } | undefined;
function nunjucks(): NonNullable<typeof nj> {
  if (nj) return nj;
  const parts = {
    nodes: require('nunjucks/src/nodes'),
    parser: require('nunjucks/src/parser'),
    transformer: require('nunjucks/src/transformer'),
    Compiler: require('nunjucks/src/compiler').Compiler,
  };
  // Slices (`x[1:]`) are in nunjucks' Jinja compatibility layer: it patches this compiler and
  // parser (the runtime half of it is jinja-context.ts's own member lookup).
  require('nunjucks/src/jinja-compat').call({
    runtime: require('nunjucks/src/runtime'),
    lib: require('nunjucks/src/lib'),
    compiler: require('nunjucks/src/compiler'),
    parser: parts.parser,
    nodes: parts.nodes,
    lexer: require('nunjucks/src/lexer'),
  });
  nj = parts;
  return nj;
}

/** Extensions rendered as Jinja. */
export const JINJA_EXTENSIONS = ['.j2', '.jinja', '.jinja2'] as const;

export function isJinjaFile(file: string): boolean {
  return JINJA_EXTENSIONS.some((e) => file.endsWith(e));
}

/** Statements that record their line before they run (for error positions). */
const STATEMENTS = new Set(['If', 'For', 'Set', 'Include', 'Import', 'FromImport', 'Extends', 'Macro', 'FilterBlock', 'CallExtension', 'Switch']);
/** Binary operators sent to a runtime function: node type -> function. */
const BINARY: Record<string, string> = { Add: 'jAdd', Mul: 'jMul', Mod: 'jMod', Concat: 'jConcat', FloorDiv: 'jFloorDiv' };

/** A copy of an AST node with some fields replaced. */
function clone(node: any, fields: Record<string, unknown>): any {
  return Object.assign(Object.create(Object.getPrototypeOf(node)), node, fields);
}

function makeCompiler(): any {
  const { Compiler, nodes } = nunjucks();
  const C = function (this: any, ...args: unknown[]) {
    Compiler.apply(this, args);
  } as unknown as { prototype: any };
  const P = (C.prototype = Object.create(Compiler.prototype));
  P.constructor = C;
  const base = Compiler.prototype;
  P.assertType = function (node: any, ...types: unknown[]) {
    if (node && node.typename === 'JTruthy') return;
    return base.assertType.call(this, node, ...types);
  };
  P.compile = function (node: any, frame: unknown) {
    if (node && STATEMENTS.has(node.typename)) this._emitLine(`lineno = ${this.lineOf(node)}; colno = ${node.colno};`);
    return base.compile.call(this, node, frame);
  };
  P.compileJTruthy = function (node: any, frame: unknown) {
    this._emit('runtime.jTruthy(');
    this.compile(node.target, frame);
    this._emit(')');
  };
  const truthy = (n: any) => (n && n.typename !== 'JTruthy' ? { typename: 'JTruthy', target: n, lineno: n.lineno, colno: n.colno } : n);
  P.compileIf = function (node: any, frame: unknown, async: boolean) {
    return base.compileIf.call(this, clone(node, { cond: truthy(node.cond) }), frame, async);
  };
  P.compileInlineIf = function (node: any, frame: unknown) {
    return base.compileInlineIf.call(this, clone(node, { cond: truthy(node.cond) }), frame);
  };
  P.compileNot = function (node: any, frame: unknown) {
    this._emit('!');
    this.compileJTruthy({ target: node.target }, frame);
  };
  for (const [op, fn] of [['Or', 'jOr'], ['And', 'jAnd']] as const) {
    P[`compile${op}`] = function (node: any, frame: unknown) {
      this._emit(`runtime.${fn}(`);
      this.compile(node.left, frame);
      this._emit(', function () { return ');
      this.compile(node.right, frame);
      this._emit('; })');
    };
  }
  for (const [type, fn] of Object.entries(BINARY)) {
    P[`compile${type}`] = function (node: any, frame: unknown) {
      this._emit(`runtime.${fn}(`);
      this.compile(node.left, frame);
      this._emit(', ');
      this.compile(node.right, frame);
      this._emit(')');
    };
  }
  P.compileCompare = function (node: any, frame: unknown) {
    this._emit('runtime.jCompare(');
    this.compile(node.expr, frame);
    this._emit(', [');
    node.ops.forEach((op: any, i: number) => {
      this._emit(`${i ? ', ' : ''}${JSON.stringify(op.type)}, `);
      this.compile(op.expr, frame);
    });
    this._emit('])');
  };
  // The name of a called thing is put in a JavaScript string as is by nunjucks (a literal with a newline breaks it).
  P._getNodeName = function (node: any) {
    return String(base._getNodeName.call(this, node)).replace(/[\\\n\r\u2028\u2029]/g, ' ');
  };
  // A parenthesized list of several values is a tuple (nunjucks: JavaScript's comma operator).
  P.compileGroup = function (node: any, frame: unknown) {
    this._compileAggregate(node, frame, node.children.length > 1 ? 'runtime.jTuple([' : '(', node.children.length > 1 ? '])' : ')');
  };
  // nunjucks emits a test's arguments without commas between them.
  P.compileIs = function (node: any, frame: unknown) {
    const name = node.right.name ? node.right.name.value : node.right.value;
    this._emit(`env.getTest(${JSON.stringify(name)}).call(context, `);
    this.compile(node.left, frame);
    if (node.right.args && node.right.args.children.length) {
      this._emit(', ');
      this._compileAggregate(node.right.args, frame, '', '');
    }
    this._emit(') === true');
  };
  P.compileOutput = function (node: any, frame: unknown) {
    for (const child of node.children) {
      if (child instanceof nodes.TemplateData) {
        if (child.value) {
          this._emit(`${this.buffer} += `);
          this.compileLiteral(child, frame);
          this._emitLine(';');
        }
      } else {
        this._emitLine(`lineno = ${this.lineOf(child)}; colno = ${child.colno};`);
        this._emit(`${this.buffer} += runtime.suppressValue(`);
        this.compile(child, frame);
        this._emit(');\n');
      }
    }
  };
  return C;
}

let JinjaCompiler: any;

interface Source {
  body: string;
  trimBlocks: boolean;
  lstripBlocks: boolean;
  /** Per line of body: [column where a piece starts, the template's 0-based line of that piece]. */
  lines: Array<Array<[number, number]>>;
}

/**
 * The text nunjucks parses: newlines as \n (Jinja's newline_sequence, Ansible's default), without
 * Ansible's first-line overrides (`#jinja2: trim_blocks: False, lstrip_blocks: True`), and with
 * trim_blocks also dropping the newline after a comment and after {% endraw %} as Jinja's does
 * (nunjucks' does not). `lines` maps positions in it back to the template's lines.
 */
function source(text: string): Source {
  const all = text.replace(/\r\n?/g, '\n').split('\n');
  const out: Source = { body: '', trimBlocks: true, lstripBlocks: false, lines: [] };
  let first = 0;
  const m = /^#jinja2:(.*)$/.exec(all[0]!);
  if (m && all.length > 1) {
    first = 1;
    for (const part of m[1]!.split(',')) {
      const [k, v] = part.split(':').map((x) => x.trim());
      const on = /^(true|yes|1)$/i.test(v ?? '');
      if (k === 'trim_blocks') out.trimBlocks = on;
      if (k === 'lstrip_blocks') out.lstripBlocks = on;
    }
  }
  const body: string[] = [];
  let joinNext = false;
  for (let i = first; i < all.length; i++) {
    const line = all[i]!;
    if (joinNext) {
      out.lines[body.length - 1]!.push([body[body.length - 1]!.length, i]);
      body[body.length - 1] += line;
    } else {
      body.push(line);
      out.lines.push([[0, i]]);
    }
    joinNext = out.trimBlocks && i < all.length - 1 && /(#\}|\{%-?\s*endraw\s*-?%\})$/.test(body[body.length - 1]!);
  }
  out.body = body.join('\n');
  return out;
}

/** The template's 0-based line of a position nunjucks reports (0-based line and column of the body). */
function lineOf(src: Source, lineno: number, colno: number): number {
  const pieces = src.lines[lineno];
  if (!pieces) return lineno;
  let line = pieces[0]![1];
  for (const [col, l] of pieces) if (col <= colno) line = l;
  return line;
}

/** A syntax error in a template, with its 1-based line. */
export class JinjaSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly col: number,
    /** The template it is in, when not the one being compiled (an included one). */
    readonly file?: string,
  ) {
    super(reason);
  }
}

/** Parses a template's text (throws JinjaSyntaxError). */
function parse(src: Source): any {
  try {
    return nunjucks().parser.parse(src.body, [], { trimBlocks: src.trimBlocks, lstripBlocks: src.lstripBlocks });
  } catch (e) {
    throw syntaxError(e, src);
  }
}

function syntaxError(e: unknown, src: Source): JinjaSyntaxError {
  const err = e as { message?: string; lineno?: number; colno?: number };
  const reason = String(err.message ?? e).replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '').replace(/^Template render error:\s*/, '').split('\n').map((x) => x.trim()).filter(Boolean).join(' ');
  // nunjucks reports 1-based positions in its errors.
  const atEnd = /end of file/.test(reason);
  const last = src.body.replace(/\n+$/, '').split('\n').length - 1;
  const line = atEnd ? src.lines[last]![0]![1] : err.lineno === undefined ? 0 : lineOf(src, err.lineno - 1, (err.colno ?? 1) - 1);
  return new JinjaSyntaxError(atEnd ? `${reason} (a block opened in the template is not closed)` : reason, line + 1, atEnd ? 1 : (err.colno ?? 1));
}

/** The JavaScript nunjucks' compiler makes of a template (text; it runs in the sandbox only). */
export function jinjaSource(text: string, file: string): string {
  const src = source(text);
  const ast = parse(src);
  JinjaCompiler ??= makeCompiler();
  const c = new JinjaCompiler(file, false);
  c.lineOf = (n: any) => lineOf(src, n.lineno ?? 0, n.colno ?? 0);
  try {
    c.compile(nunjucks().transformer.transform(ast, [], file));
  } catch (e) {
    throw syntaxError(e, src);
  }
  return c.getCode();
}

type Compiled = SandboxJinja;
const cache = new Map<string, { mtimeMs: number; size: number; t: Compiled }>();

/** The template compiled in the sandbox; recompiled when the file changed. Throws JinjaSyntaxError. */
function compile(file: string): Compiled {
  const st = statSync(file);
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.t;
  const text = readLocalFile(file).bytes.toString('utf8');
  const t = { props: compileJinjaInContext(jinjaSource(text, file), file), file };
  cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, t });
  return t;
}

/** Compiles a template; a diagnostic instead of an exception. */
export function checkJinjaTemplate(file: string): Diagnostic | undefined {
  try {
    compile(file);
    return undefined;
  } catch (e) {
    if (!(e instanceof JinjaSyntaxError)) throw e;
    return { severity: 'error', message: `template syntax error: ${e.reason}`, pos: { file, line: e.line, col: e.col } };
  }
}

function inside(dir: string, f: string): boolean {
  const rel = relative(dir, f);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Where `{% include 'name' %}` looks: the folder of the template being rendered, then the
 * templates folder it was found in (`root`). A name that leaves both is refused.
 */
export function jinjaSearchPath(file: string, root?: string): string[] {
  const dirs = [dirname(resolve(file))];
  if (root && resolve(root) !== dirs[0] && inside(resolve(root), resolve(file))) dirs.push(resolve(root));
  return dirs;
}

function findIncluded(name: string, dirs: string[]): { file?: string; refused?: string } {
  for (const dir of dirs) {
    const file = resolve(dir, name);
    if (!inside(dir, file)) continue;
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      continue;
    }
    if (!inside(realpathSync(dir), real)) return { refused: file };
    if (statSync(real).isFile()) return { file };
  }
  return {};
}

function includer(dirs: string[]): JinjaIncluder {
  return (_from, name) => {
    const found = findIncluded(name, dirs);
    if (!found.file) {
      throw new Error(found.refused || isAbsolute(name) || name.split(/[\\/]/).includes('..')
        ? `template '${name}' is outside ${dirs.join(' and ')}`
        : `template '${name}' not found in ${dirs.join(' or ')}`);
    }
    try {
      return compile(found.file);
    } catch (e) {
      if (e instanceof JinjaSyntaxError) throw new Error(`${found.file}:${e.line}: template syntax error: ${e.reason}`);
      throw e;
    }
  };
}

/**
 * Renders a Jinja template with the variables in `scope` (read lazily, as EJS templates).
 * `root`: the templates folder the template was found in (includes may name files there).
 */
export function renderJinja(file: string, scope: ScopeLike, root?: string): string {
  const t = compile(file);
  return runJinja(t, scope, includer(jinjaSearchPath(file, root)));
}

// ---------------------------------------------------------------------------------------------
// Names a template reads (for validation)

/** Names every Jinja template has without a variable defining them. */
export const JINJA_GLOBALS = ['range', 'dict', 'namespace', 'lookup', 'query', 'True', 'False', 'None', 'true', 'false', 'none', 'loop', 'caller', 'varargs', 'kwargs', 'super', 'self', 'cycler', 'joiner', 'vars'];

/** Names the template module adds to the variables of a template. */
export const TEMPLATE_VARS = ['ansible_managed', 'template_path', 'template_fullpath', 'template_destpath'];

export interface JinjaNames {
  /** Variables the template reads without a guard (`is defined`, `| default`), with the first line each is read on. */
  used: Map<string, { file: string; line: number }>;
  /** Filter names with their first line. */
  filters: Map<string, { file: string; line: number }>;
  /** Test names with their first line. */
  tests: Map<string, { file: string; line: number }>;
}

/**
 * What a template and the templates it includes (by a literal name) read: names used minus
 * names they set (set, for, macro, import; flow-insensitively) and names only read under a
 * guard. Throws JinjaSyntaxError.
 */
export function jinjaNames(file: string, root?: string): JinjaNames {
  const dirs = jinjaSearchPath(file, root);
  const used = new Map<string, { file: string; line: number }>();
  const filters = new Map<string, { file: string; line: number }>();
  const tests = new Map<string, { file: string; line: number }>();
  const bound = new Set<string>();
  const guarded = new Set<string>();
  const seen = new Set<string>();
  const { nodes } = nunjucks();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const src = source(readLocalFile(f).bytes.toString('utf8'));
    let ast;
    try {
      ast = parse(src);
    } catch (e) {
      if (e instanceof JinjaSyntaxError) throw new JinjaSyntaxError(e.reason, e.line, e.col, f);
      throw e;
    }
    const at = (n: any) => ({ file: f, line: lineOf(src, n.lineno ?? 0, n.colno ?? 0) + 1 });
    const bind = (n: any) => {
      if (!n) return;
      if (n instanceof nodes.Symbol) bound.add(n.value);
      else if (n instanceof nodes.Pair) bind(n.value);
      else if (n.children) for (const c of n.children) bind(c);
    };
    const root = (n: any): any => (n instanceof nodes.LookupVal ? root(n.target) : n);
    const walk = (n: any) => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      if (n instanceof nodes.Symbol) {
        if (!used.has(n.value)) used.set(n.value, at(n));
        return;
      }
      if (n instanceof nodes.For || n instanceof nodes.AsyncEach || n instanceof nodes.AsyncAll) bind(n.name);
      if (n instanceof nodes.Set) n.targets.forEach(bind);
      if (n instanceof nodes.Macro || n instanceof nodes.Caller) {
        if (n.name) bind(n.name);
        for (const a of n.args?.children ?? []) {
          if (a instanceof nodes.KeywordArgs) for (const p of a.children) bind(p.key);
          else bind(a);
        }
      }
      if (n instanceof nodes.Import) bind(n.target);
      if (n instanceof nodes.FromImport) for (const c of n.names.children) bind(c instanceof nodes.Pair ? c.value : c);
      if (n instanceof nodes.Is) {
        const test = n.right?.name?.value ?? n.right?.value;
        if (test && !tests.has(test)) tests.set(test, at(n));
        const r = root(n.left);
        if (r instanceof nodes.Symbol && (test === 'defined' || test === 'undefined')) guarded.add(r.value);
      }
      if (n instanceof nodes.Filter) {
        const name = n.name?.value;
        if (name && !filters.has(name)) filters.set(name, at(n));
        const r = root(n.args?.children?.[0]);
        if (r instanceof nodes.Symbol && ['default', 'd', 'mandatory'].includes(name)) guarded.add(r.value);
      }
      if ((n instanceof nodes.Include || n instanceof nodes.Import || n instanceof nodes.FromImport || n instanceof nodes.Extends) && n.template instanceof nodes.Literal) {
        const found = findIncluded(String(n.template.value), dirs);
        if (found.file) visit(found.file);
      }
      if (n instanceof nodes.LookupVal) {
        walk(n.target);
        if (!(n.val instanceof nodes.Literal)) walk(n.val);
        return;
      }
      if (n instanceof nodes.Filter || n instanceof nodes.FunCall) {
        if (!(n instanceof nodes.Filter)) walk(n.name);
        walk(n.args);
        return;
      }
      if (n instanceof nodes.Is) {
        walk(n.left);
        if (n.right?.args) walk(n.right.args);
        return;
      }
      if (n instanceof nodes.Pair) {
        if (!(n.key instanceof nodes.Symbol)) walk(n.key);
        walk(n.value);
        return;
      }
      if (n instanceof nodes.KeywordArgs) {
        for (const p of n.children) walk(p.value);
        return;
      }
      for (const field of n.fields ?? []) {
        if ((n instanceof nodes.Macro || n instanceof nodes.Caller) && field === 'args') {
          for (const a of n.args?.children ?? []) if (a instanceof nodes.KeywordArgs) for (const p of a.children) walk(p.value);
          continue;
        }
        if ((n instanceof nodes.For || n instanceof nodes.AsyncEach || n instanceof nodes.AsyncAll) && field === 'name') continue;
        if (n instanceof nodes.Set && field === 'targets') continue;
        if ((n instanceof nodes.Import && field === 'target') || (n instanceof nodes.FromImport && field === 'names') || (n instanceof nodes.Macro && field === 'name')) continue;
        walk(n[field]);
      }
      if (n.children && !(n.fields ?? []).includes('children')) walk(n.children);
    };
    walk(ast);
  };
  visit(resolve(file));
  for (const n of [...bound, ...guarded, ...JINJA_GLOBALS]) used.delete(n);
  return { used, filters, tests };
}
