/**
 * Static types of the values expressions read, and a checker of member access against them:
 * `{{ out.stdoutt }}` after `command: ... register: out` is an error at validation, with a
 * did-you-mean, instead of `undefined` at run time.
 *
 * Types come from what is known before the run: a module's `output` schema (as JSON Schema,
 * see fromJsonSchema) for what `register` receives, the documented host facts, and literal
 * YAML values of variables (fromValue). Everything else is `unknown`, and nothing is ever
 * reported about an unknown type: no false positives is the rule. Accesses that are guarded
 * (`a.b ?? d`, `a?.b`, `typeof a.b`, `a.b === undefined`, `'b' in a`) are never errors either:
 * they are how one reads an optional key.
 */
import type { Node } from 'acorn';
import { didYouMean } from '../core/errors.js';
import { parseExpression } from './analyze.js';

export type VType =
  | { t: 'unknown' }
  | { t: 'string' }
  | { t: 'number' }
  | { t: 'boolean' }
  | { t: 'null' }
  | { t: 'undefined' }
  | { t: 'array'; of: VType }
  /** `open`: other keys may exist (a record, a loose object); their type, or unknown. */
  | { t: 'object'; props: Record<string, VType>; open?: VType; label?: string }
  | { t: 'union'; of: VType[] };

export const UNKNOWN: VType = { t: 'unknown' };
export const STRING: VType = { t: 'string' };
export const NUMBER: VType = { t: 'number' };
export const BOOLEAN: VType = { t: 'boolean' };

export function arrayOf(of: VType): VType {
  return { t: 'array', of };
}

export function object(props: Record<string, VType>, label?: string, open?: VType): VType {
  return { t: 'object', props, ...(label ? { label } : {}), ...(open ? { open } : {}) };
}

/** The union of types; unknown absorbs everything. */
export function union(types: VType[]): VType {
  const flat: VType[] = [];
  for (const x of types) {
    if (x.t === 'unknown') return UNKNOWN;
    for (const y of x.t === 'union' ? x.of : [x]) {
      if (['string', 'number', 'boolean', 'null', 'undefined'].includes(y.t) && flat.some((f) => f.t === y.t)) continue;
      flat.push(y);
    }
  }
  if (flat.length === 0) return UNKNOWN;
  return flat.length === 1 ? flat[0]! : { t: 'union', of: flat };
}

/** A short description for messages: "a string", "a list of strings", "an object". */
export function describe(v: VType): string {
  switch (v.t) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'undefined':
      return 'undefined';
    case 'array':
      return v.of.t === 'unknown' || v.of.t === 'union' || v.of.t === 'array' ? 'a list' : `a list of ${describe(v.of).replace(/^an? /, '')}s`;
    case 'object':
      return v.label ?? 'an object';
    case 'union':
      return v.of.map(describe).join(' or ');
    default:
      return 'a value of unknown type';
  }
}

// ---- where types come from -------------------------------------------------------------------

type Json = Record<string, unknown>;

/** A type from a JSON Schema (as `z.toJSONSchema(output, { io: 'output' })` writes it). */
export function fromJsonSchema(s: unknown, label?: string): VType {
  if (!s || typeof s !== 'object') return UNKNOWN;
  const j = s as Json;
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(j[k])) return union((j[k] as unknown[]).map((x) => fromJsonSchema(x)));
  }
  if (Array.isArray(j.allOf)) return UNKNOWN;
  if (j.const !== undefined) return fromValue(j.const);
  if (Array.isArray(j.enum)) return union(j.enum.map(fromValue));
  const type = j.type;
  if (Array.isArray(type)) return union(type.map((t) => fromJsonSchema({ ...j, type: t }, label)));
  switch (type) {
    case 'string':
      return STRING;
    case 'number':
    case 'integer':
      return NUMBER;
    case 'boolean':
      return BOOLEAN;
    case 'null':
      return { t: 'null' };
    case 'array':
      return arrayOf(fromJsonSchema(j.items));
    case 'object': {
      const props: Record<string, VType> = {};
      for (const [k, v] of Object.entries((j.properties as Json | undefined) ?? {})) props[k] = fromJsonSchema(v);
      const ap = j.additionalProperties;
      const open = ap === false ? undefined : ap && typeof ap === 'object' ? fromJsonSchema(ap) : UNKNOWN;
      return object(props, label, open);
    }
    default:
      return UNKNOWN;
  }
}

