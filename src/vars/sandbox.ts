/**
 * Where expressions run: one node:vm context per process whose intrinsics (Object, Function,
 * Array.prototype, ...) are its own, frozen, and unable to compile code from strings. So
 * `''.constructor.constructor('return process')()` reaches the context's Function, which
 * refuses, and no expression can change a prototype that the controller or the next
 * expression sees.
 *
 * Nothing of the controller is handed to an expression:
 * - variables come in as deep copies made of the context's own objects (`vars` and `hostvars`,
 *   which resolve variables lazily, come in as read-only views that copy what is read);
 * - helpers (globals.ts) are called through wrappers that copy arguments out and results in;
 * - a controller error (undefined variable, a helper that throws) becomes a context error with
 *   the same message; evaluate() gets the original back when it comes out.
 * The controller-side functions the context calls (`host` below) only ever live in closures of
 * the context's own code, and never throw into it.
 *
 * Time: bounded() runs code under vm's watchdog (`timeout`), which stops any code, context or
 * controller, that runs past the deadline. The watchdog costs a thread start (~0.1 ms), so
 * expressions known to finish quickly (analyze.ts `quick`) run without one, and everything run
 * inside a bounded call shares its deadline.
 */
import vm from 'node:vm';
import { types } from 'node:util';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Secret } from '../core/secret.js';
import { JINJA_CONTEXT_SOURCE } from './jinja-context.js';

/** A value-returning call into the context: [1, value] or [0, description, controller error id]. */
type Outcome = [1, unknown] | [0, string, number | undefined];

/** Controller-side lookups for one evaluation (see expr.ts). */
export interface Lookup {
  /** [1, value] for a variable, [2] for a helper, or throws (UndefinedVariableError...). */
  get(name: string): [1, unknown] | [2];
  /** False when neither a variable nor a helper has this name. */
  defined(name: string): boolean;
  /** Called with each controller value handed to the expression, and the name it was read as. */
  handed?(label: string, value: unknown): void;
}

export type CompiledExpr = (get: unknown, typeOf: unknown) => unknown;

/** A template function made inside the context (EJS's generated source, see templates.ts). */
export type CompiledTemplate = (locals: unknown, escapeFn: unknown, include: unknown, rethrow: unknown) => unknown;

/** A template's result: [1, text] or [0, description, controller error id, file, line where it failed]. */
export type TemplateOutcome = [1, string] | [0, string, number | undefined, string, number | undefined];

/** A template compiled in the context, with the identifiers its code mentions (see analyze.ts analyzeTemplateCode). */
export interface SandboxTemplate {
  fn: CompiledTemplate;
  file: string;
  names: readonly string[];
}

/** The functions of a Jinja template (nunjucks' compiled `root` and `b_<block>`), made inside the context. */
export type JinjaProps = Readonly<Record<string, unknown>>;

/** A Jinja template compiled in the context. */
export interface SandboxJinja {
  props: JinjaProps;
  file: string;
}

/** The filters and tests Jinja templates have (jinja-context.ts). */
export interface JinjaBuiltins {
  filters: string[];
  tests: string[];
}

/** Finds the template an `{% include %}`, `{% import %}` or `{% extends %}` names (from: the template naming it). */
export type JinjaIncluder = (from: string, name: string) => SandboxJinja;

/** Finds the template an include() names, relative to the including file. */
export type TemplateIncluder = (from: string, path: string) => SandboxTemplate;

interface Context {
  startJinja(): JinjaBuiltins;
  compileJinja(source: string, file: string): JinjaProps;
  renderJinja(t: SandboxJinja, lookup: Lookup): TemplateOutcome;
  compile(source: string): CompiledExpr;
  call(fn: CompiledExpr, lookup: Lookup): Outcome;
  compileTemplate(source: string, file: string): CompiledTemplate;
  render(t: SandboxTemplate, lookup: Lookup): TemplateOutcome;
}

/** Controller errors waiting to be matched with the context error that stands for them. */
const hostErrors = new Map<number, unknown>();
let nextErrorId = 1;

/** A function that crossed out of an expression: a value that cannot be called. */
function functionFromExpression(): never {
  throw new Error('a function made by an expression cannot be called outside it');
}

