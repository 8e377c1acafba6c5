/**
 * The code that runs Jinja templates inside the expression sandbox (sandbox.ts): it is given
 * nunjucks' runtime (its "slim" build, loaded into the context) and returns `render`, and the
 * sandbox freezes both. Nothing here runs in the controller's realm.
 *
 * nunjucks runs Jinja syntax with JavaScript values; this setup makes the values behave as
 * Ansible's Jinja does where templates show it:
 * - undefined variables and missing attributes are values that fail when used (printed,
 *   iterated, compared, filtered), as Ansible's StrictUndefined, and are fine for
 *   `is defined` / `default(...)`; the failure of a variable is the controller's
 *   UndefinedVariableError (with its did-you-mean);
 * - Python's truthiness (`[]` and `{}` are false), `str()` of values (True, None, ['a', 1]),
 *   `==` (deep, no coercion), `in`, `+` on lists, `*` and `%` on strings;
 * - Python methods of str, list and dict (`.split()`, `.startswith()`, `.items()`, `.get()`);
 * - Ansible's filters and tests (the list in docs/modules/template.md).
 * The compiler side (src/playbook/jinja.ts) emits calls to the `runtime.j*` functions added here.
 */
export const JINJA_CONTEXT_SOURCE = String.raw`(function (nunjucks, tools) {
  'use strict';
  const { fail, helpers } = tools;
  const runtime = nunjucks.runtime, lib = nunjucks.lib;
  const { Environment, Template } = nunjucks;
  const CtxWeakSet = WeakSet, CtxError = Error, CtxString = String, CtxNumber = Number, CtxMap = Map, CtxSet = Set, CtxWeakMap = WeakMap, CtxProxy = Proxy, CtxRegExp = RegExp, CtxArray = Array, CtxJSON = JSON, CtxMath = Math;
  const { keys, create, defineProperty, getPrototypeOf, getOwnPropertyDescriptor, hasOwn, freeze } = Object;
  const isArray = Array.isArray;

  // ---------------------------------------------------------------------------------------
  // Undefined values

  /** A name or attribute that is not there: fails when used, like Ansible's StrictUndefined. */
  function Undefined(raise, hint) {
    this.raise = raise;
    this.hint = hint;
  }
  const isUndef = (v) => v instanceof Undefined;
  function touch(v) {
    if (v instanceof Undefined) {
      v.raise();
      throw new CtxError(v.hint);
    }
    return v;
  }
  /** The current render (variables read through the controller). */
  let current;
  function missingVar(name) {
    const get = current && current.get;
    return new Undefined(() => {
      if (get) get(name);
    }, "'" + name + "' is undefined");
  }
  function typeName(o) {
    if (o === null || o === undefined) return 'None';
    if (typeof o === 'string') return 'str object';
    if (typeof o === 'number') return (CtxNumber.isInteger(o) ? 'int' : 'float') + ' object';
    if (typeof o === 'boolean') return 'bool object';
    if (isArray(o)) return 'list object';
    return 'dict object';
  }
  function missingAttr(obj, key) {
    const msg = "'" + typeName(obj) + "' has no attribute '" + CtxString(key) + "'";
    return new Undefined(() => {
      throw new CtxError(msg);
    }, msg);
  }

  // ---------------------------------------------------------------------------------------
  // Python semantics of values

  const isMapping = (v) => typeof v === 'object' && v !== null && !isArray(v) && !(v instanceof CtxSet) && !(v instanceof CtxRegExp) && !(v instanceof Undefined) && !(v instanceof runtime.SafeString);
  function truthy(v) {
    touch(v);
    if (v === undefined || v === null || v === false) return false;
    if (v === true) return true;
    if (typeof v === 'number') return v !== 0 && v === v;
    if (typeof v === 'string') return v.length > 0;
    if (v instanceof runtime.SafeString) return CtxString(v).length > 0;
    if (isArray(v)) return v.length > 0;
    if (v instanceof CtxMap || v instanceof CtxSet) return v.size > 0;
    if (typeof v === 'object') return keys(v).length > 0;
    return true;
  }
  function pyNumber(n) {
    if (n !== n) return 'nan';
    if (n === Infinity) return 'inf';
    if (n === -Infinity) return '-inf';
    return CtxString(n);
  }
  /** Lists that are Python tuples (they print as (a, b)). */
  const tuples = new CtxWeakSet();
  function tuple(a) {
    tuples.add(a);
    return a;
  }
  function repr(v, seen) {
    if (typeof v === 'string') {
      const q = v.includes("'") && !v.includes('"') ? '"' : "'";
      let out = '';
      for (const c of v) {
        if (c === '\\') out += '\\\\';
        else if (c === q) out += '\\' + q;
        else if (c === '\n') out += '\\n';
        else if (c === '\r') out += '\\r';
        else if (c === '\t') out += '\\t';
        else out += c;
      }
      return q + out + q;
    }
    return str(v, seen, true);
  }
  /** Python's str() of a value (what {{ }} prints). */
  function str(v, seen, inner) {
    if (v instanceof Undefined) return touch(v);
    if (v === undefined || v === null) return inner || v === null ? 'None' : '';
    if (typeof v === 'string') return v;
    if (v === true) return 'True';
    if (v === false) return 'False';
    if (typeof v === 'number') return pyNumber(v);
    if (typeof v === 'function') return '<function>';
    if (v instanceof runtime.SafeString) return CtxString(v);
    seen = seen || new CtxSet();
    if (seen.has(v)) return isArray(v) ? '[...]' : '{...}';
    seen.add(v);
    try {
      if (isArray(v) && tuples.has(v)) return '(' + v.map((x) => repr(x, seen)).join(', ') + (v.length === 1 ? ',)' : ')');
      if (isArray(v)) return '[' + v.map((x) => repr(x, seen)).join(', ') + ']';
      if (v instanceof CtxSet) return '{' + [...v].map((x) => repr(x, seen)).join(', ') + '}';
      if (v instanceof CtxMap) return '{' + [...v].map(([k, x]) => repr(k, seen) + ': ' + repr(x, seen)).join(', ') + '}';
      return '{' + keys(v).map((k) => repr(k, seen) + ': ' + repr(v[k], seen)).join(', ') + '}';
    } finally {
      seen.delete(v);
    }
  }
  function equal(a, b) {
    touch(a);
    touch(b);
    if (a === b) return true;
    if (typeof a === 'boolean' && typeof b === 'number') return (a ? 1 : 0) === b;
    if (typeof b === 'boolean' && typeof a === 'number') return (b ? 1 : 0) === a;
    if (a instanceof runtime.SafeString) a = CtxString(a);
    if (b instanceof runtime.SafeString) b = CtxString(b);
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b || (a === undefined && b === null) || (a === null && b === undefined);
    if (isArray(a) !== isArray(b)) return false;
    if (isArray(a)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
    const ka = keys(a), kb = keys(b);
    return ka.length === kb.length && ka.every((k) => hasOwn(b, k) && equal(a[k], b[k]));
  }
  function compare(a, op, b) {
    switch (op) {
      case '==': return equal(a, b);
      case '!=': return !equal(a, b);
    }
    touch(a);
    touch(b);
    if (isArray(a) && isArray(b)) {
      for (let i = 0; i < CtxMath.min(a.length, b.length); i++) if (!equal(a[i], b[i])) return compare(a[i], op, b[i]);
      return compare(a.length, op, b.length);
    }
    if (typeof a !== typeof b && !(typeof a === 'number' && typeof b === 'boolean') && !(typeof a === 'boolean' && typeof b === 'number')) {
      throw new CtxError("'" + op + "' not supported between instances of '" + typeName(a).split(' ')[0] + "' and '" + typeName(b).split(' ')[0] + "'");
    }
    switch (op) {
      case '<': return a < b;
      case '<=': return a <= b;
      case '>': return a > b;
      case '>=': return a >= b;
    }
    throw new CtxError('unknown comparison ' + op);
  }
  function contains(container, item) {
    touch(container);
    touch(item);
    if (typeof container === 'string') {
      if (typeof item !== 'string') throw new CtxError("'in <string>' requires string as left operand, not " + typeName(item).split(' ')[0]);
      return container.includes(item);
    }
    if (isArray(container)) return container.some((x) => equal(x, item));
    if (container instanceof CtxSet) return [...container].some((x) => equal(x, item));
    if (container instanceof CtxMap) return container.has(item);
    if (container && typeof container === 'object') return typeof item === 'string' || typeof item === 'number' ? CtxString(item) in container : false;
    throw new CtxError("argument of type '" + typeName(container).split(' ')[0] + "' is not iterable");
  }
  function list(v) {
    touch(v);
    if (v === undefined || v === null) throw new CtxError("'NoneType' object is not iterable");
    if (isArray(v)) return v;
    if (typeof v === 'string') return [...v];
    if (v instanceof CtxMap) return [...v.keys()];
    if (v instanceof CtxSet) return [...v];
    if (typeof v === 'object') return keys(v);
    throw new CtxError("'" + typeName(v) + "' is not iterable");
  }
  function add(a, b) {
    touch(a);
    touch(b);
    if (isArray(a) && isArray(b)) return a.concat(b);
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (typeof a === 'number' || typeof a === 'boolean') {
      if (typeof b === 'number' || typeof b === 'boolean') return a + b;
    }
    if (a instanceof runtime.SafeString || b instanceof runtime.SafeString) return CtxString(a) + CtxString(b);
    throw new CtxError("unsupported operand type(s) for +: '" + typeName(a).split(' ')[0] + "' and '" + typeName(b).split(' ')[0] + "'");
  }
  function mul(a, b) {
    touch(a);
    touch(b);
    if (typeof a === 'string' && typeof b === 'number') return b > 0 ? a.repeat(b) : '';
    if (typeof b === 'string' && typeof a === 'number') return a > 0 ? b.repeat(a) : '';
    if (isArray(a) && typeof b === 'number') {
      let out = [];
      for (let i = 0; i < b; i++) out = out.concat(a);
      return out;
    }
    return a * b;
  }
  /** Python's printf-style formatting: '%s=%d' % (a, b). */
  function format(fmt, args) {
    const values = isArray(args) ? args.slice() : [args];
    const named = isMapping(args) ? args : undefined;
    let i = 0;
    return fmt.replace(/%(?:\(([^)]*)\))?([-+ 0#]*)(\d+|\*)?(?:\.(\d+))?([sdirfFeExXoc%])/g, (m, name, flags, width, prec, conv) => {
      if (conv === '%') return '%';
      let v = name !== undefined && named ? named[name] : values[i++];
      touch(v);
      let s;
      switch (conv) {
        case 's': s = str(v); break;
        case 'r': s = repr(v); break;
        case 'd': case 'i': s = CtxString(CtxMath.trunc(CtxNumber(v))); break;
        case 'f': case 'F': s = CtxNumber(v).toFixed(prec === undefined ? 6 : CtxNumber(prec)); break;
        case 'e': case 'E': s = CtxNumber(v).toExponential(prec === undefined ? 6 : CtxNumber(prec)).replace(/e([+-])(\d)$/, 'e$10$2'); if (conv === 'E') s = s.toUpperCase(); break;
        case 'x': s = CtxMath.trunc(CtxNumber(v)).toString(16); break;
        case 'X': s = CtxMath.trunc(CtxNumber(v)).toString(16).toUpperCase(); break;
        case 'o': s = CtxMath.trunc(CtxNumber(v)).toString(8); break;
        case 'c': s = typeof v === 'number' ? CtxString.fromCharCode(v) : CtxString(v); break;
      }
      if (conv === 's' && prec !== undefined) s = s.slice(0, CtxNumber(prec));
      if (flags.includes('+') && /^[dif]$/.test(conv) && !s.startsWith('-')) s = '+' + s;
      const w = width === undefined ? 0 : CtxNumber(width);
      if (s.length < w) {
        if (flags.includes('-')) s = s.padEnd(w);
        else if (flags.includes('0') && conv !== 's') s = s.startsWith('-') ? '-' + s.slice(1).padStart(w - 1, '0') : s.padStart(w, '0');
        else s = s.padStart(w);
      }
      return s;
    });
  }
  function mod(a, b) {
    touch(a);
    touch(b);
    if (typeof a === 'string') return format(a, b);
    const r = a % b;
    return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
  }

  // ---------------------------------------------------------------------------------------
  // Python methods of str, list and dict

  const ws = /\s+/;
  function pyStrip(s, chars, left, right) {
    const set = chars === undefined || chars === null ? null : CtxString(chars);
    const strip = (c) => (set === null ? /\s/.test(c) : set.includes(c));
    let a = 0, b = s.length;
    if (left) while (a < b && strip(s[a])) a++;
    if (right) while (b > a && strip(s[b - 1])) b--;
    return s.slice(a, b);
  }
  function pySplit(s, sep, maxsplit) {
    const max = maxsplit === undefined || maxsplit === null ? -1 : maxsplit;
    if (sep === undefined || sep === null) {
      const words = pyStrip(s, null, true, false);
      if (!words) return [];
      if (max < 0) return pyStrip(words, null, false, true).split(ws);
      const out = [];
      let rest = words;
      while (out.length < max) {
        const m = ws.exec(rest);
        if (!m) break;
        out.push(rest.slice(0, m.index));
        rest = pyStrip(rest.slice(m.index), null, true, false);
        if (!rest) return out;
      }
      out.push(rest);
      return out;
    }
    sep = CtxString(sep);
    if (!sep) throw new CtxError('empty separator');
    const parts = s.split(sep);
    if (max < 0 || parts.length <= max + 1) return parts;
    return [...parts.slice(0, max), parts.slice(max).join(sep)];
  }
  function pyRsplit(s, sep, maxsplit) {
    const max = maxsplit === undefined || maxsplit === null ? -1 : maxsplit;
    if (max < 0) return pySplit(s, sep);
    if (sep === undefined || sep === null) {
      const parts = pySplit(s);
      if (parts.length <= max + 1) return parts;
      const head = pyStrip(s, null, false, true);
      let cut = head.length;
      for (let n = 0; n < max; n++) {
        cut = head.slice(0, cut).search(/\s+\S*$/);
      }
      return [pyStrip(head.slice(0, cut), null, false, true), ...parts.slice(parts.length - max)];
    }
    const parts = s.split(CtxString(sep));
    if (parts.length <= max + 1) return parts;
    return [parts.slice(0, parts.length - max).join(sep), ...parts.slice(parts.length - max)];
  }
  const prefixes = (p) => (isArray(p) ? p.map(CtxString) : [CtxString(p)]);
  const STR = {
    split: (s, sep, max) => pySplit(s, sep, max),
    rsplit: (s, sep, max) => pyRsplit(s, sep, max),
    splitlines: (s) => (s === '' ? [] : s.replace(/\r\n?|\n$/g, (m) => (m === '\n' ? '' : '\n')).split('\n')),
    strip: (s, c) => pyStrip(s, c, true, true),
    lstrip: (s, c) => pyStrip(s, c, true, false),
    rstrip: (s, c) => pyStrip(s, c, false, true),
    startswith: (s, p) => prefixes(p).some((x) => s.startsWith(x)),
    endswith: (s, p) => prefixes(p).some((x) => s.endsWith(x)),
    upper: (s) => s.toUpperCase(),
    lower: (s) => s.toLowerCase(),
    capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
    title: (s) => s.replace(/[A-Za-z]+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
    replace: (s, a, b, count) => {
      a = CtxString(a);
      b = CtxString(b);
      if (count === undefined || count < 0) return s.split(a).join(b);
      const parts = s.split(a);
      return parts.slice(0, count + 1).join(b) + (parts.length > count + 1 ? a + parts.slice(count + 1).join(a) : '');
    },
    join: (s, items) => list(items).map((x) => {
      if (typeof x !== 'string') throw new CtxError('sequence item: expected str instance, ' + typeName(x).split(' ')[0] + ' found');
      return x;
    }).join(s),
    find: (s, sub) => s.indexOf(CtxString(sub)),
    rfind: (s, sub) => s.lastIndexOf(CtxString(sub)),
    index: (s, sub) => {
      const i = s.indexOf(CtxString(sub));
      if (i < 0) throw new CtxError('substring not found');
      return i;
    },
    count: (s, sub) => (CtxString(sub) ? s.split(CtxString(sub)).length - 1 : s.length + 1),
    isdigit: (s) => /^[0-9]+$/.test(s),
    isalpha: (s) => /^[A-Za-z]+$/.test(s),
    isalnum: (s) => /^[A-Za-z0-9]+$/.test(s),
    isspace: (s) => /^\s+$/.test(s),
    islower: (s) => /[a-z]/.test(s) && s === s.toLowerCase(),
    isupper: (s) => /[A-Z]/.test(s) && s === s.toUpperCase(),
    zfill: (s, w) => (s.startsWith('-') || s.startsWith('+') ? s[0] + s.slice(1).padStart(w - 1, '0') : s.padStart(w, '0')),
    ljust: (s, w, f) => s.padEnd(w, f === undefined ? ' ' : f),
    rjust: (s, w, f) => s.padStart(w, f === undefined ? ' ' : f),
    center: (s, w, f) => centered(s, w, f),
    format: (s, ...args) => {
      const kw = kwargs(args);
      let i = 0;
      return s.replace(/\{\{|\}\}|\{([^{}:!]*)(?:![rs])?(?::([^{}]*))?\}/g, (m, field) => {
        if (m === '{{') return '{';
        if (m === '}}') return '}';
        const v = field === '' ? args[i++] : /^\d+$/.test(field) ? args[CtxNumber(field)] : kw[field];
        return str(v);
      });
    },
  };
  const LIST = {
    append: (l, x) => { l.push(x); return null; },
    extend: (l, xs) => { for (const x of list(xs)) l.push(x); return null; },
    insert: (l, i, x) => { l.splice(i, 0, x); return null; },
    pop: (l, i) => {
      if (!l.length) throw new CtxError('pop from empty list');
      return i === undefined ? l.pop() : l.splice(i < 0 ? l.length + i : i, 1)[0];
    },
    remove: (l, x) => {
      const i = l.findIndex((y) => equal(x, y));
      if (i < 0) throw new CtxError('list.remove(x): x not in list');
      l.splice(i, 1);
      return null;
    },
    index: (l, x) => {
      const i = l.findIndex((y) => equal(x, y));
      if (i < 0) throw new CtxError(repr(x) + ' is not in list');
      return i;
    },
    count: (l, x) => l.filter((y) => equal(x, y)).length,
    copy: (l) => l.slice(),
    reverse: (l) => { l.reverse(); return null; },
    sort: (l) => { l.sort((a, b) => (compare(a, '<', b) ? -1 : compare(b, '<', a) ? 1 : 0)); return null; },
  };
  const DICT = {
    items: (d) => keys(d).map((k) => tuple([k, d[k]])),
    keys: (d) => keys(d),
    values: (d) => keys(d).map((k) => d[k]),
    get: (d, k, dflt) => (CtxString(k) in d ? d[k] : dflt === undefined ? null : dflt),
    copy: (d) => {
      const o = {};
      for (const k of keys(d)) put(o, k, d[k]);
      return o;
    },
    update: (d, ...args) => {
      for (const o of args) if (o && typeof o === 'object') for (const k of keys(o)) if (k !== '__keywords') put(d, k, o[k]);
      return null;
    },
    pop: (d, k, dflt) => {
      if (!(k in d)) {
        if (dflt === undefined) throw new CtxError('KeyError: ' + repr(k));
        return dflt;
      }
      const v = d[k];
      delete d[k];
      return v;
    },
    setdefault: (d, k, dflt) => {
      if (!(k in d)) put(d, k, dflt === undefined ? null : dflt);
      return d[k];
    },
    has_key: (d, k) => hasOwn(d, k),
  };
  DICT.iteritems = DICT.items;
  DICT.iterkeys = DICT.keys;
  DICT.itervalues = DICT.values;
  function put(o, k, v) {
    defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  function method(table, obj, name) {
    const f = table[name];
    return function () {
      const args = [];
      for (let i = 0; i < arguments.length; i++) args.push(arguments[i]);
      return f(obj, ...args);
    };
  }
  function slice(obj, start, stop, step) {
    touch(obj);
    const seq = typeof obj === 'string' ? [...obj] : list(obj);
    const n = seq.length;
    step = step === null || step === undefined ? 1 : step;
    if (step === 0) throw new CtxError('slice step cannot be zero');
    const norm = (i, dflt) => {
      if (i === null || i === undefined) return dflt;
      if (i < 0) i += n;
      return step > 0 ? CtxMath.min(CtxMath.max(i, 0), n) : CtxMath.min(CtxMath.max(i, -1), n - 1);
    };
    const a = norm(start, step > 0 ? 0 : n - 1), b = norm(stop, step > 0 ? n : -1);
    const out = [];
    for (let i = a; step > 0 ? i < b : i > b; i += step) out.push(seq[i]);
    return typeof obj === 'string' ? out.join('') : out;
  }
  function member(obj, key) {
    if (obj instanceof Undefined) return obj; // foo.bar is defined: false when foo is not
    touch(key);
    if (obj === undefined || obj === null) throw new CtxError("'None' has no attribute '" + CtxString(key) + "'");
    if (typeof obj === 'string') {
      if (typeof key === 'number') {
        const c = obj[key < 0 ? obj.length + key : key];
        if (c === undefined) throw new CtxError('string index out of range');
        return c;
      }
      if (hasOwn(STR, key)) return method(STR, obj, key);
      return missingAttr(obj, key);
    }
    if (isArray(obj)) {
      if (typeof key === 'number') {
        const i = key < 0 ? obj.length + key : key;
        return i >= 0 && i < obj.length ? obj[i] : missingAttr(obj, key);
      }
      if (hasOwn(LIST, key)) return method(LIST, obj, key);
      return missingAttr(obj, key);
    }
    if (typeof obj === 'object' || typeof obj === 'function') {
      if (typeof key === 'string' && hasOwn(DICT, key) && isMapping(obj)) return method(DICT, obj, key);
      const k = typeof key === 'number' ? CtxString(key) : key;
      if (obj instanceof CtxMap) return obj.has(key) ? obj.get(key) : missingAttr(obj, key);
      if (typeof k === 'string' && k in obj) {
        const v = obj[k];
        if (typeof v === 'function') return runtime.jOrigMember(obj, k);
        return v;
      }
      return missingAttr(obj, key);
    }
    return missingAttr(obj, key);
  }

  // ---------------------------------------------------------------------------------------
  // Runtime: where errors happened, lookups, output

  /** Error -> [template file, line] of where it was thrown (the innermost template). */
  const lines = new CtxWeakMap();
  const files = new CtxWeakMap();
  const origMember = runtime.memberLookup;
  runtime.jOrigMember = origMember;
  runtime.handleError = function (e, lineno) {
    if ((typeof e !== 'object' && typeof e !== 'function') || e === null) e = new CtxError(CtxString(e));
    if (!lines.has(e)) lines.set(e, lineno + 1);
    return e;
  };
  lib._prettifyError = function (path, dev, e) {
    if ((typeof e === 'object' || typeof e === 'function') && e !== null && !files.has(e)) files.set(e, path);
    return e;
  };
  runtime.contextOrFrameLookup = function (context, frame, name) {
    const v = frame.lookup(name);
    if (v !== undefined) return v;
    if (name in context.ctx) return context.ctx[name];
    if (hasOwn(context.env.globals, name)) return context.env.globals[name];
    if (name === 'True') return true;
    if (name === 'False') return false;
    if (name === 'None') return null;
    return missingVar(name);
  };
  runtime.memberLookup = function (obj, key, start, stop, step) {
    if (arguments.length === 4) return slice(obj, key, start, stop);
    return member(obj, key);
  };
  runtime.suppressValue = (v) => str(v);
  runtime.ensureDefined = (v) => touch(v);
  runtime.fromIterator = (v) => list(v);
  runtime.inOperator = (item, container) => contains(container, item);
  runtime.jTruthy = truthy;
  runtime.jCompare = function (first, rest) {
    let left = first;
    for (let i = 0; i < rest.length; i += 2) {
      if (!compare(left, rest[i], rest[i + 1])) return false;
      left = rest[i + 1];
    }
    return true;
  };
  runtime.jOr = (a, b) => (truthy(a) ? a : b());
  runtime.jAnd = (a, b) => (truthy(a) ? b() : a);
  runtime.jAdd = add;
  runtime.jTuple = tuple;
  runtime.jMul = mul;
  runtime.jMod = mod;
  runtime.jConcat = (a, b) => str(a) + str(b);
  runtime.jFloorDiv = (a, b) => {
    touch(a);
    touch(b);
    if (b === 0) throw new CtxError('integer division or modulo by zero');
    return CtxMath.floor(a / b);
  };

  // ---------------------------------------------------------------------------------------
  // Filters

  function kwargs(args) {
    const last = args[args.length - 1];
    if (last && typeof last === 'object' && hasOwn(last, '__keywords')) {
      args.pop();
      const o = {};
      for (const k of keys(last)) if (k !== '__keywords') o[k] = last[k];
      return o;
    }
    return {};
  }
  /** fn's positional parameters, filled from positional then keyword arguments. */
  function params(args, names) {
    const kw = kwargs(args);
    const out = [];
    for (let i = 0; i < names.length; i++) out.push(i < args.length ? args[i] : hasOwn(kw, names[i]) ? kw[names[i]] : undefined);
    for (const k of keys(kw)) if (!names.includes(k)) throw new CtxError('unexpected keyword argument ' + repr(k));
    return out;
  }
  function centered(s, w, f) {
    const fill = f === undefined ? ' ' : f;
    const total = w - s.length;
    if (total <= 0) return s;
    const left = CtxMath.floor(total / 2) + (total & w & 1);
    return fill.repeat(left) + s + fill.repeat(total - left);
  }
  function attrGetter(attribute) {
    const path = CtxString(attribute).split('.');
    return (x) => {
      let v = x;
      for (const p of path) v = member(v, /^\d+$/.test(p) && isArray(v) ? CtxNumber(p) : p);
      return v;
    };
  }
  function toInt(v, dflt, base) {
    touch(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number') return CtxNumber.isFinite(v) ? CtxMath.trunc(v) : dflt;
    const s = CtxString(v).trim().replace(/_/g, '');
    const b = base === undefined ? 10 : base;
    const re = b === 16 ? /^[-+]?(0x)?[0-9a-f]+$/i : b === 8 ? /^[-+]?(0o)?[0-7]+$/i : b === 2 ? /^[-+]?(0b)?[01]+$/i : /^[-+]?\d+$/;
    if (re.test(s)) return parseInt(s.replace(/^([-+]?)0[xob]/i, '$1'), b);
    const f = toFloat(s, null);
    return f === null ? dflt : CtxMath.trunc(f);
  }
  function toFloat(v, dflt) {
    touch(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number') return v;
    const s = CtxString(v).trim().toLowerCase();
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) return CtxNumber(s);
    if (/^[-+]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[-+]?nan$/.test(s)) return NaN;
    return dflt;
  }
  function jsonString(s, ascii) {
    let out = '"';
    for (const c of s) {
      const code = c.codePointAt(0);
      if (c === '"') out += '\\"';
      else if (c === '\\') out += '\\\\';
      else if (c === '\n') out += '\\n';
      else if (c === '\r') out += '\\r';
      else if (c === '\t') out += '\\t';
      else if (c === '\b') out += '\\b';
      else if (c === '\f') out += '\\f';
      else if (code < 0x20 || (ascii && code > 0x7e)) {
        if (code > 0xffff) {
          const h = CtxMath.floor((code - 0x10000) / 0x400) + 0xd800, l = ((code - 0x10000) % 0x400) + 0xdc00;
          out += '\\u' + h.toString(16) + '\\u' + l.toString(16);
        } else out += '\\u' + code.toString(16).padStart(4, '0');
      } else out += c;
    }
    return out + '"';
  }
  /** Python's json.dumps(v, indent, sort_keys, separators, ensure_ascii). */
  function dumps(v, o, level) {
    touch(v);
    const nl = o.indent === undefined || o.indent === null ? '' : '\n' + ' '.repeat(o.indent * (level + 1));
    const end = o.indent === undefined || o.indent === null ? '' : '\n' + ' '.repeat(o.indent * level);
    const item = o.indent === undefined || o.indent === null ? o.item : o.item.trimEnd();
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return v !== v ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : CtxString(v);
    if (typeof v === 'string' || v instanceof runtime.SafeString) return jsonString(CtxString(v), o.ascii);
    if (isArray(v) || v instanceof CtxSet) {
      const xs = [...v];
      if (!xs.length) return '[]';
      return '[' + nl + xs.map((x) => dumps(x, o, level + 1)).join(item + nl) + end + ']';
    }
    if (typeof v === 'object') {
      let ks = keys(v);
      if (!ks.length) return '{}';
      if (o.sort) ks = ks.slice().sort();
      return '{' + nl + ks.map((k) => jsonString(k, o.ascii) + o.key + dumps(v[k], o, level + 1)).join(item + nl) + end + '}';
    }
    throw new CtxError('Object of type ' + typeof v + ' is not JSON serializable');
  }
  // --- YAML as PyYAML's safe_dump writes it (Ansible's to_yaml / to_nice_yaml)
  const YAML_PLAIN = /^[^\s\-?:,\[\]{}#&*!|>'"%@\x60]([^:#]|:(?!\s)|#(?<!\s#))*$/;
  /** Strings PyYAML's resolver would read as something else (bool, int, float, null, timestamp): quoted. */
  const YAML_RESERVED = /^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+|[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9_]+([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|<<|=|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?)$/;
  /**
   * A scalar as PyYAML writes it: plain when it reads back as the same string, else quoted;
   * a line longer than 80 columns folded at a single space (cont: the folded lines' indent).
   */
  function yamlScalar(v, col, cont, simpleKey) {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return v !== v ? '.nan' : v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : CtxString(v);
    const s = CtxString(v);
    if (s === '') return "''";
    if (/[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]/.test(s) || / \n|\n /.test(s) || /^\n|\n$/.test(s) || s.includes('\t')) return jsonString(s, false);
    const plain = !s.includes('\n') && YAML_PLAIN.test(s) && !YAML_RESERVED.test(s) && s.trim() === s;
    return folded(s, plain ? '' : "'", col || 0, cont || 0, !simpleKey);
  }
  function folded(s, q, col, cont, split) {
    let out = q, c = col + q.length;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      if (ch === ' ' && split && c > 80 && s[i - 1] !== ' ' && s[i + 1] !== ' ' && i > 0 && i < s.length - 1) {
        out += '\n' + ' '.repeat(cont);
        c = cont;
      } else if (ch === '\n') {
        out += '\n\n' + ' '.repeat(cont);
        c = cont;
      } else {
        const w = ch === q ? q + q : ch;
        out += w;
        c += w.length;
      }
    }
    return out + q;
  }
  const isColl = (v) => isArray(v) || (v !== null && typeof v === 'object' && !(v instanceof runtime.SafeString));
  const collEmpty = (v) => (isArray(v) ? v.length === 0 : keys(v).length === 0);
  function yamlFlow(v) {
    if (isArray(v)) return '[' + v.map(yamlFlow).join(', ') + ']';
    if (isColl(v)) return '{' + keys(v).sort().map((k) => yamlScalar(k, 0, 0, true) + ': ' + yamlFlow(v[k])).join(', ') + '}';
    return yamlScalar(v, 0, 0, true);
  }
  /**
   * Lines of v in block style at indent (flowLeaves: PyYAML's default_flow_style=None). As
   * PyYAML: a list under a key is not indented; a collection in a list item starts on the
   * dash's line, its lines at indent + step.
   */
  function yamlBlock(v, indent, step, flowLeaves) {
    const pad = ' '.repeat(indent);
    const leaf = (x) => !isColl(x) || collEmpty(x) || (flowLeaves && (isArray(x) ? x : keys(x).map((k) => x[k])).every((y) => !isColl(y)));
    const value = (x, col) => (isColl(x) ? yamlFlow(x) : yamlScalar(x, col, indent + step, false));
    const out = [];
    if (isArray(v)) {
      for (const x of v) {
        if (leaf(x)) out.push(pad + '- ' + value(x, indent + 2));
        else {
          const inner = yamlBlock(x, indent + step, step, flowLeaves);
          out.push(pad + '-' + ' '.repeat(step - 1) + inner[0].slice(indent + step), ...inner.slice(1));
        }
      }
    } else {
      for (const k of keys(v).sort()) {
        const x = v[k];
        const key = pad + yamlScalar(k, indent, 0, true) + ':';
        if (leaf(x)) out.push(key + ' ' + value(x, key.length + 1));
        else {
          out.push(key);
          out.push(...yamlBlock(x, isArray(x) ? indent : indent + step, step, flowLeaves));
        }
      }
    }
    return out;
  }
  function toYaml(v, indent, flowLeaves) {
    touch(v);
    if (!isColl(v)) return yamlScalar(v, 0, indent, false) + '\n...\n';
    if (flowLeaves && (collEmpty(v) || (isArray(v) ? v : keys(v).map((k) => v[k])).every((y) => !isColl(y)))) return yamlFlow(v) + '\n';
    if (collEmpty(v)) return (isArray(v) ? '[]' : '{}') + '\n';
    return yamlBlock(v, 0, indent, flowLeaves).join('\n') + '\n';
  }
  function shellQuote(s) {
    s = str(s);
    if (s === '') return "''";
    if (!/[^\w@%+=:,./-]/.test(s)) return s;
    return "'" + s.replace(/'/g, "'\"'\"'") + "'";
  }
  function pyRegex(pattern, flags) {
    let p = CtxString(pattern);
    let f = flags || '';
    const m = /^\(\?([aiLmsux]+)\)/.exec(p);
    if (m) {
      p = p.slice(m[0].length);
      if (m[1].includes('i')) f += 'i';
      if (m[1].includes('m')) f += 'm';
      if (m[1].includes('s')) f += 's';
    }
    p = p.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>').replace(/\\Z/g, '$(?![\\s\\S])').replace(/\\A/g, '^(?<![\\s\\S])');
    return new CtxRegExp(p, [...new CtxSet(f)].join(''));
  }
  function pyReplacement(r) {
    return CtxString(r).replace(/\$/g, '$$$$').replace(/\\g<(\w+)>|\\(\d+)|\\([\\nt])/g, (m, name, num, esc) => {
      if (esc) return esc === 'n' ? '\n' : esc === 't' ? '\t' : '\\';
      const g = name !== undefined ? name : num;
      return /^\d+$/.test(g) ? '$' + g : '$<' + g + '>';
    });
  }
  function comment(text, style, kw) {
    const styles = {
      plain: { decoration: '# ' },
      erlang: { decoration: '% ' },
      c: { decoration: '// ' },
      cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
      xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
    };
    const sp = styles[style || 'plain'];
    if (!sp) throw new CtxError('comment: unknown style ' + repr(style));
    const prepost = hasOwn(kw, 'decoration') ? kw.decoration : sp.decoration;
    const p = { newline: '\n', beginning: '', prefix: prepost.trimEnd(), prefix_count: 1, decoration: '', postfix: prepost.trimEnd(), postfix_count: 1, end: '' };
    for (const k of keys(sp)) p[k] = sp[k];
    for (const k of keys(kw)) p[k] = kw[k];
    const beginning = p.beginning ? p.beginning + p.newline : '';
    let prefix = '';
    if (p.prefix) prefix = (p.prefix !== p.newline ? p.prefix + p.newline : p.newline).repeat(CtxNumber(p.prefix_count));
    const body = (p.decoration + CtxString(text).split(p.newline).join(p.newline + p.decoration)).split(p.decoration + p.newline).join(p.decoration.trimEnd() + p.newline);
    const postfix = [''].concat(CtxArray.from({ length: CtxNumber(p.postfix_count) }, () => p.postfix)).join(p.newline);
    const end = p.end ? p.newline + p.end : '';
    return beginning + prefix + body + postfix + end;
  }
  function combine(dicts, recursive, listMerge) {
    const merge = (a, b) => {
      const out = {};
      for (const k of keys(a)) put(out, k, a[k]);
      for (const k of keys(b)) {
        const x = out[k], y = b[k];
        if (recursive && hasOwn(out, k) && isMapping(x) && isMapping(y)) put(out, k, merge(x, y));
        else if (hasOwn(out, k) && isArray(x) && isArray(y) && listMerge !== 'replace') {
          if (listMerge === 'keep') put(out, k, x);
          else if (listMerge === 'append') put(out, k, x.concat(y));
          else if (listMerge === 'prepend') put(out, k, y.concat(x));
          else if (listMerge === 'append_rp') put(out, k, x.filter((e) => !y.some((f) => equal(e, f))).concat(y));
          else if (listMerge === 'prepend_rp') put(out, k, y.concat(x.filter((e) => !y.some((f) => equal(e, f)))));
          else throw new CtxError('combine: unknown list_merge ' + repr(listMerge));
        } else put(out, k, y);
      }
      return out;
    };
    let out = {};
    for (const d of dicts) {
      touch(d);
      if (!isMapping(d)) throw new CtxError('combine expects dictionaries, got ' + repr(d));
      out = merge(out, d);
    }
    return out;
  }
  function flattenList(v, levels, skipNulls) {
    const out = [];
    for (const x of v) {
      if (skipNulls && (x === null || x === undefined || x === 'None')) continue;
      if (isArray(x) && (levels === null || levels === undefined || levels > 0)) out.push(...flattenList(x, levels === null || levels === undefined ? levels : levels - 1, skipNulls));
      else out.push(x);
    }
    return out;
  }
  const TESTS = {};
  function testCall(name, value, args, ctx) {
    const t = TESTS[name] || env.tests[name];
    if (!t) throw new CtxError("no test named '" + name + "'");
    return t.call(ctx, value, ...args) === true;
  }
  /** select/reject/selectattr/rejectattr: items kept when the test (or truthiness) gives keep. */
  function selecting(seq, args, keep, attr, ctx) {
    let get = (x) => x;
    if (attr) {
      const a = args.shift();
      get = attrGetter(a);
    }
    kwargs(args);
    const name = args.shift();
    return list(seq).filter((x) => {
      const v = get(x);
      const ok = name === undefined ? truthy(v) : testCall(CtxString(name), v, args, ctx);
      return ok === keep;
    });
  }
  function version(a, b, op, strict) {
    const ops = { '<': 'lt', lt: 'lt', '<=': 'le', le: 'le', '>': 'gt', gt: 'gt', '>=': 'ge', ge: 'ge', '==': 'eq', '=': 'eq', eq: 'eq', '!=': 'ne', '<>': 'ne', ne: 'ne' };
    const o = ops[op === undefined || op === null ? 'eq' : op];
    if (!o) throw new CtxError('version: invalid operator ' + repr(op));
    const parts = (v) => CtxString(v).split(/[.\-+~_]|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)/i).filter((p) => p !== '').map((p) => (/^\d+$/.test(p) ? CtxNumber(p) : p));
    const x = parts(touch(a)), y = parts(touch(b));
    let c = 0;
    for (let i = 0; c === 0 && i < CtxMath.max(x.length, y.length); i++) {
      const p = x[i] === undefined ? 0 : x[i], q = y[i] === undefined ? 0 : y[i];
      if (typeof p === 'number' && typeof q === 'number') c = CtxMath.sign(p - q);
      else if (typeof p === 'number') c = 1;
      else if (typeof q === 'number') c = -1;
      else c = p < q ? -1 : p > q ? 1 : 0;
    }
    return { lt: c < 0, le: c <= 0, gt: c > 0, ge: c >= 0, eq: c === 0, ne: c !== 0 }[o];
  }

  const env = new Environment([], { autoescape: false, dev: true });
  const FILTERS = {
    default(v, ...a) {
      const [d, boolean] = params(a, ['default_value', 'boolean']);
      const dv = d === undefined ? '' : d;
      if (v instanceof Undefined || v === undefined) return dv;
      return boolean && !truthy(v) ? dv : v;
    },
    mandatory(v, ...a) {
      const [msg] = params(a, ['msg']);
      if (v instanceof Undefined || v === undefined) throw new CtxError(msg !== undefined && msg !== null ? str(msg) : 'Mandatory variable ' + (v && v.hint ? v.hint.replace(/ is undefined$/, '') + ' ' : '') + 'not defined.');
      return v;
    },
    bool(v) {
      if (typeof v === 'boolean') return v;
      if (v === null || v === undefined) return false;
      const s = typeof v === 'string' ? v.toLowerCase().trim() : v;
      return s === 'yes' || s === 'on' || s === '1' || s === 'true' || s === 'y' || s === 't' || s === 1;
    },
    int(v, ...a) {
      const [d, base] = params(a, ['default', 'base']);
      return toInt(v, d === undefined ? 0 : d, base);
    },
    float(v, ...a) {
      const [d] = params(a, ['default']);
      return toFloat(v, d === undefined ? 0 : d);
    },
    string: (v) => str(v),
    join(v, ...a) {
      const [sep, attribute] = params(a, ['d', 'attribute']);
      let xs = list(v);
      if (attribute !== undefined && attribute !== null) xs = xs.map(attrGetter(attribute));
      return xs.map((x) => str(x)).join(sep === undefined ? '' : str(sep));
    },
    to_json(v, ...a) {
      const kw = kwargs(a);
      const indent = kw.indent !== undefined ? kw.indent : a[0];
      return dumps(v, { indent, sort: !!kw.sort_keys, item: ', ', key: ': ', ascii: kw.ensure_ascii !== false }, 0);
    },
    to_nice_json(v, ...a) {
      const kw = kwargs(a);
      const indent = kw.indent !== undefined ? kw.indent : a[0] !== undefined ? a[0] : 4;
      return dumps(v, { indent, sort: kw.sort_keys !== false, item: ',', key: ': ', ascii: kw.ensure_ascii !== false }, 0);
    },
    to_yaml: (v) => toYaml(v, 2, true),
    to_nice_yaml(v, ...a) {
      const [indent] = params(a, ['indent', 'width', 'default_flow_style']);
      return toYaml(v, indent === undefined ? 4 : indent, false);
    },
    from_json: (v) => helpers.fromJson(str(v)),
    from_yaml: (v) => helpers.fromYaml(str(v)),
    regex_replace(v, ...a) {
      const [pattern, replacement, ignorecase, multiline, count] = params(a, ['pattern', 'replacement', 'ignorecase', 'multiline', 'count']);
      const re = pyRegex(pattern, 'g' + (ignorecase ? 'i' : '') + (multiline ? 'm' : ''));
      let n = 0;
      const rep = pyReplacement(replacement === undefined ? '' : replacement);
      return str(v).replace(re, (...m) => {
        if (count && n++ >= count) return m[0];
        const groups = typeof m[m.length - 1] === 'object' ? m[m.length - 1] : undefined;
        return rep.replace(/\$\$|\$(\d+)|\$<(\w+)>/g, (x, num, name) => (x === '$$' ? '$' : num !== undefined ? (m[CtxNumber(num)] === undefined ? '' : m[CtxNumber(num)]) : groups && groups[name] !== undefined ? groups[name] : ''));
      });
    },
    regex_search(v, ...a) {
      const kw = kwargs(a);
      const pattern = a.shift();
      const re = pyRegex(pattern, (kw.ignorecase ? 'i' : '') + (kw.multiline ? 'm' : ''));
      const m = re.exec(str(v));
      if (!m) return null;
      if (!a.length) return m[0];
      return a.map((g) => {
        const s = CtxString(g);
        const mm = /^\\(\d+)$/.exec(s) || /^\\g<(\w+)>$/.exec(s);
        if (!mm) throw new CtxError('regex_search: unknown group ' + repr(g));
        return /^\d+$/.test(mm[1]) ? m[CtxNumber(mm[1])] : m.groups && m.groups[mm[1]];
      });
    },
    regex_findall(v, ...a) {
      const [pattern, ignorecase, multiline] = params(a, ['regex', 'ignorecase', 'multiline']);
      const re = pyRegex(pattern, 'g' + (ignorecase ? 'i' : '') + (multiline ? 'm' : ''));
      return [...str(v).matchAll(re)].map((m) => (m.length === 1 ? m[0] : m.length === 2 ? m[1] : m.slice(1)));
    },
    regex_escape: (v) => str(v).replace(/[^A-Za-z0-9_]/g, (c) => '\\' + c),
    basename(v) {
      const s = str(v);
      return s.slice(s.lastIndexOf('/') + 1);
    },
    dirname(v) {
      const s = str(v);
      const i = s.lastIndexOf('/');
      if (i < 0) return '';
      const head = s.slice(0, i + 1);
      return /^\/+$/.test(head) ? head : head.replace(/\/+$/, '');
    },
    quote: shellQuote,
    comment(v, ...a) {
      const kw = kwargs(a);
      return comment(str(v), a[0], kw);
    },
    ternary(v, ...a) {
      const [t, f, n] = params(a, ['true_val', 'false_val', 'none_val']);
      if (v === null && n !== undefined && n !== null) return n;
      return truthy(v) ? t : f;
    },
    dict2items(v, ...a) {
      const [kn, vn] = params(a, ['key_name', 'value_name']);
      if (!isMapping(v)) throw new CtxError('dict2items requires a dictionary, got ' + typeName(v));
      return keys(v).map((k) => {
        const o = {};
        put(o, kn === undefined ? 'key' : kn, k);
        put(o, vn === undefined ? 'value' : vn, v[k]);
        return o;
      });
    },
    items2dict(v, ...a) {
      const [kn, vn] = params(a, ['key_name', 'value_name']);
      const o = {};
      for (const x of list(v)) put(o, str(member(x, kn === undefined ? 'key' : kn)), touch(member(x, vn === undefined ? 'value' : vn)));
      return o;
    },
    select(v, ...a) {
      return selecting(v, a, true, false, this);
    },
    reject(v, ...a) {
      return selecting(v, a, false, false, this);
    },
    selectattr(v, ...a) {
      return selecting(v, a, true, true, this);
    },
    rejectattr(v, ...a) {
      return selecting(v, a, false, true, this);
    },
    map(v, ...a) {
      const kw = kwargs(a);
      if (kw.attribute !== undefined) {
        const get = attrGetter(kw.attribute);
        return list(v).map((x) => {
          const r = get(x);
          return r instanceof Undefined && hasOwn(kw, 'default') ? kw.default : r;
        });
      }
      const name = a.shift();
      const f = env.filters[CtxString(name)];
      if (!f) throw new CtxError("no filter named '" + CtxString(name) + "'");
      const extra = keys(kw).length ? [...a, runtime.makeKeywordArgs(kw)] : a;
      return list(v).map((x) => f.call(this, x, ...extra));
    },
    unique(v) {
      const out = [];
      for (const x of list(v)) if (!out.some((y) => equal(x, y))) out.push(x);
      return out;
    },
    b64encode: (v) => helpers.b64encode(str(v)),
    b64decode: (v) => helpers.b64decode(str(v)),
    hash(v, ...a) {
      const [algo] = params(a, ['hashtype']);
      return helpers.hash(str(v), algo === undefined ? 'sha1' : str(algo));
    },
    checksum: (v) => helpers.hash(str(v), 'sha1'),
    md5: (v) => helpers.hash(str(v), 'md5'),
    sha1: (v) => helpers.hash(str(v), 'sha1'),
    combine(v, ...a) {
      const kw = kwargs(a);
      return combine([v, ...a], !!kw.recursive, kw.list_merge === undefined ? 'replace' : kw.list_merge);
    },
    flatten(v, ...a) {
      const [levels, skipNulls] = params(a, ['levels', 'skip_nulls']);
      return flattenList(list(v), levels, skipNulls === undefined ? true : skipNulls);
    },
    zip(v, ...a) {
      const lists = [list(v), ...a.map(list)];
      const n = CtxMath.min(...lists.map((l) => l.length));
      return CtxArray.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i])));
    },
    zip_longest(v, ...a) {
      const kw = kwargs(a);
      const lists = [list(v), ...a.map(list)];
      const n = CtxMath.max(...lists.map((l) => l.length));
      const fill = kw.fillvalue === undefined ? null : kw.fillvalue;
      return CtxArray.from({ length: n }, (_, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill))));
    },
    lower: (v) => str(v).toLowerCase(),
    upper: (v) => str(v).toUpperCase(),
    length: (v) => {
      if (typeof v === 'string') return [...v].length;
      if (v instanceof CtxMap || v instanceof CtxSet) return v.size;
      return list(v).length;
    },
    first: (v) => {
      const xs = list(v);
      return xs.length ? xs[0] : missingAttr(v, 0);
    },
    last: (v) => {
      const xs = list(v);
      return xs.length ? xs[xs.length - 1] : missingAttr(v, -1);
    },
    list: (v) => list(v).slice(),
    min: (v) => list(v).reduce((a, b) => (compare(b, '<', a) ? b : a)),
    max: (v) => list(v).reduce((a, b) => (compare(b, '>', a) ? b : a)),
    sum(v, ...a) {
      const [attribute, start] = params(a, ['attribute', 'start']);
      const get = attribute === undefined || attribute === null ? (x) => x : attrGetter(attribute);
      return list(v).reduce((acc, x) => add(acc, get(x)), start === undefined ? 0 : start);
    },
    sort(v, ...a) {
      const [reverse, caseSensitive, attribute] = params(a, ['reverse', 'case_sensitive', 'attribute']);
      const get = attribute === undefined || attribute === null ? (x) => x : attrGetter(attribute);
      const key = (x) => {
        const k = get(x);
        return typeof k === 'string' && !caseSensitive ? k.toLowerCase() : k;
      };
      const out = list(v).slice().sort((x, y) => (compare(key(x), '<', key(y)) ? -1 : compare(key(y), '<', key(x)) ? 1 : 0));
      return reverse ? out.reverse() : out;
    },
    dictsort(v, ...a) {
      const [caseSensitive, by, reverse] = params(a, ['case_sensitive', 'by', 'reverse']);
      const i = by === 'value' ? 1 : 0;
      const key = (p) => (typeof p[i] === 'string' && !caseSensitive ? p[i].toLowerCase() : p[i]);
      const out = keys(v).map((k) => tuple([k, v[k]])).sort((x, y) => (compare(key(x), '<', key(y)) ? -1 : compare(key(y), '<', key(x)) ? 1 : 0));
      return reverse ? out.reverse() : out;
    },
    reverse: (v) => (typeof v === 'string' ? [...v].reverse().join('') : list(v).slice().reverse()),
    trim(v, ...a) {
      const [chars] = params(a, ['chars']);
      return pyStrip(str(v), chars, true, true);
    },
    replace(v, ...a) {
      const [old, nw, count] = params(a, ['old', 'new', 'count']);
      return STR.replace(str(v), old, nw, count === undefined || count === null ? -1 : count);
    },
    indent(v, ...a) {
      const [width, first, blank] = params(a, ['width', 'first', 'blank']);
      const pad = typeof width === 'string' ? width : ' '.repeat(width === undefined ? 4 : width);
      const s = str(v);
      const ls = s.split('\n');
      const out = ls.map((l, i) => (i === 0 ? (first ? pad + l : l) : blank || l.trim() !== '' ? pad + l : l));
      return out.join('\n');
    },
    center(v, ...a) {
      const [width] = params(a, ['width']);
      return centered(str(v), width === undefined ? 80 : width);
    },
    capitalize: (v) => STR.capitalize(str(v)),
    title: (v) => STR.title(str(v)),
    wordcount: (v) => (str(v).match(/\w+/g) || []).length,
    abs: (v) => CtxMath.abs(touch(v)),
    round(v, ...a) {
      const [precision, method] = params(a, ['precision', 'method']);
      const p = CtxMath.pow(10, precision === undefined ? 0 : precision);
      const x = touch(v) * p;
      const r = method === 'ceil' ? CtxMath.ceil(x) : method === 'floor' ? CtxMath.floor(x) : CtxMath.abs(x % 1) === 0.5 ? 2 * CtxMath.round(x / 2) : CtxMath.round(x);
      return r / p;
    },
    split(v, ...a) {
      const [sep, max] = params(a, ['sep', 'maxsplit']);
      return pySplit(str(v), sep, max);
    },
    difference: (a, b) => list(a).filter((x, i, l) => !list(b).some((y) => equal(x, y)) && l.findIndex((y) => equal(x, y)) === i),
    intersect: (a, b) => list(a).filter((x, i, l) => list(b).some((y) => equal(x, y)) && l.findIndex((y) => equal(x, y)) === i),
    union: (a, b) => FILTERS.unique(list(a).concat(list(b))),
    symmetric_difference: (a, b) => FILTERS.union(FILTERS.difference(a, b), FILTERS.difference(b, a)),
    random: () => {
      throw new CtxError('the random filter is not supported: templates must render the same file every run');
    },
    type_debug: (v) => (v === null ? 'NoneType' : typeName(v).split(' ')[0]),
    items: (v) => DICT.items(v),
    batch(v, ...a) {
      const [n, fill] = params(a, ['linecount', 'fill_with']);
      const xs = list(v), out = [];
      for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
      if (fill !== undefined && out.length && out[out.length - 1].length < n) while (out[out.length - 1].length < n) out[out.length - 1].push(fill);
      return out;
    },
  };
  FILTERS.d = FILTERS.default;
  FILTERS.count = FILTERS.length;
  FILTERS.e = (v) => v;
  FILTERS.escape = FILTERS.e;
  /** Filters that take an undefined value (the others fail on one, as Ansible's do). */
  const TAKES_UNDEFINED = new CtxSet(['default', 'd', 'mandatory']);
  for (const name of keys(FILTERS)) {
    const f = FILTERS[name];
    env.addFilter(name, TAKES_UNDEFINED.has(name) ? f : function (v, ...a) {
      touch(v);
      return f.call(this, v, ...a);
    });
  }
  for (const name of keys(env.filters)) {
    if (hasOwn(FILTERS, name)) continue;
    const f = env.filters[name];
    env.filters[name] = function (v, ...a) {
      touch(v);
      return f.call(this, v, ...a);
    };
  }

  // ---------------------------------------------------------------------------------------
  // Tests

  const isNumber = (v) => typeof v === 'number';
  Object.assign(TESTS, {
    defined: (v) => !(v instanceof Undefined) && v !== undefined,
    undefined: (v) => v instanceof Undefined || v === undefined,
    none: (v) => v === null,
    string: (v) => typeof v === 'string' || v instanceof runtime.SafeString,
    number: isNumber,
    integer: (v) => isNumber(v) && CtxNumber.isInteger(v),
    float: (v) => isNumber(v) && !CtxNumber.isInteger(v),
    boolean: (v) => typeof v === 'boolean',
    mapping: isMapping,
    iterable: (v) => typeof v === 'string' || isArray(v) || (v !== null && typeof v === 'object'),
    sequence: (v) => typeof v === 'string' || isArray(v) || (v !== null && typeof v === 'object'),
    callable: (v) => typeof v === 'function',
    sameas: (v, o) => v === o,
    equalto: (v, o) => equal(v, o),
    version: (v, o, op, strict) => version(v, o, op, strict),
    version_compare: (v, o, op, strict) => version(v, o, op, strict),
    match(v, ...a) {
      const [pattern, ignorecase, multiline] = params(a, ['pattern', 'ignorecase', 'multiline']);
      const re = pyRegex(pattern, 'y' + (ignorecase ? 'i' : '') + (multiline ? 'm' : ''));
      return re.test(str(v));
    },
    search(v, ...a) {
      const [pattern, ignorecase, multiline] = params(a, ['pattern', 'ignorecase', 'multiline']);
      return pyRegex(pattern, (ignorecase ? 'i' : '') + (multiline ? 'm' : '')).test(str(v));
    },
    regex(v, ...a) {
      const [pattern, ignorecase, multiline, match] = params(a, ['pattern', 'ignorecase', 'multiline', 'match_type']);
      return pyRegex(pattern, (match === 'match' ? 'y' : '') + (ignorecase ? 'i' : '') + (multiline ? 'm' : '')).test(str(v));
    },
    in: (v, c) => contains(c, v),
    contains: (c, v) => contains(c, v),
    subset: (a, b) => list(a).every((x) => contains(b, x)),
    superset: (a, b) => list(b).every((x) => contains(a, x)),
    truthy: (v) => truthy(v),
    falsy: (v) => !truthy(v),
    even: (v) => v % 2 === 0,
    odd: (v) => CtxMath.abs(v % 2) === 1,
    divisibleby: (v, n) => v % n === 0,
    lower: (v) => typeof v === 'string' && v === v.toLowerCase(),
    upper: (v) => typeof v === 'string' && v === v.toUpperCase(),
    eq: (a, b) => equal(a, b),
    ne: (a, b) => !equal(a, b),
    lt: (a, b) => compare(a, '<', b),
    le: (a, b) => compare(a, '<=', b),
    gt: (a, b) => compare(a, '>', b),
    ge: (a, b) => compare(a, '>=', b),
    success: (r) => isMapping(r) && !truthy(member(r, 'failed') instanceof Undefined ? false : r.failed),
    failed: (r) => isMapping(r) && r.failed === true,
    changed: (r) => isMapping(r) && r.changed === true,
    skipped: (r) => isMapping(r) && r.skipped === true,
  });
  TESTS['=='] = TESTS.eq;
  TESTS['!='] = TESTS.ne;
  TESTS['<'] = TESTS.lt;
  TESTS['<='] = TESTS.le;
  TESTS['>'] = TESTS.gt;
  TESTS['>='] = TESTS.ge;
  TESTS.greaterthan = TESTS.gt;
  TESTS.lessthan = TESTS.lt;
  TESTS.succeeded = TESTS.success;
  TESTS.null = TESTS.none;
  const TOUCHLESS = new CtxSet(['defined', 'undefined', 'none', 'null', 'string', 'number', 'integer', 'float', 'boolean', 'mapping', 'iterable', 'sequence', 'callable', 'sameas']);
  for (const name of keys(TESTS)) {
    const t = TESTS[name];
    env.addTest(name, TOUCHLESS.has(name) ? t : function (v, ...a) {
      touch(v);
      return t.call(this, v, ...a);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Globals, templates, contexts

  for (const k of keys(env.globals)) delete env.globals[k];
  env.globals.range = function (start, stop, step) {
    if (stop === undefined) {
      stop = start;
      start = 0;
    }
    step = step === undefined ? 1 : step;
    if (!step) throw new CtxError('range() arg 3 must not be zero');
    const out = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
      out.push(i);
      if (out.length > 1e6) throw new CtxError('range() too long');
    }
    return out;
  };
  env.globals.dict = function (...a) {
    const kw = kwargs(a);
    const o = {};
    for (const k of keys(kw)) put(o, k, kw[k]);
    return o;
  };
  env.globals.namespace = env.globals.dict;
  env.globals.lookup = function () {
    throw new CtxError('lookup() is not available in tsplay templates: pass the value in a variable');
  };
  env.globals.query = env.globals.lookup;

  /** The template an include/import/extends names, made by the controller (confined to the template folders). */
  function templateFor(name, parentName) {
    const r = tools.include(parentName === undefined || parentName === null ? '' : CtxString(parentName), CtxString(name));
    return new Template({ type: 'code', obj: r[1] }, env, r[2], true);
  }
  env.getTemplate = function (name, eagerCompile, parentName, ignoreMissing, cb) {
    if (typeof parentName === 'function') {
      cb = parentName;
      parentName = null;
    }
    if (typeof eagerCompile === 'function') {
      cb = eagerCompile;
      eagerCompile = false;
    }
    let t;
    try {
      t = name instanceof Template ? name : templateFor(touch(name), parentName);
    } catch (e) {
      if (cb) return cb(e);
      throw e;
    }
    if (cb) return cb(null, t);
    return t;
  };

  // Context: variables are read lazily from the controller; a template's own {% set %} shadows them.
  let contextProto;
  new Template({ type: 'code', obj: { root(e, context, frame, rt, cb) { contextProto = getPrototypeOf(context); cb(null, ''); } } }, env, 'probe', true).render({});
  const blocksOf = contextProto.addBlock;
  contextProto.init = function (ctx, blocks, e) {
    this.env = e;
    this.ctx = create(ctx && typeof ctx === 'object' ? ctx : null);
    this.blocks = {};
    this.exported = [];
    for (const name of keys(blocks || {})) blocksOf.call(this, name, blocks[name]);
  };

  function variables(has, get) {
    const target = create(null);
    return new CtxProxy(target, {
      has: (t, k) => typeof k === 'string' && (hasOwn(t, k) || has(k)),
      get: (t, k) => {
        if (typeof k !== 'string') return undefined;
        if (hasOwn(t, k)) return t[k];
        return has(k) ? get(k) : missingVar(k);
      },
      set: (t, k, v, receiver) => {
        defineProperty(receiver, k, { value: v, writable: true, enumerable: true, configurable: true });
        return true;
      },
      ownKeys: (t) => Reflect.ownKeys(t),
      getOwnPropertyDescriptor: (t, k) => getOwnPropertyDescriptor(t, k),
      defineProperty: (t, k, d) => {
        defineProperty(t, k, d);
        return true;
      },
    });
  }

  return {
    filterNames: keys(env.filters),
    testNames: keys(env.tests),
    render(props, file, has, get) {
      const before = current;
      current = { get };
      try {
        const t = new Template({ type: 'code', obj: props }, env, file, true);
        return t.render(variables(has, get));
      } finally {
        current = before;
      }
    },
    where(e) {
      if ((typeof e !== 'object' && typeof e !== 'function') || e === null) return undefined;
      return files.has(e) ? [files.get(e), lines.get(e)] : undefined;
    },
  };
})`;