/**
 * The type of a literal YAML value. A string holding `{{` is unknown (it is rendered at run
 * time); an empty mapping is open (a placeholder filled elsewhere).
 */
export function fromValue(v: unknown): VType {
  if (v === null) return { t: 'null' };
  if (v === undefined) return { t: 'undefined' };
  if (typeof v === 'string') return v.includes('{{') ? UNKNOWN : STRING;
  if (typeof v === 'number') return NUMBER;
  if (typeof v === 'boolean') return BOOLEAN;
  if (Array.isArray(v)) return arrayOf(v.length ? union(v.map(fromValue)) : UNKNOWN);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const entries = Object.entries(v);
    if (entries.length === 0) return object({}, undefined, UNKNOWN);
    const props: Record<string, VType> = {};
    for (const [k, x] of entries) props[k] = fromValue(x);
    return object(props);
  }
  return UNKNOWN;
}

// ---- the checker -----------------------------------------------------------------------------

export interface TypeIssue {
  message: string;
  /** Offset in the expression's code. */
  offset: number;
}

type AnyNode = Node & Record<string, any>;

const STRING_MEMBERS = new Set([...Object.getOwnPropertyNames(String.prototype), 'length']);
const ARRAY_MEMBERS = new Set([...Object.getOwnPropertyNames(Array.prototype), 'length']);
const NUMBER_MEMBERS = new Set(Object.getOwnPropertyNames(Number.prototype));
const BOOLEAN_MEMBERS = new Set(Object.getOwnPropertyNames(Boolean.prototype));
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

const STRING_RETURNS: Record<string, VType> = {
  length: NUMBER, includes: BOOLEAN, startsWith: BOOLEAN, endsWith: BOOLEAN, indexOf: NUMBER, lastIndexOf: NUMBER,
  search: NUMBER, charCodeAt: NUMBER, codePointAt: NUMBER, localeCompare: NUMBER, split: arrayOf(STRING),
  trim: STRING, trimStart: STRING, trimEnd: STRING, toLowerCase: STRING, toUpperCase: STRING, replace: STRING,
  replaceAll: STRING, slice: STRING, substring: STRING, padStart: STRING, padEnd: STRING, repeat: STRING,
  concat: STRING, at: STRING, charAt: STRING, normalize: STRING, toString: STRING,
};
const ARRAY_SAME = new Set(['filter', 'slice', 'concat', 'toSorted', 'toReversed', 'sort', 'reverse']);
const ARRAY_RETURNS: Record<string, VType> = {
  length: NUMBER, includes: BOOLEAN, some: BOOLEAN, every: BOOLEAN, join: STRING, indexOf: NUMBER,
  lastIndexOf: NUMBER, findIndex: NUMBER, findLastIndex: NUMBER, toString: STRING,
};
const ARRAY_ELEMENT = new Set(['find', 'findLast', 'at', 'pop', 'shift']);
/** Array methods whose callback's first parameter is an element. */
const ARRAY_CALLBACKS = new Set(['map', 'filter', 'some', 'every', 'find', 'findLast', 'findIndex', 'findLastIndex', 'forEach', 'flatMap', 'toSorted', 'sort']);
const COMPARISONS = new Set(['==', '!=', '===', '!==', '<', '>', '<=', '>=', 'in', 'instanceof']);

/** Helpers (globals.ts) whose result type is known. */
const HELPER_RETURNS: Record<string, VType> = {
  bool: BOOLEAN, versionCompare: BOOLEAN, isNaN: BOOLEAN, isFinite: BOOLEAN, join: STRING, basename: STRING,
  dirname: STRING, quote: STRING, b64encode: STRING, b64decode: STRING, toJson: STRING, toYaml: STRING, hash: STRING,
  regexReplace: STRING, String: STRING, Number: NUMBER, Boolean: BOOLEAN, parseInt: NUMBER, parseFloat: NUMBER,
};

/**
 * Checks member access in `code` against the types `typeOf(name)` gives for its free names
 * (undefined: unknown). Returns the issues found (empty when the expression is fine or does
 * not parse: syntax is analyze.ts's business) and the type of the whole expression.
 */