/** Runs fn; a controller exception becomes [0, message, id] (never thrown into the context). */
function guarded<T>(fn: () => T): [1, T] | [0, number, string] {
  try {
    return [1, fn()];
  } catch (e) {
    const id = nextErrorId++;
    hostErrors.set(id, e);
    return [0, id, e instanceof Error ? e.message : String(e)];
  }
}

/** The controller error a context error stands for (and forgets it). */
export function takeHostError(id: number | undefined): unknown {
  if (id === undefined) return undefined;
  const e = hostErrors.get(id);
  hostErrors.delete(id);
  return e;
}

/** Forgets controller errors that no expression let out (called when no evaluation runs). */
export function forgetHostErrors(): void {
  hostErrors.clear();
}

/**
 * Runs inside the context, once. `host` holds the controller functions; the returned object
 * holds context functions only.
 */
const BOOTSTRAP = String.raw`(function (host) {
  'use strict';
  const G = globalThis;
  const { keys, defineProperty, getPrototypeOf, freeze, getOwnPropertyNames, getOwnPropertySymbols, getOwnPropertyDescriptor, hasOwn, create } = Object;
  const isArray = Array.isArray;
  const CtxString = String, CtxError = Error, CtxMap = Map, CtxSet = Set, CtxWeakMap = WeakMap, CtxProxy = Proxy, CtxDate = Date, CtxRegExp = RegExp, CtxArray = Array;
  const ObjectProto = Object.prototype;
  const getTime = Date.prototype.getTime;
  const mapEntries = Map.prototype.entries, setValues = Set.prototype.values;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const hostObjectProto = host.objectProto;

  /** Context errors standing for controller errors -> the controller error's id. */
  const errorIds = new CtxWeakMap();
  /** Views of controller proxies -> the proxy (given back as is when an expression returns one). */
  const viewOf = new CtxWeakMap();

  function fail(r) {
    const e = new CtxError(r[2]);
    errorIds.set(e, r[1]);
    throw e;
  }

  function put(obj, k, v) {
    if (k in ObjectProto) defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
    else obj[k] = v;
  }

  /** A controller value -> the same data made of this context's objects. */
  function copyIn(v, seen) {
    if (typeof v !== 'object' || v === null) return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
    let out = seen.get(v);
    if (out !== undefined) return out;
    if (isArray(v)) {
      const n = v.length;
      out = new CtxArray(n);
      seen.set(v, out);
      for (let i = 0; i < n; i++) out[i] = copyIn(v[i], seen);
      return out;
    }
    const proto = getPrototypeOf(v);
    const kind = proto === hostObjectProto || proto === null ? undefined : host.classify(v);
    if (kind === undefined || kind[0] === 'object') {
      out = {};
      seen.set(v, out);
      const ks = keys(v);
      for (let i = 0; i < ks.length; i++) put(out, ks[i], copyIn(v[ks[i]], seen));
    } else if (kind[0] === 'proxy') {
      out = view(v, seen);
      seen.set(v, out);
    } else if (kind[0] === 'date') {
      out = new CtxDate(kind[1]);
      seen.set(v, out);
    } else if (kind[0] === 'regexp') {
      out = new CtxRegExp(kind[1], kind[2]);
      seen.set(v, out);
    } else if (kind[0] === 'map') {
      out = new CtxMap();
      seen.set(v, out);
      const es = kind[1];
      for (let i = 0; i < es.length; i++) out.set(copyIn(es[i][0], seen), copyIn(es[i][1], seen));
    } else if (kind[0] === 'set') {
      out = new CtxSet();
      seen.set(v, out);
      const xs = kind[1];
      for (let i = 0; i < xs.length; i++) out.add(copyIn(xs[i], seen));
    } else {
      out = kind[1];
      seen.set(v, out);
    }
    return out;
  }

  /** A read-only view of a controller proxy (vars, hostvars): each property read is copied in. */
  function view(p, seen) {
    const read = (t, k) => {
      if (typeof k !== 'string') return t[k];
      const r = host.viewGet(p, k);
      if (r[0] === 0) fail(r);
      return r[0] === 1 ? copyIn(r[1], seen) : t[k];
    };
    const has = (k) => typeof k === 'string' && host.viewHas(p, k) === true;
    const no = () => false;
    const v = new CtxProxy({}, {
      get: read,
      has: (t, k) => has(k),
      ownKeys: () => {
        const r = host.viewKeys(p);
        if (r[0] === 0) fail(r);
        const out = [];
        for (let i = 0; i < r[1].length; i++) out.push(String(r[1][i]));
        return out;
      },
      getOwnPropertyDescriptor: (t, k) => (has(k) ? { value: read(t, k), enumerable: true, configurable: true, writable: false } : undefined),
      set: no, defineProperty: no, deleteProperty: no, preventExtensions: no, setPrototypeOf: no,
    });
    viewOf.set(v, p);
    return v;
  }

  /** A context value -> controller data (runs user getters and proxies, inside the time bound). */
  function copyOut(v, seen) {
    if (typeof v !== 'object' || v === null) {
      if (typeof v === 'function') return host.functionFromExpression;
      return typeof v === 'symbol' ? undefined : v;
    }
    const p = viewOf.get(v);
    if (p !== undefined) return p;
    let out = seen.get(v);
    if (out !== undefined) return out;
    if (isArray(v)) {
      const n = v.length;
      out = host.newArray(n);
      seen.set(v, out);
      for (let i = 0; i < n; i++) out[i] = copyOut(v[i], seen);
      return out;
    }
    if (v instanceof CtxDate) out = host.newDate(call(getTime, v));
    else if (v instanceof CtxRegExp) out = host.newRegExp(v.source, v.flags);
    else if (v instanceof CtxMap) {
      out = host.newMap();
      seen.set(v, out);
      for (const [k, x] of call(mapEntries, v)) out.set(copyOut(k, seen), copyOut(x, seen));
      return out;
    } else if (v instanceof CtxSet) {
      out = host.newSet();
      seen.set(v, out);
      for (const x of call(setValues, v)) out.add(copyOut(x, seen));
      return out;
    } else {
      out = host.newObject();
      seen.set(v, out);
      const ks = keys(v);
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i], x = copyOut(v[k], seen);
        if (k === '__proto__') defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
        else out[k] = x;
      }
      return out;
    }
    seen.set(v, out);
    return out;
  }

  /** Helpers: the context's own built-ins, and wrappers around the controller's helpers. */
  const helpers = {};
  for (const name of host.builtinNames) helpers[name] = G[name];
  for (const name of host.helperNames) {
    helpers[name] = { [name](...args) {
      const r = host.callHelper(name, copyOut(args, new CtxMap()));
      if (r[0] === 0) fail(r);
      return copyIn(r[1], new CtxMap());
    } }[name];
  }
  freeze(helpers);

  function describe(e) {
    try {
      if (e instanceof CtxError) return String(e.name) + ': ' + String(e.message).split('\n')[0];
      return 'threw ' + String(e);
    } catch {
      return 'threw a value that cannot be shown';
    }
  }

  /** Reads names through a lookup, each once, copied in (helpers are the context's wrappers). */
  function reader(lookup) {
    const seen = new CtxMap();
    const names = new CtxMap();
    return (name) => {
      if (names.has(name)) return names.get(name);
      const r = host.lookupGet(lookup, name);
      if (r[0] === 0) fail(r);
      const v = r[0] === 1 ? copyIn(r[1], seen) : helpers[name];
      names.set(name, v);
      return v;
    };
  }

  /** Runs a compiled expression with lookups of one evaluation: [1, controller value] or [0, description, error id]. */
  function run(fn, lookup) {
    const get = reader(lookup);
    const typeOf = (name) => (host.lookupDefined(lookup, name) === true ? typeof get(name) : 'undefined');
    try {
      return [1, copyOut(fn(get, typeOf), new CtxMap())];
    } catch (e) {
      return [0, describe(e), errorIds.get(e)];
    }
  }

  /** Names of EJS's generated code: never looked up as variables. */
  const EJS_NAMES = new CtxSet(['__output', '__append', '__line', '__lines', '__filename', 'escapeFn', 'include', 'rethrow', 'locals']);
  /**
   * Global names of a fresh context. A template's sloppy assignments add others: they are removed
   * before each render (only templates see globals by name; listing them costs ~40 µs).
   */
  let globalNames; // set once bootstrapping is done
  function dropAddedGlobals() {
    for (const k of getOwnPropertyNames(G)) {
      if (globalNames.has(k)) continue;
      const d = getOwnPropertyDescriptor(G, k);
      if (d && d.configurable) delete G[k];
    }
  }
  /** <%= %> inserts the value as text (config files are not HTML). */
  const verbatim = (v) => (v === undefined || v === null ? '' : CtxString(v));

  /**
   * The object a template's with() reads its variables from: a getter for each name its code
   * mentions that has() defines (a plain object: with() lookups on a proxy cost a trap each,
   * and EJS's own names go through with() too).
   */
  function templateLocals(names, has, get) {
    const o = create(null);
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      if (!EJS_NAMES.has(k) && has(k)) defineProperty(o, k, { get: () => get(k), enumerable: true });
    }
    return o;
  }

  /**
   * Renders a compiled template (see compileTemplateInContext) with the variables of one lookup:
   * [1, text] or [0, description, error id, file, line]. include(path, data) asks the controller
   * for the included template and renders it the same way.
   */
  function runTemplate(fn, file, names, lookup) {
    dropAddedGlobals();
    const get = reader(lookup);
    const known = new CtxMap();
    const ask = (list) => {
      const todo = [];
      for (let i = 0; i < list.length; i++) if (!known.has(list[i]) && !EJS_NAMES.has(list[i])) todo.push(list[i]);
      if (!todo.length) return;
      const r = host.lookupDefinedAll(lookup, todo);
      for (let i = 0; i < todo.length; i++) known.set(todo[i], r[i] === true);
    };
    const has = (k) => known.get(k) === true;
    const where = new CtxWeakMap();
    let whereLast;
    const rethrow = (e, lines, filename, line) => {
      if ((typeof e === 'object' && e !== null) || typeof e === 'function') {
        if (!where.has(e)) where.set(e, [filename, line]);
      } else if (!whereLast) whereLast = [filename, line];
      throw e;
    };
    const render = (f, from, fNames, localsHas, localsGet) => {
      const include = (path, data) => {
        const r = host.includeTemplate(from, String(path));
        if (r[0] === 0) fail(r);
        ask(r[3]);
        const own = data !== undefined && data !== null ? data : {};
        const h = (k) => hasOwn(own, k) || localsHas(k);
        const g = (k) => (hasOwn(own, k) ? own[k] : localsGet(k));
        return render(r[1], r[2], r[3], h, g);
      };
      return f(templateLocals(fNames, localsHas, localsGet), verbatim, include, rethrow);
    };
    try {
      ask(names);
      return [1, CtxString(render(fn, file, names, has, get))];
    } catch (e) {
      const at = ((typeof e === 'object' && e !== null) || typeof e === 'function') && where.has(e) ? where.get(e) : whereLast;
      return [0, describe(e), errorIds.get(e), at ? at[0] : file, at ? at[1] : undefined];
    }
  }

  /**
   * Jinja templates (jinja-context.ts): nunjucks' runtime, loaded into this context on first use,
   * then frozen like the built-ins. Templates compiled by nunjucks' compiler on the controller
   * (text) are made into functions here (compileJinjaInContext) and run by jinja.render.
   */
  let jinja;
  function initJinja(factory, setup) {
    if (jinja) return [jinja.filterNames, jinja.testNames];
    const nunjucks = factory();
    const tools = freeze({
      fail,
      helpers,
      include: (from, name) => {
        const r = host.includeJinja(from, name);
        if (r[0] === 0) fail(r);
        return r;
      },
    });
    const j = setup(nunjucks, tools);
    deepFreeze(nunjucks);
    freeze(nunjucks);
    deepFreeze(j);
    jinja = freeze(j);
    return [jinja.filterNames, jinja.testNames];
  }

  /** Renders a compiled Jinja template with the variables of one lookup: like runTemplate. */
  function runJinja(props, file, lookup) {
    dropAddedGlobals();
    const get = reader(lookup);
    const known = new CtxMap();
    const has = (k) => {
      let v = known.get(k);
      if (v === undefined) {
        v = host.lookupDefined(lookup, k) === true;
        known.set(k, v);
      }
      return v;
    };
    try {
      return [1, CtxString(jinja.render(props, file, has, get))];
    } catch (e) {
      const at = jinja.where(e);
      return [0, describe(e), errorIds.get(e), at ? at[0] : file, at ? at[1] : undefined];
    }
  }

  /** Freezes every object reachable from the global object (prototypes, functions, accessors). */
  function deepFreeze(root) {
    const todo = [root];
    const done = new CtxSet();
    while (todo.length) {
      const o = todo.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || done.has(o)) continue;
      done.add(o);
      if (o !== root) freeze(o);
      todo.push(getPrototypeOf(o));
      for (const k of [...getOwnPropertyNames(o), ...getOwnPropertySymbols(o)]) {
        const d = getOwnPropertyDescriptor(o, k);
        if (!d) continue;
        if ('value' in d) todo.push(d.value);
        else todo.push(d.get, d.set);
      }
    }
  }
  defineProperty(G, '$tsplay$bounded', { value: () => host.boundedBody() });
  deepFreeze(G);
  // The global object itself cannot be frozen: make its bindings read-only (JSON = ... in a template changes nothing).
  for (const k of getOwnPropertyNames(G)) {
    const d = getOwnPropertyDescriptor(G, k);
    if (d && 'value' in d && d.configurable) defineProperty(G, k, { value: d.value, writable: false, enumerable: d.enumerable, configurable: false });
  }
  globalNames = new CtxSet(getOwnPropertyNames(G));
  return freeze({ run, runTemplate, initJinja, runJinja });
})`;

