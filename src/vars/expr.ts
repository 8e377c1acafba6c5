/**
 * `{{ expressions }}`: JavaScript inside playbook strings, evaluated with the host's variables
 * in scope. parseTemplate splits a string into text and expressions, evaluate runs one
 * expression, render walks a whole value (params, vars) and renders every template string in it.
 *
 *   render('http://{{ host }}:{{ port }}', scope)  -> 'http://web1:8080'
 *   render('{{ ports }}', scope)                    -> [80, 443]   (a lone expression keeps its type)
 *
 * A variable is looked up only when the expression reads it; a name that no variable and no
 * helper (globals.ts) defines is an UndefinedVariableError.
 */
import { parseExpressionAt } from 'acorn';
import { Secret } from '../core/secret.js';
import { analyzeExpression, compileForm, GET, jinjaHint, TYPEOF } from './analyze.js';
import { ExprError, ExprRuntimeError, ExprSyntaxError, UndefinedVariableError } from './expr-errors.js';
import { EXPR_GLOBALS, HELPERS } from './globals.js';
import {
  bounded,
  callInContext,
  compileInContext,
  DeadlineExceeded,
  forgetHostErrors,
  isBounded,
  renderInContext,
  renderJinjaInContext,
  setHandedListener,
  setHelpers,
  takeHostError,
  type CompiledExpr,
  type SandboxTemplate,
  type Lookup,
  type TemplateIncluder,
  type SandboxJinja,
  type JinjaIncluder,
} from './sandbox.js';
import { types } from 'node:util';
import { didYouMean, UserError } from '../core/errors.js';

export { analyzeExpression } from './analyze.js';
export { EXPR_GLOBALS } from './globals.js';
export { ExprError, ExprRuntimeError, ExprSyntaxError, UndefinedVariableError, VarCycleError } from './expr-errors.js';

/** What expressions read variables from. Scope (scope.ts) implements it; plain objects work too. */
export interface VarSource {
  has(name: string): boolean;
  get(name: string): unknown;
  names(): Iterable<string>;
  /** The `vars` object seen by expressions. */
  readonly vars: Record<string, unknown>;
  /** Called with every secret string handed to an expression or rendered into a value. */
  noteSecret(value: string): void;
  /** The secret strings noted so far (to keep them out of error messages). */
  readonly secretsUsed?: ReadonlySet<string>;
}

export type ScopeLike = VarSource | Record<string, unknown>;

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expr'; code: string; offset: number };

const OPEN = '{{';
const CLOSE = '}}';

/** True when the string contains something render() acts on (an expression, or Jinja it rejects). */
export function isTemplate(s: unknown): s is string {
  return typeof s === 'string' && (s.includes(OPEN) || jinjaBlock(s, 0) !== undefined);
}

/**
 * Splits a template into text and expressions. `offset` is where the code starts in `text`.
 * A `}}` inside a string or object literal of the expression does not end it. To write a
 * literal `{{`, use `{{ '{{' }}`.
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let pos = 0;
  const pushText = (s: string) => {
    if (!s) return;
    const last = parts[parts.length - 1];
    if (last?.kind === 'text') last.text += s;
    else parts.push({ kind: 'text', text: s });
  };
  while (pos < text.length) {
    const open = text.indexOf(OPEN, pos);
    const jinja = jinjaBlock(text, pos);
    if (jinja && (open < 0 || jinja.at < open)) {
      throw new ExprSyntaxError(jinja.message, jinja.at, 'expressions are JavaScript inside {{ }}: write {{ ok ? "a" : "b" }} instead of {% if %}, and {{ list.map(x => `- ${x}`).join("\\n") }} instead of {% for %}');
    }
    if (open < 0) break;
    pushText(text.slice(pos, open));
    const start = open + OPEN.length;
    const end = findClose(text, start);
    if (end < 0) throw new ExprSyntaxError("'{{' without a matching '}}'", open);
    parts.push({ kind: 'expr', code: text.slice(start, end), offset: start });
    pos = end + CLOSE.length;
  }
  pushText(text.slice(pos));
  return parts;
}

/** A Jinja `{% ... %}` or `{# ... #}` (only when closed, so `${#arr[@]}` in shell is fine). */
function jinjaBlock(text: string, from: number): { at: number; message: string } | undefined {
  let found: { at: number; message: string } | undefined;
  for (const [open, close, what] of [['{%', '%}', 'Jinja statements ({% ... %}) are not supported'], ['{#', '#}', 'Jinja comments ({# ... #}) are not supported']] as const) {
    const at = text.indexOf(open, from);
    if (at >= 0 && text.indexOf(close, at + 2) >= 0 && (!found || at < found.at)) found = { at, message: what };
  }
  return found;
}

