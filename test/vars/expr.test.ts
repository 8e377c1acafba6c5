import { expect } from 'chai';
import {
  analyzeExpression,
  evaluate,
  evaluateCondition,
  ExprRuntimeError,
  exprTimeout,
  exprTimeoutFromEnv,
  isPlainObject,
  setExprTimeout,
  ExprSyntaxError,
  isTemplate,
  parseTemplate,
  render,
  templateNames,
  truthy,
  UndefinedVariableError,
} from '../../src/vars/expr.js';
import { UserError } from '../../src/core/errors.js';
import { secret } from '../../src/core/secret.js';
import { Scope } from '../../src/vars/scope.js';

/** Runs fn and returns what it threw (fails the test if it did not throw). */
function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  expect.fail('expected an error');
}

describe('vars/expr', () => {
  describe('parseTemplate', () => {
    it('splits text and expressions, with the offset of each code', () => {
      const text = 'http://{{ host }}:{{port}}/x';
      expect(parseTemplate(text)).to.deep.equal([
        { kind: 'text', text: 'http://' },
        { kind: 'expr', code: ' host ', offset: 9 },
        { kind: 'text', text: ':' },
        { kind: 'expr', code: 'port', offset: 20 },
        { kind: 'text', text: '/x' },
      ]);
      expect(text.slice(9, 15)).to.equal(' host ');
      expect(text.slice(20, 24)).to.equal('port');
    });

    it('does not end an expression at a }} inside a string, template literal or object', () => {
      expect(parseTemplate("a{{ '}}' + x }}b")).to.deep.equal([
        { kind: 'text', text: 'a' },
        { kind: 'expr', code: " '}}' + x ", offset: 3 },
        { kind: 'text', text: 'b' },
      ]);
      expect(parseTemplate('{{ {a: {b: 1}} }}')).to.deep.equal([{ kind: 'expr', code: ' {a: {b: 1}} ', offset: 2 }]);
      expect(parseTemplate('{{{a:1}}}')).to.deep.equal([{ kind: 'expr', code: '{a:1}', offset: 2 }]);
      expect(parseTemplate('{{ `${x}}}` }}!')).to.deep.equal([
        { kind: 'expr', code: ' `${x}}}` ', offset: 2 },
        { kind: 'text', text: '!' },
      ]);
    });

    it('returns plain text as one part, and nothing for an empty string', () => {
      expect(parseTemplate('no templates { here }')).to.deep.equal([{ kind: 'text', text: 'no templates { here }' }]);
      expect(parseTemplate('')).to.deep.equal([]);
    });

    it('reports an unterminated {{ at its offset', () => {
      const e = thrown(() => parseTemplate('abc {{ x'));
      expect(e).to.be.instanceOf(ExprSyntaxError);
      expect(e.offset).to.equal(4);
      expect(e.message).to.match(/without a matching '}}'/);
    });

    it('rejects Jinja statements and comments with a hint that expressions are JavaScript', () => {
      const e = thrown(() => parseTemplate('x {% if a %}y{% endif %}'));
      expect(e).to.be.instanceOf(ExprSyntaxError);
      expect(e.offset).to.equal(2);
      expect(e.message).to.match(/Jinja statements/);
      expect(e.hint).to.match(/JavaScript/);
      expect(thrown(() => parseTemplate('a {# note #} b')).message).to.match(/Jinja comments/);
    });

    it('leaves shell syntax that merely looks like Jinja alone', () => {
      expect(parseTemplate('echo ${#arr[@]}')).to.deep.equal([{ kind: 'text', text: 'echo ${#arr[@]}' }]);
      expect(isTemplate('printf "%s" {%')).to.equal(false);
    });
  });

  describe('analyzeExpression', () => {
    it('returns free names, not properties, object keys, arrow params or inner bindings', () => {
      const code = 'xs.map((x, i) => x.y + z[i]).filter(({ a, b = c }) => a[k]) + `${t}` + { q, r: s }.r';
      expect(analyzeExpression(code).names).to.deep.equal(['xs', 'z', 'c', 'k', 't', 'q', 's']);
    });

    it('handles names declared inside function bodies and catch clauses', () => {
      const code = '(() => { const n = m + 1; let [p] = ps; function f(w) { return w + arguments.length } try { g() } catch (err) { return err } return f(n + p) })()';
      expect(analyzeExpression(code).names).to.deep.equal(['m', 'ps', 'g']);
    });

    it('reads an expression wrapped in parentheses', () => {
      expect(analyzeExpression('({ a: x })').names).to.deep.equal(['x']);
      expect(evaluate('({ a: x })', { x: 1 })).to.deep.equal({ a: 1 });
      expect(evaluate('typeof (missing)', {})).to.equal('undefined');
      expect(thrown(() => analyzeExpression('(x) = 1'))).to.be.instanceOf(ExprSyntaxError);
    });

    it('lists each name once, in order of first use', () => {
      expect(analyzeExpression('b + a + b.c + a').names).to.deep.equal(['b', 'a']);
    });

    it('reports a syntax error with its offset inside the code', () => {
      const e = thrown(() => analyzeExpression('a + * b'));
      expect(e).to.be.instanceOf(ExprSyntaxError);
      expect(e.offset).to.equal(4);
      expect(e.message).to.equal('Unexpected token');
    });

    it('reports trailing garbage and empty expressions', () => {
      expect(thrown(() => analyzeExpression('a b')).offset).to.equal(2);
      expect(thrown(() => analyzeExpression('   ')).message).to.equal('empty expression');
    });

    it('rejects assignment to outer names: when: x = 1 is a mistake', () => {
      for (const code of ['x = 1', 'a.b = 1', '[a] = [1]', 'x += 1', 'x++', 'f(x = 2)']) {
        const e = thrown(() => analyzeExpression(code));
        expect(e, code).to.be.instanceOf(ExprSyntaxError);
      }
      expect(thrown(() => analyzeExpression('x = 1')).message).to.equal('assignment in expression; did you mean ===?');
      expect(thrown(() => analyzeExpression('n++')).message).to.match(/changes variable 'n'/);
    });

    it('allows assignment to names bound inside the expression', () => {
      expect(analyzeExpression('xs.reduce((acc, x) => { acc[x] = (acc[x] ?? 0) + 1; return acc }, {})').names).to.deep.equal(['xs']);
      expect(analyzeExpression('(() => { let n = 0; n += 2; n++; return n })()').names).to.deep.equal([]);
    });

    it('rejects eval, new Function and import()', () => {
      expect(thrown(() => analyzeExpression('eval("1")')).message).to.match(/eval/);
      expect(thrown(() => analyzeExpression('new Function("return 1")')).message).to.match(/Function/);
      expect(thrown(() => analyzeExpression('Function("return 1")()')).message).to.match(/Function/);
      expect(thrown(() => analyzeExpression('import("fs")')).message).to.match(/import\(\)/);
    });

    it('refuses Jinja with the JavaScript to write, in one line', () => {
      expect(thrown(() => analyzeExpression("x | default('a')")).message).to.include("write `vars.x ?? 'a'`");
      expect(thrown(() => analyzeExpression('x is defined')).message).to.include('write `vars.x !== undefined`');
      expect(thrown(() => analyzeExpression('a and b')).message).to.include('write `a && b`');
    });

    it('refuses Jinja that parses as JavaScript meaning something else (jinja.ts)', () => {
      const cases: Array<[string, string]> = [
        ["flag | bool", 'write `bool(flag)`'],
        ["xs | join(',')", "write `xs.join(',')`"],
        ['p | basename', 'write `basename(p)`'],
        ['xs | unique', 'write `unique(xs)`'],
        ['s | quote', 'write `quote(s)`'],
        ['n | int + 1', 'write `parseInt(n, 10) + 1`'],
        ['a == b | int', 'write `a == parseInt(b, 10)`'],
        ["x | default('a') | upper", "write `(vars.x ?? 'a').toUpperCase()`"],
        ["users | map(attribute='name') | join(', ')", "write `users.map((x) => x.name).join(', ')`"],
        ["items | selectattr('on') | list", 'write `[...items.filter((x) => x.on)]`'],
        ['cfg | ansible.builtin.to_nice_json', 'write `toJson(cfg, 4)`'],
        ["x in ['a', 'b']", "write `['a', 'b'].includes(x)`"],
        ["'s' in 'abc'", "write `'abc'.includes('s')`"],
        ["'web' in group_names", "write `group_names.includes('web')`"],
        ["h in groups['db']", "write `groups['db'].includes(h)`"],
        ["'err' in r.stderr", "write `r.stderr.includes('err')`"],
        ['mem // 1024', 'write `Math.floor(mem / 1024)`'],
        ['True', 'write `true`'],
        ["lookup('env', 'HOME')", 'Ansible lookup plugin'],
        ["x not in ['a']", "write `!['a'].includes(x)`"],
        ["'a' if c else 'b'", "write `c ? 'a' : 'b'`"],
        ['v is version("1.2", "lt")', 'write `versionCompare(v, "1.2", "<")`'],
        ['r is not succeeded', 'write `r.failed`'],
        ["xs.0", 'write `xs[0]`'],
        ["x | regex_search('a')", "tsplay has no 'regex_search' helper"],
      ];
      for (const [code, want] of cases) expect(thrown(() => analyzeExpression(code)).message, code).to.include(want);
    });

    it('keeps JavaScript that looks alike: bitwise OR of numbers and non-filter names, in against objects', () => {
      for (const code of ['flags | mask', '1 | 2', 'a | (int)', "'x' in vars", "'k' in hostvars[h]", 'a.b | c.d', '~n', 'x /* note */']) {
        expect(() => analyzeExpression(code), code).to.not.throw();
      }
    });
  });

  describe('evaluate', () => {
    it('evaluates with variables from a plain object', () => {
      expect(evaluate('port + 1', { port: 8080 })).to.equal(8081);
      expect(evaluate('users.map(u => u.name).join(",")', { users: [{ name: 'a' }, { name: 'b' }] })).to.equal('a,b');
      expect(evaluate('{ q, r: 1 }', { q: 5 })).to.deep.equal({ q: 5, r: 1 });
    });

    it('throws UndefinedVariableError naming the variable, with a did-you-mean hint', () => {
      const e = thrown(() => evaluate('hsot + 1', { host: 'a' }));
      expect(e).to.be.instanceOf(UndefinedVariableError);
      expect(e).to.be.instanceOf(UserError);
      expect(e.variable).to.equal('hsot');
      expect(e.message).to.equal("undefined variable 'hsot'");
      expect(e.hint).to.equal("did you mean 'host'?");
    });

    it('reads a variable only when the expression uses it', () => {
      expect(evaluate('vars.x !== undefined && x > 1', {})).to.equal(false);
      expect(evaluate('vars.x !== undefined && x > 1', { x: 5 })).to.equal(true);
      expect(evaluate("'x' in vars ? x : 'none'", {})).to.equal('none');
      expect(evaluate('ok ? 1 : missing', { ok: true })).to.equal(1);
      expect(evaluate('typeof missing', {})).to.equal('undefined');
      expect(evaluate('typeof x', { x: 1 })).to.equal('number');
    });

    it('turns a JavaScript exception into a one-line ExprRuntimeError', () => {
      const e = thrown(() => evaluate('a.b.c', { a: {} }));
      expect(e).to.be.instanceOf(ExprRuntimeError);
      expect(e.message).to.equal("expression {{ a.b.c }} failed: TypeError: Cannot read properties of undefined (reading 'c')");
      expect(e.message).not.to.include('\n');
    });

    it('does not expose Node globals that are not helpers', () => {
      expect(thrown(() => evaluate('process.exit(1)', {}))).to.be.instanceOf(UndefinedVariableError);
      expect(thrown(() => evaluate('require("fs")', {}))).to.be.instanceOf(UndefinedVariableError);
    });

    it('lets variables shadow helpers', () => {
      expect(evaluate('join', { join: 'mine' })).to.equal('mine');
      expect(evaluate('join([1, 2], "-")', {})).to.equal('1-2');
    });

    it('gives expressions the value of secrets', () => {
      expect(evaluate('pw.length', { pw: secret('hunter2') })).to.equal(7);
    });

    it('caches compiled code but evaluates with each scope', () => {
      expect(evaluate('n * 2', { n: 1 })).to.equal(2);
      expect(evaluate('n * 2', { n: 21 })).to.equal(42);
    });
  });

  describe('isolation (expressions cannot reach the controller)', () => {
    /** What each escape attempt gives: an error, or a value that is not the controller's process. */
    const attempt = (code: string, vars: Record<string, unknown> = {}): unknown => {
      try {
        return evaluate(code, vars);
      } catch (e) {
        return e;
      }
    };
    const escapes = [
      "''.constructor.constructor('return process')()",
      "x.constructor.constructor('return process')()",
      "vars.constructor.constructor('return process')()",
      "defaultTo.constructor('return process')()",
      "JSON.constructor.constructor('return process')()",
      "(() => { try { nope } catch (e) { return e.constructor.constructor('return process')() } })()",
      "(() => { try { bool('maybe') } catch (e) { return e.constructor.constructor('return process')() } })()",
      "(() => { try { null.x } catch (e) { return e.constructor.constructor('return process')() } })()",
    ];
    for (const code of escapes) {
      it(`gives no process: ${code}`, () => {
        const r = attempt(code, { x: { a: 1 } });
        expect(r).not.to.equal(process);
        expect(r).to.be.instanceOf(ExprRuntimeError);
        expect((r as Error).message).to.match(/Code generation from strings disallowed/);
      });
    }

    it('has no require, module or global process', () => {
      expect(attempt("''.constructor.constructor('return typeof require')()")).to.be.instanceOf(ExprRuntimeError);
      expect(evaluate("typeof vars.process + typeof vars.require", {})).to.equal('undefinedundefined');
    });

    it('cannot pollute prototypes, for the controller or for the next expression', () => {
      const tries = [
        'Object.assign(Object.prototype, { polluted: 1 })',
        '(() => { [].constructor.prototype.polluted = 1 })()',
        "Object.defineProperty(Object.getPrototypeOf(x), 'polluted', { value: 1 })",
        "(() => { x.__proto__.polluted = 1 })()",
        "Object.defineProperty(String.prototype, 'polluted', { value: 1 })",
      ];
      for (const code of tries) attempt(code, { x: { a: 1 } });
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(([] as unknown as Record<string, unknown>).polluted).to.equal(undefined);
      expect(evaluate('[({}).polluted, [].polluted, x.polluted, "s".polluted]', { x: { a: 1 } })).to.deep.equal([undefined, undefined, undefined, undefined]);
    });

    it('passes values in as copies: an expression cannot change a variable', () => {
      const vars = { xs: [3, 1, 2], cfg: { a: 1 } };
      expect(evaluate('xs.sort()', vars)).to.deep.equal([1, 2, 3]);
      evaluate("(c => { c.a = 2; return 1 })(cfg)", vars);
      expect(vars).to.deep.equal({ xs: [3, 1, 2], cfg: { a: 1 } });
    });

    it('returns plain controller values', () => {
      const v = evaluate('({ list: [1, { b: "x" }], when: new Date(0), n: null })', {}) as Record<string, unknown>;
      expect(isPlainObject(v)).to.equal(true);
      expect(Array.isArray(v.list)).to.equal(true);
      expect(v.when).to.be.instanceOf(Date);
      expect(v).to.deep.equal({ list: [1, { b: 'x' }], when: new Date(0), n: null });
    });
  });

  describe('time bound', () => {
    let before: number;
    beforeEach(() => {
      before = exprTimeout();
      setExprTimeout(0.3);
    });
    afterEach(() => setExprTimeout(before));

    it('stops an expression that does not finish, naming it', () => {
      const t0 = Date.now();
      const e = thrown(() => evaluate('(() => { for (;;) {} })()', {}));
      expect(Date.now() - t0).to.be.below(2000);
      expect(e).to.be.instanceOf(ExprRuntimeError);
      expect(e.message).to.equal('expression {{ (() => { for (;;) {} })() }} did not finish in 0.3 s');
    });

    it('stops a loop in a variable read by another expression, and the scope still works after', () => {
      const scope = new Scope([{ label: 'play vars', kind: 'template', vars: { spin: '{{ (() => { while (true) {} })() }}', uses: '{{ spin + 1 }}', ok: '{{ 1 + 1 }}' } }]);
      const e = thrown(() => evaluate('uses', scope));
      expect(e).to.be.instanceOf(ExprRuntimeError);
      expect(e.message).to.match(/^expression \{\{ \(\(\) => \{ while \(true\) \{\} \}\)\(\) \}\} did not finish in 0\.3 s/);
      const again = thrown(() => evaluate('spin', scope));
      expect(again.message, 'not a false cycle').to.match(/did not finish/);
      expect(evaluate('ok', scope)).to.equal(2);
    });

    it('reads its default from TSPLAY_EXPR_TIMEOUT (5 s when unset)', () => {
      expect(exprTimeoutFromEnv({})).to.equal(5);
      expect(exprTimeoutFromEnv({ TSPLAY_EXPR_TIMEOUT: '0.5' })).to.equal(0.5);
      expect(() => exprTimeoutFromEnv({ TSPLAY_EXPR_TIMEOUT: 'soon' })).to.throw(/TSPLAY_EXPR_TIMEOUT/);
    });
  });

  describe('secrets in errors', () => {
    it('names the expression and the secret variable, never the value', () => {
      for (const code of ['JSON.parse(token)', 'bool(token)', 'fromJson(token)', 'new RegExp(token + "(")', 'JSON.parse(cfg.token)']) {
        const e = thrown(() => evaluate(code, { token: secret('hunter2-is-long'), cfg: { token: secret('hunter2-is-long') } }));
        expect(e, code).to.be.instanceOf(ExprRuntimeError);
        expect(e.message, code).not.to.match(/hunt/);
        expect(e.message, code).to.include(`{{ ${code} }}`);
        expect(e.message, code).to.match(/secret variable '(token|cfg)'/);
        expect(String(e.cause ?? ''), code).not.to.match(/hunt/);
      }
    });

    it('keeps the message of an error that did not read a secret', () => {
      expect(thrown(() => evaluate('JSON.parse(s)', { s: 'nope', token: secret('x') })).message).to.match(/"nope" is not valid JSON/);
    });
  });

  describe('evaluateCondition (when:)', () => {
    const vars = { n: 3, name: 'web', flag: 'false', yes: 'yes', list: [] as unknown[], stdout: '' };
    const cases: Array<[unknown, boolean]> = [
      ['n > 2', true],
      ['n > 5', false],
      ["name === 'web'", true],
      ['flag', false], // "-e flag=false" gives a string
      ['yes', true],
      ['stdout', false],
      ['list.length > 0', false],
      ['list', true], // JavaScript truthiness: an empty list is truthy
      ['{{ n > 2 }}', true],
      [true, true],
      [false, false],
    ];
    for (const [cond, want] of cases) {
      it(`${JSON.stringify(cond)} -> ${want}`, () => {
        expect(evaluateCondition(cond, vars)).to.equal(want);
      });
    }

    it('reads false-like strings as false', () => {
      for (const s of ['', 'false', 'False', 'no', 'off', '0']) expect(truthy(s), s).to.equal(false);
      for (const s of ['true', 'x', ' 1 ']) expect(truthy(s), s).to.equal(true);
    });

    it('reports an assignment typo', () => {
      expect(thrown(() => evaluateCondition('n = 3', vars)).message).to.match(/did you mean ===/);
    });
  });

  describe('render', () => {
    const vars = { host: 'web1', port: 8080, ports: [80, 443], cfg: { a: 1 }, nothing: null, no: undefined };

    it('keeps the type of a string that is exactly one expression', () => {
      expect(render('{{ ports }}', vars)).to.deep.equal([80, 443]);
      expect(render('{{port}}', vars)).to.equal(8080);
      expect(render('{{ cfg }}', vars)).to.deep.equal({ a: 1 });
      expect(render('{{ port > 1 }}', vars)).to.equal(true);
      expect(render('{{ no }}', vars)).to.equal(undefined);
    });

    it('keeps text and whitespace around one expression: the value is then a string', () => {
      expect(render('{{ host }}\n', vars)).to.equal('web1\n');
      expect(render('{{ port }}\n', vars)).to.equal('8080\n');
      expect(render('  {{ port }}', vars)).to.equal('  8080');
      expect(render(' {{ ports }} ', vars)).to.equal(' [80,443] ');
    });

    it('stringifies expressions inside text (objects as JSON, null as empty)', () => {
      expect(render('http://{{ host }}:{{ port }}/', vars)).to.equal('http://web1:8080/');
      expect(render('p={{ ports }} c={{ cfg }}', vars)).to.equal('p=[80,443] c={"a":1}');
      expect(render('[{{ nothing }}]', vars)).to.equal('[]');
      expect(render('{{ "{{" }} literal', vars)).to.equal('{{ literal');
    });

    it('refuses to insert undefined into text', () => {
      const e = thrown(() => render('x={{ cfg.missing }}', vars));
      expect(e).to.be.instanceOf(ExprRuntimeError);
      expect(e.message).to.match(/\{\{ cfg\.missing \}\} is undefined/);
    });

    it('renders arrays and objects deeply, and passes other values through', () => {
      const input = { url: 'http://{{ host }}', list: ['{{ port }}', 'plain', 3, null, true], nested: { p: '{{ ports }}' } };
      expect(render(input, vars)).to.deep.equal({ url: 'http://web1', list: [8080, 'plain', 3, null, true], nested: { p: [80, 443] } });
      expect(render(42, vars)).to.equal(42);
      expect(render('no template', vars)).to.equal('no template');
      expect(input.url).to.equal('http://{{ host }}'); // the input is not modified
    });

    it('never renders the result of an expression again', () => {
      expect(render('{{ s }}', { s: '{{ boom }}' })).to.equal('{{ boom }}');
      expect(render('x {{ s }}', { s: '{{ boom }}' })).to.equal('x {{ boom }}');
    });

    it('unwraps secrets in values', () => {
      expect(render({ password: secret('pw1'), url: 'db://u:{{ pw }}@h' }, { pw: secret('pw2') })).to.deep.equal({
        password: 'pw1',
        url: 'db://u:pw2@h',
      });
    });

    it('reports a syntax error with its offset in the whole string', () => {
      const text = 'abc {{ a + * b }}';
      const e = thrown(() => render(text, vars));
      expect(e).to.be.instanceOf(ExprSyntaxError);
      expect(e.offset).to.equal(text.indexOf('*'));
      expect(e.message).to.match(/invalid expression \{\{ a \+ \* b \}\}: Unexpected token/);
    });

    it('hints how to write a literal {{ when the text is a Go template', () => {
      const e = thrown(() => render("docker inspect -f '{{.State.Running}}' web", vars));
      expect(e).to.be.instanceOf(ExprSyntaxError);
      expect(e.hint).to.include(`{{ '{{' }}`);
      expect(render("docker inspect -f '{{ '{{' }}.State.Running}}' web", vars)).to.equal("docker inspect -f '{{.State.Running}}' web");
    });

    it('reports undefined names', () => {
      const e = thrown(() => render({ a: ['ok', 'x {{ nope }}'] }, vars));
      expect(e).to.be.instanceOf(UndefinedVariableError);
      expect(e.variable).to.equal('nope');
    });
  });

  describe('templateNames', () => {
    it('collects free names from every template in a deep value', () => {
      expect(templateNames({ a: ['{{ x + y }}', { b: 'pre {{ z.q }} {{ x }}' }], c: 'plain', d: 3 })).to.deep.equal(['x', 'y', 'z']);
    });

    it('throws syntax errors so validation can report them', () => {
      expect(() => templateNames(['{{ a b }}'])).to.throw(ExprSyntaxError);
    });
  });
});