let instance: Context | undefined;

/** The body run by the next bounded() call (set just before it enters the context). */
let boundedBody: (() => void) | undefined;

function context(): Context {
  if (instance) return instance;
  const ctx = vm.createContext({}, { name: 'tsplay expressions', codeGeneration: { strings: false, wasm: false } });
  const host = Object.freeze({
    objectProto: Object.prototype,
    builtinNames: Object.freeze([...BUILTINS]),
    helperNames: Object.freeze([...helperFns.keys()]),
    functionFromExpression,
    boundedBody: () => boundedBody?.(),
    classify,
    lookupGet: (l: Lookup, name: string) => {
      const r = guarded(() => l.get(name));
      if (r[0] === 0) return r;
      if (r[1][0] === 1) l.handed?.(name, r[1][1]);
      return r[1];
    },
    lookupDefined: (l: Lookup, name: string) => {
      try {
        return l.defined(name);
      } catch {
        return false;
      }
    },
    viewGet: (p: Record<string, unknown>, k: string) => {
      const r = guarded(() => {
        const v = p[k];
        return typeof v === 'function' || (v === undefined && !(k in p)) ? [2] : [1, v];
      });
      if (r[0] === 0) return r;
      if (r[1][0] === 1) currentHanded?.(k, r[1][1]);
      return r[1];
    },
    viewHas: (p: Record<string, unknown>, k: string) => {
      try {
        return k in p;
      } catch {
        return false;
      }
    },
    viewKeys: (p: object) => guarded(() => Reflect.ownKeys(p).filter((k) => typeof k === 'string')),
    callHelper: (name: string, args: unknown[]) => guarded(() => helperFns.get(name)!(...args)),
    includeJinja: (from: string, name: string) => {
      const r = guarded(() => currentJinjaIncluder!(from, name));
      return r[0] === 0 ? r : [1, r[1].props, r[1].file];
    },
    includeTemplate: (from: string, path: string) => {
      const r = guarded(() => currentIncluder!(from, path));
      return r[0] === 0 ? r : [1, r[1].fn, r[1].file, r[1].names];
    },
    lookupDefinedAll: (l: Lookup, names: string[]) =>
      names.map((name) => {
        try {
          return l.defined(name);
        } catch {
          return false;
        }
      }),
    newArray: (n: number) => new Array(n),
    newObject: () => ({}),
    newDate: (t: number) => new Date(t),
    newRegExp: (source: string, flags: string) => new RegExp(source, flags),
    newMap: () => new Map(),
    newSet: () => new Set(),
  });
  const make = new vm.Script(BOOTSTRAP, { filename: 'tsplay-sandbox' }).runInContext(ctx) as (h: typeof host) => {
    run: Context['call'];
    runTemplate: (fn: CompiledTemplate, file: string, names: readonly string[], lookup: Lookup) => TemplateOutcome;
    initJinja: (factory: unknown, setup: unknown) => [string[], string[]];
    runJinja: (props: JinjaProps, file: string, lookup: Lookup) => TemplateOutcome;
  };
  const api = make(host);
  instance = {
    compile: (source) => new vm.Script(source, { filename: 'expression' }).runInContext(ctx) as CompiledExpr,
    call: (fn, lookup) => api.run(fn, lookup),
    compileTemplate: (source, file) => new vm.Script(`(function (locals, escapeFn, include, rethrow) {\n${source}\n})`, { filename: file, lineOffset: -1 }).runInContext(ctx) as CompiledTemplate,
    render: (t, lookup) => api.runTemplate(t.fn, t.file, t.names, lookup),
    startJinja: () => {
      if (jinjaNames) return jinjaNames;
      const names = api.initJinja(
        new vm.Script(`(function () { var module = { exports: {} }, exports = module.exports;\n${nunjucksRuntimeSource()}\nreturn module.exports; })`, { filename: 'nunjucks-slim.js' }).runInContext(ctx),
        new vm.Script(JINJA_CONTEXT_SOURCE, { filename: 'tsplay-jinja' }).runInContext(ctx),
      );
      jinjaNames = { filters: [...names[0]].map(String), tests: [...names[1]].map(String) };
      return jinjaNames;
    },
    compileJinja: (source, file) => {
      instance!.startJinja();
      return (new vm.Script(`(function () {\n${source}\n})`, { filename: file }).runInContext(ctx) as () => JinjaProps)();
    },
    renderJinja: (t, lookup) => api.runJinja(t.props, t.file, lookup),
  };
  trampoline = new vm.Script('$tsplay$bounded()', { filename: 'tsplay-bounded' });
  contextRef = ctx;
  return instance;
}