/** Index of the `}}` that closes the expression starting at `start`, or -1. */
function findClose(text: string, start: number): number {
  // Let the JavaScript parser find where the expression ends: it knows strings, objects and
  // template literals. If the expression does not parse, fall back to the next '}}' and let
  // analyzeExpression report the syntax error with its position.
  try {
    const node = parseExpressionAt(text, start, { ecmaVersion: 'latest' });
    let i = node.end;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text.startsWith(CLOSE, i)) return i;
  } catch {
    // fall through
  }
  return text.indexOf(CLOSE, start);
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Compiled {
  fn: CompiledExpr;
  /** Known to finish quickly (analyze.ts): runs without a watchdog. */
  quick: boolean;
}

const compiledCache = new Map<string, Compiled>();
const CACHE_LIMIT = 10_000;

function compile(code: string): Compiled {
  let c = compiledCache.get(code);
  if (c) return c;
  const form = compileForm(code); // throws ExprSyntaxError
  try {
    c = { fn: compileInContext(`(function (${GET}, ${TYPEOF}) {\n"use strict";\nreturn (${form.body}\n);\n})`), quick: form.quick };
  } catch (e) {
    // Strict-mode-only errors acorn does not report in script mode (e.g. octal literals).
    throw new ExprSyntaxError(String((e as Error).message), 0);
  }
  if (compiledCache.size >= CACHE_LIMIT) compiledCache.clear();
  compiledCache.set(code, c);
  return c;
}

setHelpers(HELPERS);

// ---------------------------------------------------------------------------------------------
// Time bound

/** Seconds an expression may run, from TSPLAY_EXPR_TIMEOUT (default 5). */
export function exprTimeoutFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.TSPLAY_EXPR_TIMEOUT;
  if (raw === undefined || raw === '') return 5;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`TSPLAY_EXPR_TIMEOUT must be a number of seconds greater than 0 (got ${JSON.stringify(raw)})`);
  return n;
}

let timeoutSeconds: number | undefined;

/** Seconds each evaluation may run before it fails with "did not finish". */
export function exprTimeout(): number {
  return (timeoutSeconds ??= exprTimeoutFromEnv(process.env));
}

export function setExprTimeout(seconds: number): void {
  timeoutSeconds = seconds;
}

/** The expressions (code) and templates ({ file }) running right now, innermost last (names the one a deadline stopped). */
const running: Array<string | { file: string }> = [];

/**
 * State saved when a deadline is set and restored if it passes: the frames in between are
 * abandoned without their `finally` blocks (scope.ts registers its stack of variables being
 * resolved).
 */
const unwinders: Array<() => () => void> = [];

export function onDeadlineUnwind(save: () => () => void): void {
  unwinders.push(save);
}

