/**
 * Static analysis of one JavaScript expression (the code between `{{` and `}}`): which outer
 * names it reads, and whether it contains the mistakes we refuse (assignment to a variable,
 * `eval`, `import()`...). It also produces the compiled form of the code, in which each free
 * name is read through a function call, so variables are looked up only when actually used
 * (`vars.x !== undefined && x > 1` does not fail when x is missing).
 *
 * The checks catch typos; isolation is the job of sandbox.ts, which runs the compiled form.
 */
import { parse, parseExpressionAt, type Node } from 'acorn';
import { ExprSyntaxError, JinjaHabitError } from './expr-errors.js';
import { jinjaHabit } from './jinja.js';

export interface Analysis {
  /** Free identifiers read by the expression, in order of first use. */
  names: string[];
}

export interface CompiledForm extends Analysis {
  /** The expression with every free name `x` replaced by `(GET("x"))`. */
  body: string;
  /**
   * True when the expression surely finishes quickly: no functions, loops, classes, `new`, regular
   * expressions or calls other than to helpers and built-in methods that take no callback and
   * cannot backtrack (`x.includes(y)`, `defaultTo(a, b)`). Such an expression runs without a watchdog.
   */
  quick: boolean;
}

/** Parameter names of the compiled function (chosen so they cannot clash with user names). */
export const GET = '$tsplay$get';
export const TYPEOF = '$tsplay$typeof';

const FORBIDDEN_NAMES: Record<string, string> = {
  eval: '`eval` is not allowed in expressions',
  Function: '`Function` (code from strings) is not allowed in expressions',
};

type AnyNode = Node & Record<string, any>;

/** Parses the code as one expression; throws ExprSyntaxError with an offset inside `code`. */
export function parseExpression(code: string): AnyNode {
  if (code.trim() === '') throw new ExprSyntaxError('empty expression', 0);
  let node: AnyNode;
  try {
    node = parseExpressionAt(code, 0, { ecmaVersion: 'latest', sourceType: 'script', preserveParens: true }) as AnyNode;
  } catch (e) {
    const err = e as SyntaxError & { pos?: number };
    const reason = err.message.replace(/\s*\(\d+:\d+\)$/, '');
    throw habitError(code) ?? new ExprSyntaxError(reason, err.pos ?? 0, jinjaHint(code));
  }
  const rest = skipSpaceAndComments(code, node.end);
  if (rest < code.length) {
    throw habitError(code) ?? new ExprSyntaxError(`unexpected '${code.slice(rest, rest + 10)}' after the expression`, rest, jinjaHint(code));
  }
  const habit = habitError(code);
  if (habit) throw habit;
  return node;
}

/** Ansible/Jinja written where JavaScript is expected (jinja.ts), as the error to throw. */
function habitError(code: string): JinjaHabitError | undefined {
  const h = jinjaHabit(code);
  return h && new JinjaHabitError(h.message, h.offset);
}

/** Free names of an expression (see the file header). */
export function analyzeExpression(code: string): Analysis {
  return { names: compileForm(code).names };
}

/** Analysis plus the rewritten body used by evaluate(). */
export function compileForm(code: string): CompiledForm {
  const root = parseExpression(code);
  const names: string[] = [];
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const reference = (id: AnyNode, scope: Bindings, shorthandKey = false) => {
    const name = id.name as string;
    if (scope.has(name)) return;
    if (name in FORBIDDEN_NAMES) throw new ExprSyntaxError(FORBIDDEN_NAMES[name]!, id.start);
    if (name.startsWith('$tsplay$')) throw new ExprSyntaxError(`reserved name '${name}'`, id.start);
    if (!names.includes(name)) names.push(name);
    const read = `(${GET}(${JSON.stringify(name)}))`;
    edits.push({ start: id.start, end: id.end, text: shorthandKey ? `${name}: ${read}` : read });
  };
  walk(root, new Bindings(null), { reference, edits });
  let body = code;
  for (const e of edits.sort((a, b) => b.start - a.start)) body = body.slice(0, e.start) + e.text + body.slice(e.end);
  return { names, body, quick: isQuick(root) };
}