let jinjaNames: JinjaBuiltins | undefined;

/**
 * nunjucks' runtime without its compiler (its browser build, "slim"): the code that runs compiled
 * templates. Its SafeString assigns valueOf/toString over String.prototype's, and each SafeString
 * its length over its prototype's, which are frozen in the context: they are defined instead.
 */
function nunjucksRuntimeSource(): string {
  const text = readFileSync(createRequire(import.meta.url).resolve('nunjucks/browser/nunjucks-slim.js'), 'utf8');
  const at = 'SafeString.prototype = Object.create(String.prototype, {\n';
  if (!text.includes(at)) throw new Error('nunjucks-slim.js: SafeString not found (nunjucks version changed?)');
  const length = '  this.length = val.length;\n';
  if (!text.includes(length)) throw new Error('nunjucks-slim.js: SafeString length not found (nunjucks version changed?)');
  return text
    .replace(at, `${at}  valueOf: { writable: true, configurable: true, value: undefined },\n  toString: { writable: true, configurable: true, value: undefined },\n`)
    .replace(length, "  Object.defineProperty(this, 'length', { value: val.length, writable: true, configurable: true });\n");
}

let trampoline: vm.Script | undefined;
let contextRef: vm.Context | undefined;

/** Who gets the controller values read through views (vars, hostvars) during the current evaluation. */
let currentHanded: ((label: string, value: unknown) => void) | undefined;