function withDeadline<T>(fn: () => T): T {
  const depth = running.length;
  const restores = unwinders.map((save) => save());
  try {
    return bounded(exprTimeout(), fn);
  } catch (e) {
    if (!(e instanceof DeadlineExceeded)) throw e;
    const what = running[running.length - 1] ?? '';
    running.length = depth;
    for (const restore of restores) restore();
    if (typeof what !== 'string') throw new ExprRuntimeError(`template ${what.file} did not finish in ${exprTimeout()} s`, what.file);
    throw new ExprRuntimeError(`expression {{ ${what.trim()} }} did not finish in ${exprTimeout()} s`, what);
  } finally {
    if (depth === 0) forgetHostErrors();
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** A plain object serving as a VarSource (for tests and simple callers). */
class PlainSource implements VarSource {
  readonly secretsUsed = new Set<string>();
  constructor(readonly vars: Record<string, unknown>) {}
  has(name: string): boolean {
    return Object.hasOwn(this.vars, name);
  }
  get(name: string): unknown {
    return unwrapSecrets(this.vars[name], (s) => this.noteSecret(s));
  }
  names(): string[] {
    return Object.keys(this.vars);
  }
  noteSecret(value: string): void {
    if (value) this.secretsUsed.add(value);
  }
}

/** Plain objects (object literals) are variable maps; anything else must implement VarSource. */
function isVarSource(s: ScopeLike): s is VarSource {
  return !isPlainObject(s) && typeof (s as VarSource).get === 'function' && typeof (s as VarSource).has === 'function';
}

export function toVarSource(s: ScopeLike): VarSource {
  return isVarSource(s) ? s : new PlainSource(s);
}

/**
 * Evaluates one expression, isolated from the controller (sandbox.ts) and bounded in time
 * (exprTimeout()). Throws ExprSyntaxError, UndefinedVariableError, or ExprRuntimeError (a
 * JavaScript exception thrown by the expression, as one line; "did not finish in N s").
 */
export function evaluate(code: string, scope: ScopeLike): unknown {
  const src = toVarSource(scope);
  const c = compile(code);
  return c.quick || isBounded() ? run(code, c, src) : withDeadline(() => run(code, c, src));
}

/** How code in the context reads the variables of `src` (and helpers); `note` sees each value handed over. */
function lookupOf(src: VarSource, code: string, note: (label: string, value: unknown) => void, helpers = true): Lookup {
  return {
    get: (name) => {
      if (name === 'vars') return [1, src.vars];
      if (src.has(name)) return [1, src.get(name)];
      if (helpers && Object.hasOwn(HELPERS, name)) return [2];
      throw undefinedVariable(name, code, src, helpers);
    },
    defined: (name) => name === 'vars' || src.has(name) || (helpers && Object.hasOwn(HELPERS, name)),
    handed: note,
  };
}

function run(code: string, c: Compiled, src: VarSource): unknown {
  return sandboxed(code, src, (lookup) => callInContext(c.fn, lookup), {
    code,
    who: 'expression',
    where: () => `expression {{ ${code.trim()} }} failed:`,
  });
}

/**
 * Renders a compiled EJS template (templates.ts, sandbox.ts) with the variables of `scope`, read
 * lazily and copied in, isolated and bounded in time like an expression (includes share the
 * deadline; a template known to finish quickly, analyze.ts analyzeTemplateCode, runs without
 * the watchdog). Throws ExprRuntimeError "FILE:LINE: ReferenceError: x is not defined" (the message
 * hidden when the template read a secret) or "template FILE did not finish in N s".
 */
export function runTemplate(t: SandboxTemplate & { quick: boolean }, scope: ScopeLike, include: TemplateIncluder): string {
  const src = toVarSource(scope);
  const go = () =>
    sandboxed({ file: t.file }, src, (lookup) => renderInContext(t, lookup, include), {
      code: t.file,
      who: 'template',
      where: (r) => `${r[3]}${r[4] === undefined ? '' : `:${r[4]}`}:`,
    });
  return t.quick || isBounded() ? go() : withDeadline(go);
}

/**
 * Renders a compiled Jinja template (playbook/jinja.ts, sandbox.ts, jinja-context.ts) like
 * runTemplate, always under the deadline. Variables are the host's (no JavaScript helpers: a
 * Jinja template has filters).
 */
export function runJinja(t: SandboxJinja, scope: ScopeLike, include: JinjaIncluder): string {
  const src = toVarSource(scope);
  const go = () =>
    sandboxed({ file: t.file }, src, (lookup) => renderJinjaInContext(t, lookup, include), {
      code: t.file,
      who: 'template',
      helpers: false,
      where: (r) => `${r[3]}${r[4] === undefined ? '' : `:${r[4]}`}:`,
    });
  return isBounded() ? go() : withDeadline(go);
}

type Failed = [0, string, number | undefined, ...unknown[]];

/**
 * Runs `call` (code in the sandbox) with lookups into `src`: its value, or an error whose
 * message starts with `where` ("expression {{ x }} failed:", "site.conf.ejs:3:"). A user error
 * from the controller (undefined variable, ...) comes out as itself; the message of any other
 * error is hidden when the code was handed a secret.
 */
function sandboxed<T, F extends Failed>(
  entry: (typeof running)[number],
  src: VarSource,
  call: (lookup: Lookup) => [1, T] | F,
  failure: { code: string; who: string; helpers?: boolean; where: (r: F) => string },
): T {
  const handed: Array<[string, unknown]> = [];
  const note = (label: string, value: unknown) => handed.push([label, value]);
  running.push(entry);
  const listener = setHandedListener(note);
  let r: [1, T] | F;
  try {
    r = call(lookupOf(src, failure.who === 'expression' ? failure.code : '', note, failure.helpers ?? true));
  } finally {
    setHandedListener(listener);
    running.pop();
  }
  const original = r[0] === 0 ? takeHostError(r[2]) : undefined;
  if (running.length === 0 && !isBounded()) forgetHostErrors();
  if (r[0] === 1) return r[1];
  const where = failure.where(r);
  if (original instanceof ExprError) throw failure.who === 'expression' ? original : original.at(undefined, `in template ${where.slice(0, -1)}`);
  const message = original instanceof Error ? `${original.name}: ${original.message.split('\n')[0]}` : r[1];
  const secretNames = secretVariables(handed, src);
  if (secretNames.length) {
    const names = secretNames.map((n) => `'${n}'`).join(', ');
    const kind = message.match(/^[A-Za-z]*Error\b/)?.[0] ?? 'an error';
    throw new ExprRuntimeError(`${where} ${kind} (message hidden: the ${failure.who} read secret variable ${names})`, failure.code);
  }
  throw new ExprRuntimeError(`${where} ${message}`, failure.code, original);
}

/** Names under which the expression was handed a value holding one of the source's secrets. */
function secretVariables(handed: Array<[string, unknown]>, src: VarSource): string[] {
  const secrets = [...(src.secretsUsed ?? [])].filter((s) => s.length > 0);
  if (!secrets.length) return [];
  const holds = (v: unknown, seen: Set<unknown>): boolean => {
    if (typeof v === 'string') return secrets.some((s) => v.includes(s));
    if (!v || typeof v !== 'object' || seen.has(v) || types.isProxy(v)) return false;
    seen.add(v);
    return Object.values(v).some((x) => holds(x, seen));
  };
  return [...new Set(handed.filter(([, v]) => holds(v, new Set())).map(([label]) => label))];
}

function undefinedVariable(name: string, code: string, src: VarSource, helpers = true): UndefinedVariableError {
  const similar = didYouMean(name, [...src.names(), ...(helpers ? EXPR_GLOBALS : ['vars'])]);
  const filterHint = helpers && new RegExp(`\\|\\s*${name}\\b`).test(code) ? jinjaHint(code) : undefined;
  const missing = helpers ? `if it may be missing, write vars.${name} ?? 'default'` : `if it may be missing, write {{ ${name} | default('...') }} or test {% if ${name} is defined %}`;
  const hint = filterHint ?? (similar ? `did you mean '${similar}'?` : missing);
  return new UndefinedVariableError(name, hint);
}

/**
 * Evaluates a `when:` / `changed_when:` / `failed_when:` value. It is an expression (`x > 1`);
 * a YAML boolean; or, by Ansible habit, a template (`"{{ x > 1 }}"`). The result is read
 * with truthy().
 */
export function evaluateCondition(cond: unknown, scope: ScopeLike): boolean {
  if (typeof cond === 'boolean') return cond;
  if (typeof cond !== 'string') return truthy(cond);
  return truthy(isTemplate(cond) ? render(cond, scope) : evaluate(cond, scope));
}

/**
 * JavaScript truthiness, except that the strings 'false', 'no', 'off' and '0' (any case, e.g.
 * from `-e enabled=false`) are false, as in Ansible.
 */
export function truthy(v: unknown): boolean {
  if (typeof v === 'string') return !['', 'false', 'no', 'off', '0'].includes(v.trim().toLowerCase());
  return Boolean(v);
}

// ---------------------------------------------------------------------------------------------
// Rendering

/**
 * Renders every template string inside a value (deeply). A string that is exactly one
 * expression, with nothing around it (not even whitespace), becomes the expression's value
 * with its type; any other template gives a string (`"{{ n }}\n"` is `"8080\n"`). Secrets are replaced by their value and reported to the scope.
 * The result of an expression is never rendered again.
 */
export function render(value: unknown, scope: ScopeLike): unknown {
  return renderValue(value, toVarSource(scope));
}

function renderValue(value: unknown, src: VarSource): unknown {
  if (typeof value === 'string') return isTemplate(value) ? renderString(value, src) : value;
  if (value instanceof Secret) {
    src.noteSecret(value.value);
    return value.value;
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, src));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = isTemplate(k) ? stringify(renderString(k, src), k) : k;
      out[key] = renderValue(v, src);
    }
    return out;
  }
  return value;
}