export function checkTypes(code: string, typeOf: (name: string) => VType | undefined): { issues: TypeIssue[]; type: VType } {
  let root: AnyNode;
  try {
    root = parseExpression(code) as AnyNode;
  } catch {
    return { issues: [], type: UNKNOWN };
  }
  const issues: TypeIssue[] = [];
  const type = new Checker(code, typeOf, issues).infer(root, new Map(), false);
  return { issues, type };
}

class Checker {
  constructor(
    private readonly code: string,
    private readonly typeOf: (name: string) => VType | undefined,
    private readonly issues: TypeIssue[],
  ) {}

  /** `guarded`: the value may be missing without it being a mistake (see the file header). */
  infer(n: AnyNode, local: Map<string, VType>, guarded: boolean): VType {
    switch (n.type) {
      case 'ParenthesizedExpression':
        return this.infer(n.expression, local, guarded);
      case 'ChainExpression':
        return this.infer(n.expression, local, guarded);
      case 'Literal':
        return n.regex ? UNKNOWN : fromValue(n.value);
      case 'TemplateLiteral':
        for (const e of n.expressions) this.infer(e, local, false);
        return STRING;
      case 'Identifier':
        if (local.has(n.name)) return local.get(n.name)!;
        if (n.name === 'undefined') return { t: 'undefined' };
        return this.typeOf(n.name) ?? UNKNOWN;
      case 'MemberExpression':
        return this.member(n, local, guarded);
      case 'CallExpression':
        return this.call(n, local);
      case 'UnaryExpression': {
        const arg = this.infer(n.argument, local, n.operator === 'typeof' || n.operator === 'delete');
        if (n.operator === '!' || n.operator === 'delete') return BOOLEAN;
        if (n.operator === 'typeof') return STRING;
        if (n.operator === 'void') return { t: 'undefined' };
        return arg.t === 'unknown' ? UNKNOWN : NUMBER;
      }
      case 'BinaryExpression': {
        const test = isMissingTest(n);
        const l = n.left.type === 'PrivateIdentifier' ? UNKNOWN : this.infer(n.left, local, test || n.operator === 'in');
        const r = this.infer(n.right, local, test);
        if (COMPARISONS.has(n.operator)) return BOOLEAN;
        if (n.operator === '+') {
          if (l.t === 'string' || r.t === 'string') return STRING;
          return l.t === 'number' && r.t === 'number' ? NUMBER : UNKNOWN;
        }
        return l.t === 'unknown' || r.t === 'unknown' ? UNKNOWN : NUMBER;
      }
      case 'LogicalExpression': {
        const l = this.infer(n.left, local, n.operator !== '&&');
        const r = this.infer(n.right, local, guarded);
        if (l.t === 'boolean' && r.t === 'boolean') return BOOLEAN;
        return n.operator === '&&' ? UNKNOWN : union([l, r]);
      }
      case 'ConditionalExpression': {
        this.infer(n.test, local, false);
        return union([this.infer(n.consequent, local, guarded), this.infer(n.alternate, local, guarded)]);
      }
      case 'ArrayExpression': {
        const els = n.elements.filter(Boolean).map((e: AnyNode) => this.infer(e.type === 'SpreadElement' ? e.argument : e, local, false));
        return n.elements.some((e: AnyNode | null) => !e || e.type === 'SpreadElement') || els.length === 0 ? arrayOf(UNKNOWN) : arrayOf(union(els));
      }
      case 'ArrowFunctionExpression':
      case 'FunctionExpression':
        this.fn(n, local, []);
        return UNKNOWN;
      default:
        this.children(n, local);
        return UNKNOWN;
    }
  }

  /** Walks every child node with unknown results (object literals, sequences, `new`, ...). */
  private children(n: AnyNode, local: Map<string, VType>): void {
    if (n.type === 'FunctionDeclaration' || n.type === 'ArrowFunctionExpression' || n.type === 'FunctionExpression') {
      this.fn(n, local, []);
      return;
    }
    for (const [key, v] of Object.entries(n)) {
      if (key === 'key' && !n.computed) continue;
      if (n.type === 'MemberExpression' && key === 'property' && !n.computed) continue;
      for (const x of Array.isArray(v) ? v : [v]) {
        if (!x || typeof x !== 'object' || typeof (x as AnyNode).type !== 'string') continue;
        const c = x as AnyNode;
        if (c.type.endsWith('Expression') || c.type === 'Identifier' || c.type === 'Literal' || c.type === 'TemplateLiteral') this.infer(c, local, false);
        else this.children(c, local);
      }
    }
  }