const QUICK_NODES = new Set([
  'Identifier', 'Literal', 'MemberExpression', 'ChainExpression', 'BinaryExpression', 'LogicalExpression', 'UnaryExpression',
  'ConditionalExpression', 'TemplateLiteral', 'TemplateElement', 'ArrayExpression', 'ObjectExpression', 'Property',
  'SpreadElement', 'SequenceExpression', 'ParenthesizedExpression', 'CallExpression',
]);
/** Helpers and global functions that run in bounded time and call no user code (regexReplace can backtrack). */
const QUICK_FUNCTIONS = new Set([
  'String', 'Number', 'Boolean', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent', 'decodeURIComponent', 'encodeURI',
  'decodeURI', 'defaultTo', 'bool', 'b64encode', 'b64decode', 'quote', 'toJson', 'fromJson', 'toYaml', 'fromYaml', 'join', 'unique',
  'flatten', 'basename', 'dirname', 'hash', 'versionCompare',
]);
/** Methods of strings, arrays, numbers, Math, JSON and Object that take no callback and no pattern. */
const QUICK_METHODS = new Set([
  'includes', 'indexOf', 'lastIndexOf', 'join', 'startsWith', 'endsWith', 'toUpperCase', 'toLowerCase', 'trim', 'trimStart', 'trimEnd',
  'slice', 'substring', 'at', 'concat', 'toString', 'toFixed', 'keys', 'values', 'entries', 'hasOwnProperty', 'flat',
  'max', 'min', 'abs', 'floor', 'ceil', 'round', 'trunc', 'sign', 'parse', 'stringify',
]);

function isQuick(root: AnyNode, nodes: ReadonlySet<string> = QUICK_NODES, functions: ReadonlySet<string> = QUICK_FUNCTIONS): boolean {
  const ok = (n: AnyNode): boolean => {
    if (!nodes.has(n.type)) return false;
    if (n.type === 'Literal' && n.regex) return false;
    if (n.type === 'Property' && (n.kind !== 'init' || n.method)) return false;
    if (n.type === 'CallExpression') {
      const c = n.callee;
      const quickCallee = (c.type === 'Identifier' && functions.has(c.name)) || (c.type === 'MemberExpression' && !c.computed && QUICK_METHODS.has(c.property.name));
      if (!quickCallee) return false;
    }
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) {
        for (const x of v) if (isNode(x) && !ok(x)) return false;
      } else if (isNode(v) && !ok(v)) return false;
    }
    return true;
  };
  return ok(root);
}

/** Statements a template's code may hold and still surely finish quickly: no loops, functions, try, labels. */
const QUICK_TEMPLATE_NODES = new Set([...QUICK_NODES, 'ExpressionStatement', 'BlockStatement', 'IfStatement', 'EmptyStatement', 'VariableDeclaration', 'VariableDeclarator', 'AssignmentExpression', 'UpdateExpression']);

/**
 * What the code EJS generates for a template's tags (the body of its function, without the
 * wrapper) mentions: every identifier (a superset of the variables it reads), and whether it
 * surely finishes quickly as an expression does (`<%= x %>`, `<% if (a) { %>`, but no loop and
 * no include()). `internal` names the functions of EJS's generated code (`__append`, `escapeFn`).
 * Throws acorn's SyntaxError.
 */
export function analyzeTemplateCode(code: string, internal: Iterable<string>): { names: string[]; quick: boolean } {
  const root = parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true }) as AnyNode;
  const names = new Set<string>();
  const visit = (n: AnyNode): void => {
    if (n.type === 'Identifier') names.add(n.name as string);
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) {
        for (const x of v) if (isNode(x)) visit(x);
      } else if (isNode(v)) visit(v);
    }
  };
  visit(root);
  const quick = (root.body as AnyNode[]).every((st) => isQuick(st, QUICK_TEMPLATE_NODES, new Set([...QUICK_FUNCTIONS, ...internal])));
  return { names: [...names], quick };
}

/** Names bound inside the expression (arrow params, local declarations), chained outward. */
class Bindings {
  private readonly own = new Set<string>();
  constructor(private readonly parent: Bindings | null) {}
  add(name: string): void {
    this.own.add(name);
  }
  has(name: string): boolean {
    return this.own.has(name) || (this.parent?.has(name) ?? false);
  }
}

interface WalkCtx {
  reference(id: AnyNode, scope: Bindings, shorthandKey?: boolean): void;
  edits: Array<{ start: number; end: number; text: string }>;
}

function isNode(v: unknown): v is AnyNode {
  return !!v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string';
}

/** Visits child nodes generically (every property that holds a node or a list of nodes). */
function walkChildren(node: AnyNode, scope: Bindings, ctx: WalkCtx, skip: string[] = []): void {
  for (const [key, v] of Object.entries(node)) {
    if (skip.includes(key)) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (isNode(x)) walk(x, scope, ctx);
    } else if (isNode(v)) {
      walk(v, scope, ctx);
    }
  }
}