function renderString(text: string, src: VarSource): unknown {
  let parts: readonly TemplatePart[];
  try {
    parts = cachedParts(text);
  } catch (e) {
    if (e instanceof ExprSyntaxError) e.at(undefined, `in ${JSON.stringify(text)}`);
    throw e;
  }
  const exprs = parts.filter((p) => p.kind === 'expr');
  const lone = parts.length === 1 && exprs.length === 1;
  const run = (p: { code: string; offset: number }): unknown => {
    try {
      return evaluate(p.code, src);
    } catch (e) {
      if (e instanceof ExprSyntaxError) {
        const literal = /^\s*\./.test(p.code) ? `for a literal {{ (e.g. a Go template for docker --format), write {{ '{{' }}` : undefined;
        throw new ExprSyntaxError(`invalid expression {{${p.code}}}: ${e.reason}`, p.offset + e.offset, e.hint ?? literal);
      }
      throw e;
    }
  };
  if (lone) return run(exprs[0] as { code: string; offset: number });
  let out = '';
  for (const p of parts) {
    if (p.kind === 'text') out += p.text;
    else out += stringify(run(p), `{{${p.code}}}`);
  }
  return out;
}

const partsCache = new Map<string, readonly TemplatePart[]>();

function cachedParts(text: string): readonly TemplatePart[] {
  let parts = partsCache.get(text);
  if (!parts) {
    parts = parseTemplate(text);
    if (partsCache.size >= CACHE_LIMIT) partsCache.clear();
    partsCache.set(text, parts);
  }
  return parts;
}