  /** A function: its params (typed when given) and every name declared inside shadow outer names. */
  private fn(n: AnyNode, local: Map<string, VType>, paramTypes: VType[]): void {
    const inner = new Map(local);
    for (const name of declaredNames(n)) inner.set(name, UNKNOWN);
    n.params.forEach((p: AnyNode, i: number) => {
      if (p.type === 'Identifier' && paramTypes[i]) inner.set(p.name, paramTypes[i]!);
    });
    if (n.body.type === 'BlockStatement') this.children(n.body, inner);
    else this.infer(n.body, inner, false);
  }

  private member(n: AnyNode, local: Map<string, VType>, guarded: boolean): VType {
    const obj = this.infer(n.object, local, false);
    let key: string | number | undefined;
    if (!n.computed) key = n.property.name as string;
    else {
      this.infer(n.property, local, false);
      if (n.property.type === 'Literal' && (typeof n.property.value === 'string' || typeof n.property.value === 'number')) key = n.property.value;
    }
    if (key === undefined) return elementOf(obj);
    return this.prop(obj, key, n, guarded || n.optional === true);
  }

  /** The type of obj[key], reporting a key that cannot exist (unless guarded). */
  private prop(obj: VType, key: string | number, n: AnyNode, guarded: boolean): VType {
    const found = lookup(obj, key);
    if (found !== undefined) return found;
    if (!guarded && typeof key === 'string') this.report(obj, key, n);
    return UNKNOWN;
  }

  private report(obj: VType, key: string, n: AnyNode): void {
    const what = this.code.slice(n.object.start, n.object.end);
    const members = candidates(obj);
    const dym = didYouMean(key, members);
    const hint = dym ? `; did you mean '${dym}'?` : obj.t === 'object' && Object.keys(obj.props).length ? `; it has ${Object.keys(obj.props).slice(0, 12).join(', ')}` : '';
    const kind = obj.t === 'object' ? 'property' : 'property or method';
    this.issues.push({ message: `'${key}' is not a ${kind} of ${what} (${describe(obj)})${hint}`, offset: n.property.start });
  }

  private call(n: AnyNode, local: Map<string, VType>): VType {
    const args: AnyNode[] = n.arguments;
    const callee: AnyNode = n.callee.type === 'ParenthesizedExpression' ? n.callee.expression : n.callee;
    if (callee.type === 'MemberExpression' && !callee.computed) {
      const obj = this.infer(callee.object, local, false);
      const name = callee.property.name as string;
      this.prop(obj, name, callee, callee.optional === true);
      const el = obj.t === 'array' ? obj.of : UNKNOWN;
      args.forEach((a, i) => {
        if (i === 0 && (a.type === 'ArrowFunctionExpression' || a.type === 'FunctionExpression') && obj.t === 'array' && ARRAY_CALLBACKS.has(name)) {
          this.fn(a, local, name === 'toSorted' || name === 'sort' ? [el, el] : [el]);
        } else this.infer(a.type === 'SpreadElement' ? a.argument : a, local, false);
      });
      if (obj.t === 'string') return STRING_RETURNS[name] ?? UNKNOWN;
      if (obj.t === 'array') {
        if (ARRAY_SAME.has(name)) return obj;
        if (ARRAY_ELEMENT.has(name)) return el;
        if (name === 'map' || name === 'flatMap') return arrayOf(UNKNOWN);
        return ARRAY_RETURNS[name] ?? UNKNOWN;
      }
      if (obj.t === 'number' && (name === 'toFixed' || name === 'toString')) return STRING;
      return UNKNOWN;
    }
    // A helper that tolerates a missing value: defaultTo(a.b, d).
    const helper = callee.type === 'Identifier' && !local.has(callee.name) ? callee.name : undefined;
    this.infer(callee, local, false);
    args.forEach((a, i) => this.infer(a.type === 'SpreadElement' ? a.argument : a, local, helper === 'defaultTo' && i === 0));
    if (helper && this.typeOf(helper) === undefined) return HELPER_RETURNS[helper] ?? UNKNOWN;
    return UNKNOWN;
  }
}