function walk(node: AnyNode, scope: Bindings, ctx: WalkCtx): void {
  switch (node.type) {
    case 'Identifier':
      ctx.reference(node, scope);
      return;
    case 'MemberExpression':
      walk(node.object, scope, ctx);
      if (node.computed) walk(node.property, scope, ctx);
      return;
    case 'Property':
    case 'PropertyDefinition':
    case 'MethodDefinition':
      if (node.computed) walk(node.key, scope, ctx);
      if (node.type === 'Property' && node.shorthand && node.value.type === 'Identifier') {
        if (!scope.has(node.value.name)) ctx.reference(node.value, scope, true);
        return;
      }
      if (node.value) walk(node.value, scope, ctx);
      return;
    case 'LabeledStatement':
      walk(node.body, scope, ctx);
      return;
    case 'BreakStatement':
    case 'ContinueStatement':
    case 'MetaProperty':
    case 'Literal':
    case 'ThisExpression':
    case 'Super':
    case 'PrivateIdentifier':
      return;
    case 'ImportExpression':
      throw new ExprSyntaxError('import() is not allowed in expressions', node.start);
    case 'NewExpression':
    case 'CallExpression':
      if (node.callee.type === 'Identifier' && node.callee.name === 'Function' && !scope.has('Function')) {
        throw new ExprSyntaxError('`new Function` (code from strings) is not allowed in expressions', node.start);
      }
      walkChildren(node, scope, ctx);
      return;
    case 'UnaryExpression':
      while (node.operator === 'typeof' && node.argument.type === 'ParenthesizedExpression') node.argument = node.argument.expression;
      if (node.operator === 'typeof' && node.argument.type === 'Identifier' && !scope.has(node.argument.name)) {
        // typeof x of a missing variable is 'undefined', as in plain JavaScript.
        ctx.reference(node.argument, scope);
        const last = ctx.edits[ctx.edits.length - 1];
        if (last && last.start === node.argument.start) {
          Object.assign(last, { start: node.start, end: node.end, text: `(${TYPEOF}(${JSON.stringify(node.argument.name)}))` });
        }
        return;
      }
      walk(node.argument, scope, ctx);
      return;
    case 'AssignmentExpression':
      checkAssignTarget(node.left, scope, node.operator === '=' ? 'assign' : 'update', node.start);
      walkPattern(node.left, scope, ctx, false);
      walk(node.right, scope, ctx);
      return;
    case 'UpdateExpression':
      checkAssignTarget(node.argument, scope, 'update', node.start);
      walk(node.argument, scope, ctx);
      return;
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
    case 'FunctionDeclaration': {
      const inner = new Bindings(scope);
      if (node.type !== 'ArrowFunctionExpression') inner.add('arguments');
      if (node.id && node.type === 'FunctionExpression') inner.add(node.id.name);
      for (const p of node.params) declarePattern(p, inner);
      if (node.body.type === 'BlockStatement') hoist(node.body, inner);
      for (const p of node.params) walkPattern(p, inner, ctx, true);
      if (node.body.type === 'BlockStatement') walkChildren(node.body, inner, ctx);
      else walk(node.body, inner, ctx);
      return;
    }
    case 'ClassExpression':
    case 'ClassDeclaration': {
      const inner = new Bindings(scope);
      if (node.id) inner.add(node.id.name);
      if (node.superClass) walk(node.superClass, scope, ctx);
      walk(node.body, inner, ctx);
      return;
    }
    case 'BlockStatement':
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement':
    case 'SwitchStatement': {
      const inner = new Bindings(scope);
      hoist(node, inner);
      walkChildren(node, inner, ctx);
      return;
    }
    case 'CatchClause': {
      const inner = new Bindings(scope);
      if (node.param) declarePattern(node.param, inner);
      hoist(node.body, inner);
      walkChildren(node.body, inner, ctx);
      return;
    }
    case 'VariableDeclarator':
      walkPattern(node.id, scope, ctx, true);
      if (node.init) walk(node.init, scope, ctx);
      return;
    default:
      walkChildren(node, scope, ctx);
  }
}

/** Walks a binding/assignment pattern: only default values and computed keys are reads. */
function walkPattern(p: AnyNode, scope: Bindings, ctx: WalkCtx, binding: boolean): void {
  switch (p.type) {
    case 'Identifier':
      if (!binding) ctx.reference(p, scope);
      return;
    case 'ObjectPattern':
      for (const prop of p.properties) {
        if (prop.type === 'RestElement') walkPattern(prop.argument, scope, ctx, binding);
        else {
          if (prop.computed) walk(prop.key, scope, ctx);
          walkPattern(prop.value, scope, ctx, binding);
        }
      }
      return;
    case 'ArrayPattern':
      for (const el of p.elements) if (el) walkPattern(el, scope, ctx, binding);
      return;
    case 'RestElement':
      walkPattern(p.argument, scope, ctx, binding);
      return;
    case 'AssignmentPattern':
      walkPattern(p.left, scope, ctx, binding);
      walk(p.right, scope, ctx);
      return;
    default: // MemberExpression as an assignment target
      walk(p, scope, ctx);
  }
}