export function setHandedListener(fn: ((label: string, value: unknown) => void) | undefined): typeof currentHanded {
  const before = currentHanded;
  currentHanded = fn;
  return before;
}

/** Compiles `(function (GET, TYPEOF) { ... })` source inside the context. Throws SyntaxError. */
export function compileInContext(source: string): CompiledExpr {
  return context().compile(source);
}

/** Runs a compiled expression: [1, controller value] or [0, one-line description, controller error id]. */
export function callInContext(fn: CompiledExpr, lookup: Lookup): Outcome {
  return context().call(fn, lookup);
}

/**
 * Compiles the body of an EJS template function (EJS's generated source, non-strict: it uses
 * `with`) inside the context. Throws SyntaxError.
 */
export function compileTemplateInContext(source: string, file: string): CompiledTemplate {
  return context().compileTemplate(source, file);
}

/**
 * Makes the functions of a Jinja template from the JavaScript nunjucks' compiler generated for
 * it (on the controller, as text), inside the context. Loads nunjucks' runtime there on first use.
 */
export function compileJinjaInContext(source: string, file: string): JinjaProps {
  return context().compileJinja(source, file);
}

/** The names of the filters and tests of Jinja templates (loads nunjucks' runtime into the context). */
export function jinjaBuiltins(): JinjaBuiltins {
  return context().startJinja();
}

