/**
 * Ansible/Jinja habits inside `{{ }}`: expressions are JavaScript, and several Jinja forms
 * parse as JavaScript that means something else (`x | bool` is bitwise OR and gives 0,
 * `x in [a, b]` tests array keys, `a // 2` starts a comment). jinjaHabit() finds the first
 * such construct and gives the JavaScript to write instead, the whole expression rewritten:
 *
 *   jinjaHabit("users | map(attribute='name') | join(', ')")
 *     -> { message: "`users | map(attribute='name')` is a Jinja filter; write `users.map((x) => x.name).join(', ')` ...", offset: 1 }
 *
 * Forms that do not parse as JavaScript (`x is defined`, `not x`, `a ~ b`, `x | default(1)`)
 * are recognised in the text, with strings masked, and rewritten before the parse-level
 * rewrites (filters, `in`, Python constants, lookups) run.
 */
import { parseExpressionAt, type Node } from 'acorn';

type AnyNode = Node & Record<string, any>;

/** Right-hand sides of `in` known to be a list or a string (so `in` is Jinja's membership test). */
export type ListLike = (root: string, path: ReadonlyArray<string | number>) => boolean;

export interface Habit {
  /** One line: the construct, what it is, and the JavaScript to write. */
  message: string;
  /** Where the construct starts in the code. */
  offset: number;
}

/** Ansible's and Jinja's common filters (a `|` whose right side names one is not bitwise OR). */
export const ANSIBLE_FILTERS: ReadonlySet<string> = new Set([
  'abs', 'attr', 'b64decode', 'b64encode', 'basename', 'batch', 'bool', 'capitalize', 'center', 'checksum', 'combine', 'comment',
  'count', 'd', 'default', 'dict2items', 'difference', 'dirname', 'e', 'escape', 'expanduser', 'expandvars', 'extract', 'first',
  'flatten', 'float', 'format', 'from_json', 'from_yaml', 'from_yaml_all', 'groupby', 'hash', 'human_readable', 'human_to_bytes',
  'indent', 'int', 'intersect', 'ipaddr', 'ipv4', 'ipv6', 'items', 'items2dict', 'join', 'json_query', 'last', 'length', 'list',
  'log', 'lower', 'map', 'mandatory', 'max', 'md5', 'min', 'password_hash', 'path_join', 'pow', 'product', 'quote', 'random',
  'realpath', 'regex_escape', 'regex_findall', 'regex_replace', 'regex_search', 'reject', 'rejectattr', 'relpath', 'replace',
  'reverse', 'root', 'round', 'safe', 'select', 'selectattr', 'sha1', 'shuffle', 'slice', 'sort', 'split', 'splitext', 'string',
  'strftime', 'striptags', 'subelements', 'sum', 'ternary', 'title', 'to_datetime', 'to_json', 'to_nice_json', 'to_nice_yaml',
  'to_uuid', 'to_yaml', 'tojson', 'trim', 'truncate', 'type_debug', 'union', 'unique', 'upper', 'urlencode', 'urlsplit',
  'version_compare', 'wordcount', 'zip', 'zip_longest',
]);

/** Magic variables that hold lists (`x in group_names` is membership in Ansible). */
const LIST_MAGIC = new Set(['group_names', 'play_hosts', 'ansible_play_hosts', 'ansible_play_hosts_all', 'ansible_play_batch']);
/** Fields of a registered result that are strings or lists. */
const RESULT_TEXT = new Set(['stdout', 'stderr', 'stdout_lines', 'stderr_lines', 'results', 'msg']);

const intrinsicListLike: ListLike = (root, path) =>
  (path.length === 0 && LIST_MAGIC.has(root)) || (root === 'groups' && path.length === 1) || (path.length > 0 && RESULT_TEXT.has(String(path[path.length - 1])));

const PRIMARY = new Set(['Identifier', 'MemberExpression', 'CallExpression', 'ChainExpression', 'Literal', 'ArrayExpression', 'ParenthesizedExpression', 'TemplateLiteral', 'ThisExpression']);