function declarePattern(p: AnyNode, scope: Bindings): void {
  switch (p.type) {
    case 'Identifier':
      scope.add(p.name);
      return;
    case 'ObjectPattern':
      for (const prop of p.properties) declarePattern(prop.type === 'RestElement' ? prop.argument : prop.value, scope);
      return;
    case 'ArrayPattern':
      for (const el of p.elements) if (el) declarePattern(el, scope);
      return;
    case 'RestElement':
      declarePattern(p.argument, scope);
      return;
    case 'AssignmentPattern':
      declarePattern(p.left, scope);
      return;
  }
}

/**
 * Declares the names a block introduces (var/let/const/function/class), looking into nested
 * blocks but not into nested functions. Slightly generous (treats `var` and `let` alike), which
 * can only make an inner name count as bound, never report a false "undefined variable".
 */
function hoist(node: AnyNode, scope: Bindings): void {
  const visit = (n: AnyNode): void => {
    if (n.type === 'VariableDeclaration') {
      for (const d of n.declarations) declarePattern(d.id, scope);
    } else if (n.type === 'FunctionDeclaration' || n.type === 'ClassDeclaration') {
      if (n.id) scope.add(n.id.name);
      return;
    }
    if (/Function|Class/.test(n.type)) return;
    for (const v of Object.values(n)) {
      forEachChild(v, visit);
    }
  };
  for (const v of Object.values(node)) {
    forEachChild(v, visit);
  }
}

function forEachChild(v: unknown, fn: (n: AnyNode) => void): void {
  if (Array.isArray(v)) {
    for (const x of v) if (isNode(x)) fn(x);
  } else if (isNode(v)) {
    fn(v);
  }
}

/** Root identifier of an assignment target, e.g. `a` for `a.b[c] = 1`. */
function targetRoots(p: AnyNode): AnyNode[] {
  switch (p.type) {
    case 'Identifier':
      return [p];
    case 'MemberExpression':
      return p.object.type === 'ThisExpression' ? [] : targetRoots(p.object);
    case 'ObjectPattern':
      return p.properties.flatMap((x: AnyNode) => targetRoots(x.type === 'RestElement' ? x.argument : x.value));
    case 'ArrayPattern':
      return p.elements.flatMap((x: AnyNode | null) => (x ? targetRoots(x) : []));
    case 'RestElement':
      return targetRoots(p.argument);
    case 'AssignmentPattern':
      return targetRoots(p.left);
    case 'ParenthesizedExpression':
      return targetRoots(p.expression);
    default:
      return [];
  }
}

function checkAssignTarget(target: AnyNode, scope: Bindings, kind: 'assign' | 'update', at: number): void {
  for (const id of targetRoots(target)) {
    if (scope.has(id.name)) continue;
    if (kind === 'assign') {
      throw new ExprSyntaxError('assignment in expression; did you mean ===?', at,
        'expressions compare with === and never change variables; use set_fact to set one');
    }
    throw new ExprSyntaxError(`expression changes variable '${id.name}'`, at,
      'expressions never change variables; compute a new value (x + 1) or use set_fact');
  }
}

function skipSpaceAndComments(s: string, i: number): number {
  for (;;) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (s.startsWith('//', i)) {
      const nl = s.indexOf('\n', i);
      i = nl < 0 ? s.length : nl + 1;
    } else if (s.startsWith('/*', i)) {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return i;
      i = end + 2;
    } else {
      return i;
    }
  }
}

/** A hint when the code looks like Jinja rather than JavaScript. */
export function jinjaHint(code: string): string | undefined {
  if (/\bis\s+(not\s+)?(defined|undefined|none)\b/.test(code)) {
    return "expressions are JavaScript: write vars.x !== undefined instead of 'x is defined'";
  }
  if (/\|\s*[A-Za-z_]\w*/.test(code) && !/\|\|/.test(code)) {
    return 'expressions are JavaScript, not Jinja: call helpers instead of filters, e.g. defaultTo(x, 1), join(list, ","), x.toUpperCase()';
  }
  if (/\s(and|or|not)\s/.test(` ${code} `)) {
    return 'expressions are JavaScript: use &&, || and ! instead of and, or, not';
  }
  return undefined;
}