/** Who resolves Jinja includes during the current render. */
let currentJinjaIncluder: JinjaIncluder | undefined;

/** Renders a compiled Jinja template (see renderInContext). */
export function renderJinjaInContext(t: SandboxJinja, lookup: Lookup, include: JinjaIncluder): TemplateOutcome {
  const ctx = context();
  const before = currentJinjaIncluder;
  currentJinjaIncluder = include;
  try {
    return ctx.renderJinja(t, lookup);
  } finally {
    currentJinjaIncluder = before;
  }
}

/** Who resolves include() during the current render. */
let currentIncluder: TemplateIncluder | undefined;

/**
 * Renders a compiled template with the variables of `lookup` (names the template uses that no
 * variable or helper defines are the context's globals, or a ReferenceError). Not bounded in
 * time by itself: callers wrap it in bounded().
 */
export function renderInContext(t: SandboxTemplate, lookup: Lookup, include: TemplateIncluder): TemplateOutcome {
  const ctx = context();
  const before = currentIncluder;
  currentIncluder = include;
  try {
    return ctx.render(t, lookup);
  } finally {
    currentIncluder = before;
  }
}

let inBound = false;

/** True while a bounded() call runs (code run now is already under a deadline). */
export function isBounded(): boolean {
  return inBound;
}