/** `x === undefined`, `x != null`, `typeof x === ...`: tests for a missing value. */
function isMissingTest(n: AnyNode): boolean {
  if (!['==', '!=', '===', '!=='].includes(n.operator)) return false;
  const missing = (x: AnyNode) => (x.type === 'Identifier' && x.name === 'undefined') || (x.type === 'Literal' && x.value === null && !x.regex);
  return missing(n.left) || missing(n.right);
}

/** obj[key]: its type, or undefined when the key surely does not exist. */
function lookup(obj: VType, key: string | number): VType | undefined {
  switch (obj.t) {
    case 'unknown':
    case 'null':
    case 'undefined':
      return UNKNOWN;
    case 'string':
      if (typeof key === 'number' || /^\d+$/.test(key)) return STRING;
      return STRING_MEMBERS.has(key) ? (key === 'length' ? NUMBER : UNKNOWN) : undefined;
    case 'number':
      return NUMBER_MEMBERS.has(String(key)) ? UNKNOWN : undefined;
    case 'boolean':
      return BOOLEAN_MEMBERS.has(String(key)) ? UNKNOWN : undefined;
    case 'array':
      if (typeof key === 'number' || /^\d+$/.test(key)) return obj.of;
      return ARRAY_MEMBERS.has(key) ? (key === 'length' ? NUMBER : UNKNOWN) : undefined;
    case 'object':
      if (Object.hasOwn(obj.props, key)) return obj.props[key]!;
      if (obj.open) return obj.open;
      return OBJECT_MEMBERS.has(String(key)) ? UNKNOWN : undefined;
    case 'union': {
      // Fine when any member has it; null/undefined members are the optional case.
      const found = obj.of.filter((m) => m.t !== 'null' && m.t !== 'undefined').map((m) => lookup(m, key));
      if (found.length === 0) return UNKNOWN;
      if (found.some((f) => f === undefined) && found.every((f) => f === undefined)) return undefined;
      return union(found.filter((f): f is VType => f !== undefined));
    }
  }
}

function elementOf(v: VType): VType {
  if (v.t === 'array') return v.of;
  if (v.t === 'object' && v.open) return v.open;
  return UNKNOWN;
}

function candidates(v: VType): string[] {
  switch (v.t) {
    case 'object':
      return Object.keys(v.props);
    case 'string':
      return [...STRING_MEMBERS];
    case 'array':
      return [...ARRAY_MEMBERS];
    case 'union':
      return v.of.flatMap(candidates);
    default:
      return [];
  }
}

/** Every name a function binds: params, declarations, inner function and class names. */
function declaredNames(fn: AnyNode): string[] {
  const out: string[] = [];
  const pattern = (p: AnyNode | null): void => {
    if (!p) return;
    if (p.type === 'Identifier') out.push(p.name);
    else if (p.type === 'ObjectPattern') for (const q of p.properties) pattern(q.type === 'RestElement' ? q.argument : q.value);
    else if (p.type === 'ArrayPattern') for (const q of p.elements) pattern(q);
    else if (p.type === 'RestElement') pattern(p.argument);
    else if (p.type === 'AssignmentPattern') pattern(p.left);
  };
  for (const p of fn.params) pattern(p);
  if (fn.id) out.push(fn.id.name);
  const visit = (n: AnyNode): void => {
    if (n.type === 'VariableDeclarator') pattern(n.id);
    if ((n.type === 'FunctionDeclaration' || n.type === 'ClassDeclaration') && n.id) out.push(n.id.name);
    if (n.type === 'CatchClause') pattern(n.param);
    for (const v of Object.values(n)) {
      for (const x of Array.isArray(v) ? v : [v]) if (x && typeof x === 'object' && typeof (x as AnyNode).type === 'string') visit(x as AnyNode);
    }
  };
  if (fn.body.type === 'BlockStatement') visit(fn.body);
  out.push('arguments');
  return out;
}

/** A condition (when, changed_when, ...) whose type is known and surely not a boolean. */
export function notBoolean(v: VType): boolean {
  if (v.t === 'unknown' || v.t === 'boolean') return false;
  if (v.t === 'union') return v.of.every(notBoolean);
  return true;
}
