/**
 * Names available inside every `{{ expression }}` besides the host's variables. Variables win
 * when a variable has the same name as a helper.
 *
 * | name | what it does |
 * | --- | --- |
 * | `vars` | the whole variable map of the host: `vars.x !== undefined`, `'x' in vars`, `vars['my-var']` |
 * | `Math`, `JSON`, `String`, `Number`, `Boolean`, `Array`, `Object`, `Date`, `RegExp`, `Map`, `Set`, `Error` | the JavaScript built-ins |
 * | `parseInt`, `parseFloat`, `isNaN`, `isFinite`, `encodeURIComponent`, `decodeURIComponent`, `encodeURI`, `decodeURI` | the JavaScript functions |
 * | `undefined`, `NaN`, `Infinity` | the JavaScript values |
 * | `defaultTo(v, d, orEmpty = false)` | `d` when `v` is undefined or null (with `orEmpty`, also when `v` is `''`, `false`, `0`, `[]` or `{}`) |
 * | `bool(v)` | Ansible's truthiness of strings: `yes/on/true/y/t/1` -> true, `no/off/false/n/f/0/''` -> false (any case); throws on other strings |
 * | `b64encode(s)`, `b64decode(s)` | base64 of the UTF-8 bytes of a string, and back |
 * | `quote(s)` | quotes a word for a POSIX shell (`it's` -> `'it'\''s'`) |
 * | `toYaml(v)`, `toJson(v, indent?)` | serialize a value |
 * | `fromYaml(s)`, `fromJson(s)` | parse a string (e.g. a registered `stdout`) |
 * | `join(list, sep = ' ')` | `list.join(sep)`, also accepts a single value |
 * | `unique(list)` | distinct items, first occurrence kept (deep equality for objects) |
 * | `flatten(list, levels = Infinity)` | flattens nested lists |
 * | `basename(path)`, `dirname(path)` | POSIX path parts |
 * | `regexReplace(s, re, repl)` | replaces every match of `re` (a string pattern or a RegExp) |
 * | `hash(s, algo = 'sha256')` | hex digest (`md5`, `sha1`, `sha256`, `sha512`, ...) |
 * | `versionCompare(a, b, op = '==')` | compares dotted versions numerically part by part (`'2.10' > '2.9'`); op is `<`, `<=`, `>`, `>=`, `==`, `!=` (Ansible's `version` test) |
 *
 * Note: `default` is a reserved word in JavaScript, so Ansible's `default(x)` filter is
 * `defaultTo(v, d)` here, or simply `v ?? d`.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYamlText, stringify as stringifyYaml } from 'yaml';
import { quote } from '../core/quote.js';

const TRUE_STRINGS = new Set(['yes', 'on', 'true', 'y', 't', '1']);
const FALSE_STRINGS = new Set(['no', 'off', 'false', 'n', 'f', '0', '']);

function defaultTo(v: unknown, d: unknown, orEmpty = false): unknown {
  if (v === undefined || v === null) return d;
  if (orEmpty) {
    if (v === '' || v === false || v === 0) return d;
    if (Array.isArray(v) && v.length === 0) return d;
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.keys(v).length === 0) return d;
  }
  return v;
}

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE_STRINGS.has(s)) return true;
    if (FALSE_STRINGS.has(s)) return false;
    throw new Error(`bool(): cannot read ${JSON.stringify(v)} as a boolean (use yes/no, true/false, on/off, 1/0)`);
  }
  throw new Error(`bool(): cannot read a ${Array.isArray(v) ? 'list' : typeof v} as a boolean`);
}

function b64encode(s: unknown): string {
  return Buffer.from(String(s), 'utf8').toString('base64');
}

function b64decode(s: unknown): string {
  return Buffer.from(String(s), 'base64').toString('utf8');
}

function toJson(v: unknown, indent?: number): string {
  return JSON.stringify(v, null, indent);
}

function fromJson(s: unknown): unknown {
  return JSON.parse(String(s));
}

function toYaml(v: unknown): string {
  return stringifyYaml(v);
}

function fromYaml(s: unknown): unknown {
  return parseYamlText(String(s), { version: '1.2' });
}

function join(list: unknown, sep = ' '): string {
  return Array.isArray(list) ? list.join(sep) : list === undefined || list === null ? '' : String(list);
}

function unique<T>(list: T[]): T[] {
  const out: T[] = [];
  for (const x of list) if (!out.some((y) => y === x || isDeepStrictEqual(x, y))) out.push(x);
  return out;
}

function flatten(list: unknown[], levels = Infinity): unknown[] {
  return list.flat(levels as 1);
}

function basename(path: string): string {
  return posix.basename(String(path));
}

function dirname(path: string): string {
  return posix.dirname(String(path));
}

function regexReplace(s: unknown, re: string | RegExp, repl: string): string {
  const pattern = typeof re === 'string' ? new RegExp(re, 'g') : re.global ? re : new RegExp(re.source, `${re.flags}g`);
  return String(s).replace(pattern, repl);
}

function hash(s: unknown, algo = 'sha256'): string {
  return createHash(algo).update(String(s)).digest('hex');
}

function versionCompare(a: unknown, b: unknown, op = '=='): boolean {
  const parts = (v: unknown) => String(v).split(/[.\-+]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const [x, y] = [parts(a), parts(b)];
  let c = 0;
  for (let i = 0; c === 0 && i < Math.max(x.length, y.length); i++) {
    const [p, q] = [x[i] ?? 0, y[i] ?? 0];
    c = typeof p === 'number' && typeof q === 'number' ? Math.sign(p - q) : String(p) < String(q) ? -1 : String(p) > String(q) ? 1 : 0;
  }
  const ops: Record<string, boolean> = { '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0, '==': c === 0, '!=': c !== 0 };
  if (!(op in ops)) throw new Error(`versionCompare(): unknown operator ${JSON.stringify(op)} (use <, <=, >, >=, ==, !=)`);
  return ops[op]!;
}

/** Helpers and built-ins by name (see the table above). `vars` is added per scope. */
export const HELPERS: Readonly<Record<string, unknown>> = Object.freeze({
  Math, JSON, String, Number, Boolean, Array, Object, Date, RegExp, Map, Set, Error,
  parseInt, parseFloat, isNaN, isFinite, encodeURIComponent, decodeURIComponent, encodeURI, decodeURI,
  undefined, NaN, Infinity,
  defaultTo, bool, b64encode, b64decode, quote, toYaml, toJson, fromYaml, fromJson,
  join, unique, flatten, basename, dirname, regexReplace, hash, versionCompare,
});

/** Every name an expression can use without a variable defining it. */
export const EXPR_GLOBALS: readonly string[] = Object.freeze(['vars', ...Object.keys(HELPERS)]);
