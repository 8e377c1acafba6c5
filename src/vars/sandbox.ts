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
import { Secret } from '../core/secret.js';

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

interface Context {
  compile(source: string): CompiledExpr;
  call(fn: CompiledExpr, lookup: Lookup): Outcome;
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
  const { keys, defineProperty, getPrototypeOf, freeze, getOwnPropertyNames, getOwnPropertySymbols, getOwnPropertyDescriptor } = Object;
  const isArray = Array.isArray;
  const CtxError = Error, CtxMap = Map, CtxSet = Set, CtxWeakMap = WeakMap, CtxProxy = Proxy, CtxDate = Date, CtxRegExp = RegExp, CtxArray = Array;
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

  /** Runs a compiled expression with lookups of one evaluation: [1, controller value] or [0, description, error id]. */
  function run(fn, lookup) {
    const seen = new CtxMap();
    const names = new CtxMap();
    const get = (name) => {
      if (names.has(name)) return names.get(name);
      const r = host.lookupGet(lookup, name);
      if (r[0] === 0) fail(r);
      const v = r[0] === 1 ? copyIn(r[1], seen) : helpers[name];
      names.set(name, v);
      return v;
    };
    const typeOf = (name) => (host.lookupDefined(lookup, name) === true ? typeof get(name) : 'undefined');
    try {
      return [1, copyOut(fn(get, typeOf), new CtxMap())];
    } catch (e) {
      return [0, describe(e), errorIds.get(e)];
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
  return freeze({ run });
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
    newArray: (n: number) => new Array(n),
    newObject: () => ({}),
    newDate: (t: number) => new Date(t),
    newRegExp: (source: string, flags: string) => new RegExp(source, flags),
    newMap: () => new Map(),
    newSet: () => new Set(),
  });
  const make = new vm.Script(BOOTSTRAP, { filename: 'tsplay-sandbox' }).runInContext(ctx) as (h: typeof host) => { run: Context['call'] };
  const api = make(host);
  instance = {
    compile: (source) => new vm.Script(source, { filename: 'expression' }).runInContext(ctx) as CompiledExpr,
    call: (fn, lookup) => api.run(fn, lookup),
  };
  trampoline = new vm.Script('$tsplay$bounded()', { filename: 'tsplay-bounded' });
  contextRef = ctx;
  return instance;
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