/** Thrown by bounded() when the deadline passed. */
export class DeadlineExceeded extends Error {}

/**
 * Runs fn with a deadline of `seconds`. Past it, every frame between here and the code that was
 * running is abandoned (JavaScript `finally` blocks do not run): callers restore their state.
 */
export function bounded<T>(seconds: number, fn: () => T): T {
  if (inBound) return fn();
  context();
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  boundedBody = () => {
    try {
      result = { ok: true, value: fn() };
    } catch (e) {
      result = { ok: false, error: e };
    }
  };
  inBound = true;
  try {
    trampoline!.runInContext(contextRef!, { timeout: Math.max(1, Math.round(seconds * 1000)) });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new DeadlineExceeded(`did not finish in ${seconds} s`);
    throw e;
  } finally {
    inBound = false;
    boundedBody = undefined;
  }
  if (!result) throw new DeadlineExceeded(`did not finish in ${seconds} s`);
  if (!result.ok) throw result.error;
  return result.value;
}

/** Controller values that globals.ts shares with the context under the same name: the context uses its own. */
const BUILTINS = ['Math', 'JSON', 'String', 'Number', 'Boolean', 'Array', 'Object', 'Date', 'RegExp', 'Map', 'Set', 'Error', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI', 'undefined', 'NaN', 'Infinity'];

const helperFns = new Map<string, (...args: unknown[]) => unknown>();

/** Registers the helpers (globals.ts) the context calls by name; built-ins are the context's own. */
export function setHelpers(all: Readonly<Record<string, unknown>>): void {
  const fns = Object.entries(all).filter(([name, v]) => !BUILTINS.includes(name) && typeof v === 'function');
  // A second copy of expr.ts (a project module loaded through tsx imports its own) registers
  // the same names again: that is fine. The context's helper list is fixed once it started.
  const added = fns.filter(([name]) => !helperFns.has(name)).map(([name]) => name);
  if (instance && added.length) throw new Error(`setHelpers after the sandbox started: ${added.join(', ')}`);
  for (const [name, v] of fns) if (!helperFns.has(name)) helperFns.set(name, v as (...args: unknown[]) => unknown);
}

/** What kind of controller object this is, for copyIn (only for objects that are not plain). */
function classify(v: object): unknown[] {
  try {
    if (types.isProxy(v)) return ['proxy'];
    if (v instanceof Date) return ['date', v.getTime()];
    if (v instanceof RegExp) return ['regexp', v.source, v.flags];
    if (v instanceof Map) return ['map', [...v.entries()]];
    if (v instanceof Set) return ['set', [...v.values()]];
    if (v instanceof Secret) return ['value', v.value];
    return ['object'];
  } catch {
    return ['value', undefined];
  }
}