/** How a value appears inside text: strings as is, objects as JSON, null as ''. */
function stringify(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (v === undefined) {
    throw new ExprRuntimeError(`${what} is undefined and cannot be inserted into text`, what);
  }
  if (v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'function' || typeof v === 'symbol') {
    throw new ExprRuntimeError(`${what} is a ${typeof v} and cannot be inserted into text (did you forget to call it?)`, what);
  }
  return JSON.stringify(v);
}

/** Every free name used by any template inside a (deep) value. For validation. */
export function templateNames(value: unknown): string[] {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (!isTemplate(v)) return;
      for (const p of parseTemplate(v)) if (p.kind === 'expr') for (const n of analyzeExpression(p.code).names) names.add(n);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (isPlainObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        visit(k);
        visit(x);
      }
    }
  };
  visit(value);
  return [...names];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Replaces Secret objects by their string (deeply, copying only what contains one) and calls
 * `note` for each. Only arrays and plain objects are entered.
 */
export function unwrapSecrets(v: unknown, note?: (s: string) => void): unknown {
  if (v instanceof Secret) {
    note?.(v.value);
    return v.value;
  }
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    v.forEach((x, i) => {
      const y = unwrapSecrets(x, note);
      if (y !== x) (copy ??= v.slice())[i] = y;
    });
    return copy ?? v;
  }
  if (isPlainObject(v)) {
    let copy: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      const y = unwrapSecrets(x, note);
      if (y !== x) (copy ??= { ...v })[k] = y;
    }
    return copy ?? v;
  }
  return v;
}