function parse(code: string): AnyNode | undefined {
  try {
    const node = parseExpressionAt(code, 0, { ecmaVersion: 'latest', sourceType: 'script', preserveParens: true }) as AnyNode;
    return /^\s*$/.test(code.slice(node.end)) ? node : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first Jinja habit in `code`, or undefined. `listLike` adds what the caller knows about
 * variables (validation: a variable whose value is a list or string literal).
 */
export function jinjaHabit(code: string, listLike?: ListLike): Habit | undefined {
  const r = rewriteJinja(code, listLike);
  if (!r.first) return undefined;
  const fix = r.first.noFix ?? (r.js !== undefined ? `write \`${r.js.trim()}\`` : 'rewrite it in JavaScript (docs/expressions.md, "Coming from Jinja")');
  return { message: `${r.first.what}; ${fix}`, offset: r.first.offset };
}

/**
 * `code` with every Jinja habit rewritten to JavaScript (`tsplay migrate`): `{ js }`, the same
 * text when there is none; `{ reason }` when a construct has no JavaScript equivalent or the
 * result does not parse.
 */
export function jinjaToJs(code: string, listLike?: ListLike): { js: string } | { reason: string } {
  const r = rewriteJinja(code, listLike);
  if (!r.first) return { js: code };
  if (r.first.noFix) return { reason: `${r.first.what}; ${r.first.noFix}` };
  if (r.js === undefined) return { reason: `${r.first.what}; no JavaScript equivalent found` };
  return { js: r.js };
}

function rewriteJinja(code: string, listLike?: ListLike): { js?: string; first?: { what: string; offset: number; noFix?: string } } {
  const isList: ListLike = (r, p) => intrinsicListLike(r, p) || (listLike?.(r, p) ?? false);
  const text = textRewrites(code);
  // Forms inside a rewritten one (`x if a and b else y`) are rewritten on the next pass.
  for (let pass = 0; pass < 4 && text.first && parse(text.code) === undefined; pass++) {
    const again = textRewrites(text.code).code;
    if (again === text.code) break;
    text.code = again;
  }
  let js: string | undefined = text.code;
  let first: { what: string; offset: number; noFix?: string } | undefined = text.first;
  for (let i = 0; i < 50; i++) {
    const root = parse(js);
    if (!root) {
      if (!first) return {};
      js = undefined;
      break;
    }
    const step = astRewrite(root, js, isList);
    if (!step) break;
    first ??= { what: step.what, offset: step.offset, noFix: step.noFix };
    if (step.noFix) {
      first.noFix ??= step.noFix;
      js = undefined;
      break;
    }
    js = js.slice(0, step.start) + step.text + js.slice(step.end);
  }
  return { js: js?.replaceAll('$default(', 'default('), first };
}

// ---------------------------------------------------------------------------------------------
// Text-level forms (do not parse as JavaScript, or parse as a comment)

/** The code with the inside of every string literal replaced by \u0001 (same length). */
function maskStrings(code: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (quote) {
      if (c === '\\') {
        out += '\u0001\u0001';
        i++;
      } else if (c === quote) {
        quote = undefined;
        out += c;
      } else out += '\u0001';
    } else {
      if (c === "'" || c === '"' || c === '`') quote = c;
      out += c;
    }
  }
  return out;
}

const PATH = String.raw`[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[[^\]]*\])*`;
const OPERAND = String.raw`(?:${PATH}|'[^']*'|"[^"]*"|\[[^\]]*\]|\d+(?:\.\d+)?)`;

interface TextEdit {
  start: number;
  end: number;
  text: string;
  what: string;
}

/** Rewrites the forms that JavaScript cannot parse (or reads as a comment); the first one found. */
function textRewrites(code: string): { code: string; first?: { what: string; offset: number } } {
  const masked = maskStrings(code);
  const parses = parse(code) !== undefined;
  const edits: TextEdit[] = [];
  const orig = (s: number, e: number) => code.slice(s, e);
  const free = (s: number, e: number) => edits.every((x) => e <= x.start || s >= x.end);
  const scan = (re: RegExp, make: (m: RegExpExecArray, at: (g: number) => [number, number]) => Omit<TextEdit, 'start' | 'end'> & { start?: number; end?: number } | undefined) => {
    for (const m of masked.matchAll(new RegExp(re.source, 'gd'))) {
      const at = (g: number) => (m.indices![g] ?? [0, 0]) as [number, number];
      const e = make(m as RegExpExecArray, at);
      if (!e) continue;
      const start = e.start ?? m.index!;
      const end = e.end ?? m.index! + m[0].length;
      if (free(start, end)) edits.push({ start, end, text: e.text, what: e.what });
    }
  };
  // `a // 2`: Jinja's integer division, a comment in JavaScript (it parses, silently).
  scan(new RegExp(String.raw`(${OPERAND})\s*//\s*(${OPERAND})`), (m, at) => ({
    text: `Math.floor(${orig(...at(1))} / ${orig(...at(2))})`,
    what: `\`${orig(...at(0))}\` is Jinja's integer division (\`//\` starts a comment in JavaScript)`,
  }));
  // `not (x)` parses as a call of a function named `not`.
  scan(/(?<![.\w$])not\s*(?=\()/, () => ({ text: '!', what: '`not`, `and`, `or` are Python' }));
  if (!parses) {
    // `x is defined`, `r is not failed`, `v is version('2.0', '>=')`
    scan(new RegExp(String.raw`(${PATH})\s+is\s+(not\s+)?([A-Za-z_]\w*)`), (m, at) => {
      const [, end0] = at(0);
      let end = end0;
      let args: string[] = [];
      const open = /^\s*\(/.exec(masked.slice(end));
      if (open) {
        const close = matching(masked, end + open[0].length - 1);
        if (close < 0) return undefined;
        args = splitArgs(code, masked, end + open[0].length, close);
        end = close + 1;
      }
      const operand = orig(...at(1));
      const js = testToJs(operand, m[3]!, args, !!m[2]);
      return { end, text: js ?? code.slice(m.index!, end), what: `\`${code.slice(m.index!, end)}\` is a Jinja test` };
    });
    scan(new RegExp(String.raw`(${OPERAND})\s+not\s+in\s+(${OPERAND})`), (m, at) => ({
      text: `!${orig(...at(2))}.includes(${orig(...at(1))})`,
      what: '`not in` is Python',
    }));
    scan(TERNARY, (m, at) => ({
      text: `${orig(...at(1))}${orig(...at(3))} ? ${orig(...at(2))} : ${pythonTernary(orig(...at(4)))}${orig(...at(5))}`,
      what: '`x if c else y` is Python',
    }));
    scan(/(?<![.\w$])(not\s+|and(?![\w$])|or(?![\w$]))/, (m) => ({
      text: m[1]!.startsWith('not') ? '!' : m[1] === 'and' ? '&&' : '||',
      what: '`not`, `and`, `or` are Python',
    }));
    scan(/([\w$)\]'"\u0001])(\s*)~(\s*)/, (m, at) => ({ start: at(0)[0] + 1, text: `${m[2]}+${m[3]}`, what: '`~` joins strings in Jinja' }));
    scan(/(?<=(?<![\w$])[A-Za-z_$][\w$]*|[)\]])\.(\d+)(?![\w$])/, (m) => ({ text: `[${m[1]}]`, what: `\`.${m[1]}\` is Jinja's index` }));
    // `default` is a reserved word: read `| default(...)` as a filter named $default.
    scan(/\|\s*(default)(?=\s*\()/, (_m, at) => ({ start: at(1)[0], end: at(1)[1], text: '$default', what: '' }));
  }
  if (!edits.length) return { code };
  edits.sort((a, b) => a.start - b.start);
  const firstReal = edits.find((e) => e.what);
  let out = code;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { code: out, first: firstReal && { what: firstReal.what, offset: firstReal.start } };
}

const TERNARY = /^(\s*)(.+?)\s+if\s+(.+?)\s+else\s+(.+?)(\s*)$/s;

/** `a if c else b if d else e` (Python's chain: the else side is a conditional again) as `c ? a : d ? b : e`. */
function pythonTernary(code: string): string {
  const m = new RegExp(TERNARY.source, 'sd').exec(maskStrings(code));
  if (!m) return code;
  const at = (g: number) => code.slice(...(m.indices![g] as [number, number]));
  return `${at(1)}${at(3)} ? ${at(2)} : ${pythonTernary(at(4))}${at(5)}`;
}

/** Index of the `)` matching the `(` at `open` in masked code, or -1. */
function matching(masked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    if ('([{'.includes(masked[i]!)) depth++;
    else if (')]}'.includes(masked[i]!) && --depth === 0) return i;
  }
  return -1;
}

/** The comma-separated arguments between from and to (top level only), from the original code. */
function splitArgs(code: string, masked: string, from: number, to: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const c = masked[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      args.push(code.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (code.slice(start, to).trim()) args.push(code.slice(start, to).trim());
  return args;
}

/**
 * A variable path read so that an undefined part gives undefined (`a.b['c']` ->
 * `vars.a?.b?.['c']`), as Jinja's `is defined` and `default` see it; other code unchanged.
 */
function safeRead(x: string): string {
  const m = /^([A-Za-z_$][\w$]*)((?:\.[A-Za-z_$][\w$]*|\[(?:'[^']*'|"[^"]*"|\d+)\])*)$/.exec(x.trim());
  if (!m) return x;
  if (['item', 'vars'].includes(m[1]!) && !m[2]) return m[1] === 'vars' ? 'vars' : 'vars.item';
  return `vars.${m[1]}${m[2]!.replace(/\.(?=[A-Za-z_$])|(?=\[)/g, '?.')}`;
}

const VERSION_OPS: Record<string, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=', '<>': '!=', '=': '==' };

/** JavaScript for `x is [not] name(args)`, or undefined when there is no equivalent. */
function testToJs(x: string, name: string, args: string[], not: boolean, bound = false): string | undefined {
  // A lambda's parameter (`selectattr`) is not a variable: read it as it is.
  const read = bound ? x : safeRead(x);
  const a0 = args[0] ?? '';
  const [pos, neg]: [string, string] | [undefined, undefined] = (() => {
    switch (name) {
      case 'defined': return [`${read} !== undefined`, `${read} === undefined`];
      case 'undefined': return [`${read} === undefined`, `${read} !== undefined`];
      case 'none': return [`${x} === null`, `${x} !== null`];
      case 'succeeded': case 'success': return [`!${x}.failed`, `${x}.failed`];
      case 'failed': case 'failure': return [`${x}.failed`, `!${x}.failed`];
      case 'changed': case 'change': return [`${x}.changed`, `!${x}.changed`];
      case 'skipped': case 'skip': return [`${x}.skipped`, `!${x}.skipped`];
      case 'version': case 'version_compare': {
        const op = args[1] ? args[1].replace(/^(['"])(.*)\1$/, (_m, q: string, o: string) => `${q}${VERSION_OPS[o] ?? o}${q}`) : "'=='";
        const call = `versionCompare(${x}, ${a0}, ${op})`;
        return [call, `!${call}`];
      }
      case 'match': case 'search': case 'regex': {
        const lit = /^'([^'\\/]*)'$|^"([^"\\/]*)"$/.exec(a0);
        const body = lit ? (lit[1] ?? lit[2])! : undefined;
        const re = body === undefined ? `new RegExp(${name === 'match' ? `'^(?:' + ${a0} + ')'` : a0})` : name === 'match' ? `/^(?:${body})/` : `/${body}/`;
        return [`${re}.test(${x})`, `!${re}.test(${x})`];
      }
      case 'string': return [`typeof ${x} === 'string'`, `typeof ${x} !== 'string'`];
      case 'number': return [`typeof ${x} === 'number'`, `typeof ${x} !== 'number'`];
      case 'boolean': return [`typeof ${x} === 'boolean'`, `typeof ${x} !== 'boolean'`];
      case 'sequence': case 'iterable': case 'list': return [`Array.isArray(${x})`, `!Array.isArray(${x})`];
      case 'mapping': case 'dict': return [`(${x} !== null && typeof ${x} === 'object' && !Array.isArray(${x}))`, `!(${x} !== null && typeof ${x} === 'object' && !Array.isArray(${x}))`];
      case 'true': return [`${x} === true`, `${x} !== true`];
      case 'false': return [`${x} === false`, `${x} !== false`];
      // tsplay's conditions take booleans only: Boolean() makes the truthiness explicit.
      case 'truthy': return [`Boolean(${x})`, `!${x}`];
      case 'falsy': return [`!${x}`, `Boolean(${x})`];
      case 'in': return [`${a0}.includes(${x})`, `!${a0}.includes(${x})`];
      case 'contains': return [`${x}.includes(${a0})`, `!${x}.includes(${a0})`];
      case 'equalto': case 'eq': case 'sameas': return [`${x} === ${a0}`, `${x} !== ${a0}`];
      case 'divisibleby': return [`${x} % ${a0} === 0`, `${x} % ${a0} !== 0`];
      case 'even': return [`${x} % 2 === 0`, `${x} % 2 !== 0`];
      case 'odd': return [`${x} % 2 === 1`, `${x} % 2 !== 1`];
      case 'abs': return [`${x}.startsWith('/')`, `!${x}.startsWith('/')`];
      default: return [undefined, undefined];
    }
  })();
  return not ? neg : pos;
}

// ---------------------------------------------------------------------------------------------
// Parse-level forms (valid JavaScript that means something else)

interface Step {
  start: number;
  end: number;
  text: string;
  what: string;
  offset: number;
  /** No JavaScript equivalent to offer: the rest of the message. */
  noFix?: string;
}

function children(n: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const v of Object.values(n)) {
    if (Array.isArray(v)) for (const x of v) (x && typeof x === 'object' && typeof x.type === 'string') && out.push(x);
    else if (v && typeof v === 'object' && typeof (v as AnyNode).type === 'string') out.push(v as AnyNode);
  }
  return out;
}

/** The filter named by the right side of `|`: `bool`, `join(',')`, `ansible.builtin.to_json`. */
function filterOf(n: AnyNode): { name: string; args: AnyNode[] } | undefined {
  const callee = n.type === 'CallExpression' ? n.callee : n;
  const args = n.type === 'CallExpression' ? (n.arguments as AnyNode[]) : [];
  if (callee.type === 'Identifier' && (ANSIBLE_FILTERS.has(callee.name) || callee.name === '$default')) return { name: callee.name === '$default' ? 'default' : callee.name, args };
  if (callee.type === 'MemberExpression' && !callee.computed) {
    let root = callee;
    while (root.type === 'MemberExpression') root = root.object;
    if (root.type === 'Identifier' && ['ansible', 'community'].includes(root.name)) return { name: callee.property.name, args };
  }
  return undefined;
}

/**
 * The filter node of a `|`: its right side, or the leftmost operand of it (`x | int + 1` is
 * `x | (int + 1)` in JavaScript, `(x | int) + 1` in Jinja).
 */
function filterNode(n: AnyNode): AnyNode | undefined {
  if (n.type !== 'BinaryExpression' || n.operator !== '|') return undefined;
  let r = n.right as AnyNode;
  while (!filterOf(r) && r.type === 'BinaryExpression' && r.operator !== '|') r = r.left;
  return filterOf(r) ? r : undefined;
}

function isFilterPipe(n: AnyNode): boolean {
  return filterNode(n) !== undefined;
}

/** `root.a['b'][0]` as a root name and a path of constant keys, or undefined. */
function pathOf(n: AnyNode): { root: string; path: Array<string | number> } | undefined {
  const path: Array<string | number> = [];
  while (n.type === 'MemberExpression') {
    if (!n.computed) path.unshift(n.property.name);
    else if (n.property.type === 'Literal' && (typeof n.property.value === 'string' || typeof n.property.value === 'number')) path.unshift(n.property.value);
    else if (n.object.type === 'Identifier' && n.object.name === 'groups') path.unshift('*');
    else return undefined;
    n = n.object;
  }
  return n.type === 'Identifier' ? { root: n.name, path } : undefined;
}

/** The first habit in the tree (innermost filter first), as an edit of `code`. */
function astRewrite(root: AnyNode, code: string, isList: ListLike): Step | undefined {
  const src = (n: AnyNode) => code.slice(n.start, n.end);
  let found: Step | undefined;
  // `x | int in [7, 8]` is `x | (int in [7, 8])` in JavaScript: the filter goes first (Jinja's order).
  const filterTargets = new Set<AnyNode>();
  const mark = (n: AnyNode): void => {
    const f = filterNode(n);
    if (f) filterTargets.add(f);
    for (const c of children(n)) mark(c);
  };
  mark(root);
  const visit = (n: AnyNode): void => {
    if (found) return;
    for (const c of children(n)) visit(c);
    if (found) return;
    if (isFilterPipe(n)) {
      let operand = n.left as AnyNode;
      while (!isFilterPipe(operand) && (operand.type === 'BinaryExpression' || operand.type === 'LogicalExpression' || operand.type === 'UnaryExpression')) {
        operand = operand.type === 'UnaryExpression' ? operand.argument : operand.right;
      }
      const fnode = filterNode(n)!;
      const f = filterOf(fnode)!;
      const o = PRIMARY.has(operand.type) ? src(operand) : `(${src(operand)})`;
      const js = filterToJs(o, operand, f.name, f.args, src);
      const whole = operand.start === root.start && fnode.end === root.end;
      const what = `\`${code.slice(operand.start, fnode.end).replaceAll('$default(', 'default(')}\` is a Jinja filter`;
      if (!js) {
        found = { start: operand.start, end: fnode.end, text: '', what, offset: operand.start, noFix: `tsplay has no '${f.name}' helper: rewrite it in JavaScript (docs/expressions.md, "Coming from Jinja"); \`|\` is bitwise OR in JavaScript` };
        return;
      }
      found = { start: operand.start, end: fnode.end, text: js.primary || whole ? js.text : `(${js.text})`, what, offset: operand.start };
    } else if (n.type === 'BinaryExpression' && n.operator === 'in' && !filterTargets.has(n.left)) {
      const r = n.right as AnyNode;
      const p = pathOf(r);
      const listy = r.type === 'ArrayExpression' || (r.type === 'Literal' && typeof r.value === 'string') || r.type === 'TemplateLiteral' || (p !== undefined && isList(p.root, p.path));
      if (!listy) return;
      const rt = PRIMARY.has(r.type) ? src(r) : `(${src(r)})`;
      found = { start: n.start, end: n.end, text: `${rt}.includes(${src(n.left)})`, what: '`in` tests object keys in JavaScript', offset: n.start };
    } else if (n.type === 'Identifier' && ['True', 'False', 'None'].includes(n.name)) {
      const js = n.name === 'None' ? 'null' : n.name.toLowerCase();
      found = { start: n.start, end: n.end, text: js, what: `\`${n.name}\` is Python`, offset: n.start };
    } else if (n.type === 'CallExpression' && n.callee.type === 'Identifier' && ['lookup', 'query', 'q'].includes(n.callee.name)) {
      const kind = n.arguments[0]?.type === 'Literal' ? `'${n.arguments[0].value}'` : '...';
      found = { start: n.start, end: n.end, text: '', what: `\`${n.callee.name}(${kind}, ...)\` is an Ansible lookup plugin`, offset: n.start, noFix: 'tsplay has no lookups: pass the value in with vars or -e NAME=value (controller files: a vars file, or slurp on the host)' };
    }
  };
  visit(root);
  return found;
}

/** Keyword arguments (`attribute='name'`) and positional ones of a filter call. */
function splitFilterArgs(args: AnyNode[], src: (n: AnyNode) => string): { pos: string[]; kw: Record<string, string> } {
  const pos: string[] = [];
  const kw: Record<string, string> = {};
  for (const a of args) {
    if (a.type === 'AssignmentExpression' && a.operator === '=' && a.left.type === 'Identifier') kw[a.left.name] = src(a.right);
    else pos.push(src(a));
  }
  return { pos, kw };
}

/** `x.attr.path` for an attribute string literal such as 'name' or 'a.b'. */
function attrPath(lit: string | undefined): string | undefined {
  const m = lit && /^(['"])([\w.]+)\1$/.exec(lit);
  return m ? m[2]!.split('.').map((k) => (/^\d+$/.test(k) ? `[${k}]` : `.${k}`)).join('') : undefined;
}

/** JavaScript for `o | name(args)`; primary when it can stand where an operand stands. */
function filterToJs(o: string, operand: AnyNode, name: string, args: AnyNode[], src: (n: AnyNode) => string): { text: string; primary: boolean } | undefined {
  const { pos, kw } = splitFilterArgs(args, src);
  const [a, b] = pos;
  const call = (fn: string, ...rest: Array<string | undefined>) => ({ text: `${fn}(${[o, ...rest.filter((x) => x !== undefined)].join(', ')})`, primary: true });
  const method = (m: string) => ({ text: `${o}.${m}`, primary: true });
  const expr = (text: string) => ({ text, primary: false });
  const readVar = operand.type === 'Identifier' || operand.type === 'MemberExpression' ? safeRead(src(operand)) : o;
  switch (name) {
    case 'bool': case 'basename': case 'dirname': case 'quote': case 'unique': case 'flatten': case 'b64encode': case 'b64decode':
      return call(name, a);
    case 'default': case 'd':
      return b && b !== 'false' ? { text: `defaultTo(${readVar}, ${a ?? "''"}, true)`, primary: true } : expr(`${readVar} ?? ${a ?? "''"}`);
    case 'mandatory': return { text: o, primary: PRIMARY.has(operand.type) };
    case 'join': return method(`join(${a ?? "''"})`);
    case 'length': case 'count': return method('length');
    case 'int': return { text: `parseInt(${o}, 10)`, primary: true };
    case 'float': return { text: `parseFloat(${o})`, primary: true };
    case 'string': return { text: `String(${o})`, primary: true };
    case 'list': return { text: `[...${o}]`, primary: true };
    case 'lower': return method('toLowerCase()');
    case 'upper': return method('toUpperCase()');
    case 'capitalize': return expr(`${o}.charAt(0).toUpperCase() + ${o}.slice(1).toLowerCase()`);
    case 'trim': return method('trim()');
    case 'first': return { text: `${o}[0]`, primary: true };
    case 'last': return method('at(-1)');
    case 'min': case 'max': return { text: `Math.${name}(...${o})`, primary: true };
    case 'sum': return method('reduce((a, b) => a + b, 0)');
    case 'abs': case 'round': return { text: `Math.${name}(${o})`, primary: true };
    case 'sort': return { text: `[...${o}].sort()`, primary: true };
    case 'reverse': return { text: `[...${o}].reverse()`, primary: true };
    case 'split': return method(`split(${a ?? "' '"})`);
    case 'replace': return a && b ? method(`replaceAll(${a}, ${b})`) : undefined;
    case 'regex_replace': return a ? call('regexReplace', a, b ?? "''") : undefined;
    case 'to_json': case 'tojson': return call('toJson');
    case 'to_nice_json': return call('toJson', kw.indent ?? '4');
    case 'to_yaml': case 'to_nice_yaml': return call('toYaml');
    case 'from_json': return call('fromJson');
    case 'from_yaml': return call('fromYaml');
    case 'hash': return call('hash', a ?? "'sha1'");
    case 'md5': case 'sha1': return call('hash', `'${name}'`);
    case 'ternary': return a !== undefined && b !== undefined ? expr(`${o} ? ${a} : ${b}`) : undefined;
    case 'combine': return a ? { text: `({ ...${o}, ...${a} })`, primary: true } : undefined;
    case 'dict2items': return { text: `Object.entries(${o}).map(([key, value]) => ({ key, value }))`, primary: true };
    case 'items2dict': return { text: `Object.fromEntries(${o}.map((i) => [i.key, i.value]))`, primary: true };
    case 'union': return a ? { text: `unique([...${o}, ...${a}])`, primary: true } : undefined;
    case 'difference': return a ? method(`filter((x) => !${a}.includes(x))`) : undefined;
    case 'intersect': return a ? method(`filter((x) => ${a}.includes(x))`) : undefined;
    case 'map': {
      const path = attrPath(kw.attribute);
      if (path) return method(`map((x) => x${path})`);
      const inner = a && /^(['"])(\w+)\1$/.exec(a)?.[2];
      const each = inner ? filterToJs('x', { type: 'Identifier', name: 'x' } as unknown as AnyNode, inner, [], src) : undefined;
      return each ? method(`map((x) => ${each.text})`) : undefined;
    }
    case 'selectattr': case 'rejectattr': {
      const path = attrPath(a);
      if (!path) return undefined;
      const test = pos[1] ? testToJs(`x${path}`, pos[1].replace(/^['"]|['"]$/g, ''), pos.slice(2), false, true) : `x${path}`;
      if (!test) return undefined;
      return method(`filter((x) => ${name === 'rejectattr' ? `!(${test})` : test})`);
    }
    case 'select': case 'reject':
      return pos.length === 0 ? method(name === 'select' ? 'filter(Boolean)' : 'filter((x) => !x)') : undefined;
    case 'indent': return method(`split('\\n').join('\\n' + ' '.repeat(${a ?? '4'}))`);
    case 'comment': return undefined;
    case 'version_compare': return a ? call('versionCompare', a, b ?? "'=='") : undefined;
    default: return undefined;
  }
}

/** The constant keys read directly off the free name `root` (`root.a`, `root['b']`), for validation. */
export function constantKeys(code: string, root: string): string[] {
  const tree = parse(code);
  const keys: string[] = [];
  const visit = (n: AnyNode): void => {
    if (n.type === 'MemberExpression' && n.object.type === 'Identifier' && n.object.name === root) {
      const p = pathOf(n);
      if (p && typeof p.path[0] === 'string') keys.push(p.path[0]);
    }
    for (const c of children(n)) visit(c);
  };
  if (tree) visit(tree);
  return [...new Set(keys)];
}
