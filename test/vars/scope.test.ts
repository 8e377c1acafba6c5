import { expect } from 'chai';
import { Scope, type Layer } from '../../src/vars/scope.js';
import { evaluate, ExprRuntimeError, render, UndefinedVariableError, VarCycleError } from '../../src/vars/expr.js';
import { secret } from '../../src/core/secret.js';

const tpl = (label: string, vars: Record<string, unknown>, extra: Partial<Layer> = {}): Layer => ({ label, vars, kind: 'template', ...extra });
const data = (label: string, vars: Record<string, unknown>): Layer => ({ label, vars, kind: 'data' });

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  expect.fail('expected an error');
}

describe('vars/scope', () => {
  it('takes a name from the highest layer that defines it', () => {
    const s = new Scope([tpl('low', { a: 1, b: 1 }), tpl('high', { b: 2 })]);
    expect(s.get('a')).to.equal(1);
    expect(s.get('b')).to.equal(2);
    expect(s.get('c')).to.equal(undefined);
    expect(s.has('a')).to.equal(true);
    expect(s.has('c')).to.equal(false);
    expect(s.names()).to.deep.equal(['a', 'b']);
  });

  it('orders layers by rank first, then by position', () => {
    const s = new Scope([tpl('r5', { x: 'r5' }, { rank: 5 }), tpl('r1', { x: 'r1', y: 'r1' }, { rank: 1 }), tpl('r1b', { y: 'r1b' }, { rank: 1 })]);
    expect(s.get('x')).to.equal('r5');
    expect(s.get('y')).to.equal('r1b');
  });

  it('renders template values lazily with the final values from any layer', () => {
    const s = new Scope([
      tpl('role defaults', { url: 'http://{{ host }}:{{ port }}', port: 80, urls: ['{{ url }}/a', { b: '{{ url }}/b' }] }),
      tpl('inventory', { host: 'web1' }),
      tpl('extra vars', { port: 8080 }),
    ]);
    expect(s.get('url')).to.equal('http://web1:8080');
    expect(s.get('urls')).to.deep.equal(['http://web1:8080/a', { b: 'http://web1:8080/b' }]);
  });

  it('keeps the type of a variable that is one expression', () => {
    const s = new Scope([tpl('play', { ports: [80, 443], copy: '{{ ports }}', count: '{{ ports.length }}' })]);
    expect(s.get('copy')).to.deep.equal([80, 443]);
    expect(s.get('count')).to.equal(2);
  });

  it('re-renders parent templates in a child scope (a var can use item)', () => {
    const parent = new Scope([tpl('role defaults', { pkg: '{{ item }}-dev' })]);
    const a = parent.child(data('loop', { item: 'libssl' }));
    const b = parent.child(data('loop', { item: 'zlib' }));
    expect(a.get('pkg')).to.equal('libssl-dev');
    expect(b.get('pkg')).to.equal('zlib-dev');
    expect(parent.has('item')).to.equal(false);
  });

  it('detects a cycle and names it', () => {
    const s = new Scope([tpl('play vars', { a: '{{ b }}', b: 'x {{ c }}', c: '{{ a }}', ok: 1 })]);
    const e = thrown(() => s.get('a'));
    expect(e).to.be.instanceOf(VarCycleError);
    expect(e.message).to.equal('variables refer to each other in a cycle: a -> b -> c -> a');
    expect(thrown(() => new Scope([tpl('p', { x: '{{ x + 1 }}' })]).get('x')).message).to.match(/cycle: x -> x/);
    expect(s.get('ok')).to.equal(1); // the scope still works after the error
  });

  it('NEVER renders values from data layers, even when they contain {{', () => {
    const s = new Scope([
      tpl('play vars', { out: '{{ result.stdout }}', msg: 'got {{ result.stdout }}' }),
      data('facts', { facts: { hostname: '{{ process.exit(1) }}' } }),
      data('registered', { result: { stdout: '{{ process.exit(1) }}' } }),
    ]);
    expect(s.get('result')).to.deep.equal({ stdout: '{{ process.exit(1) }}' });
    expect(s.get('out')).to.equal('{{ process.exit(1) }}');
    expect(s.get('msg')).to.equal('got {{ process.exit(1) }}');
    expect(s.get('facts')).to.deep.equal({ hostname: '{{ process.exit(1) }}' });
    expect(render('{{ result.stdout }}', s)).to.equal('{{ process.exit(1) }}');
    expect(s.toObject().result).to.deep.equal({ stdout: '{{ process.exit(1) }}' });
  });

  it('reports an undefined name inside a variable with the variable and its position', () => {
    const pos = { file: 'site.yml', line: 4, col: 10 };
    const s = new Scope([tpl('play vars', { url: 'http://{{ hots }}' }, { file: 'site.yml', pos: (k) => (k === 'url' ? pos : undefined) }), tpl('inv', { host: 'a' })]);
    const e = thrown(() => render('{{ url }}', s));
    expect(e).to.be.instanceOf(UndefinedVariableError);
    expect(e.message).to.equal("undefined variable 'hots' (in variable 'url' from play vars)");
    expect(e.hint).to.equal("did you mean 'host'?");
    expect(e.diagnostics[0].pos).to.deep.equal(pos);
  });

  it('explains which layer won and which were overridden', () => {
    const pos = { file: 'inv.yml', line: 2, col: 3 };
    const s = new Scope([
      tpl('role defaults', { port: 80 }),
      tpl('inventory host vars', { port: '{{ 8000 + 80 }}' }, { file: 'inv.yml', pos: () => pos }),
      tpl('play vars', { other: 1 }),
    ]);
    expect(s.explain('port')).to.deep.equal([
      { label: 'inventory host vars', kind: 'template', value: '{{ 8000 + 80 }}', file: 'inv.yml', pos, won: true },
      { label: 'role defaults', kind: 'template', value: 80, file: undefined, pos: undefined, won: false },
    ]);
    expect(s.explain('nope')).to.deep.equal([]);
  });

  it('toObject resolves every variable into a plain object', () => {
    const s = new Scope([tpl('a', { x: 1, y: '{{ x + 1 }}' }), data('b', { z: [1] })]);
    expect(s.toObject()).to.deep.equal({ x: 1, y: 2, z: [1] });
  });

  it('exposes the variable map as vars (in, keys, JSON, read-only)', () => {
    const s = new Scope([tpl('a', { x: 1, y: '{{ x + 1 }}' })]);
    expect(evaluate("'x' in vars && !('q' in vars)", s)).to.equal(true);
    expect(evaluate('Object.keys(vars)', s)).to.deep.equal(['x', 'y']);
    expect(evaluate('JSON.stringify(vars)', s)).to.equal('{"x":1,"y":2}');
    expect(evaluate('vars.y', s)).to.equal(2);
    expect(() => evaluate('(v => { v.x = 2 })(vars)', s)).to.throw(ExprRuntimeError);
    expect(s.get('x')).to.equal(1);
  });

  describe('secrets', () => {
    it('hands out the real value and records it', () => {
      const s = new Scope([tpl('play vars', { db_password: secret('s3cr3t'), dsn: 'pg://app:{{ db_password }}@db' })]);
      expect(s.secretsUsed.size).to.equal(0);
      expect(render({ password: '{{ db_password }}' }, s)).to.deep.equal({ password: 's3cr3t' });
      expect(s.get('dsn')).to.equal('pg://app:s3cr3t@db');
      expect([...s.secretsUsed]).to.deep.equal(['s3cr3t']);
    });

    it('records secrets nested in values and in data layers, shared with child scopes', () => {
      const s = new Scope([tpl('vars', { db: { users: [{ pw: secret('nested') }] } }), data('registered', { r: { token: secret('tok') } })]);
      const child = s.child(data('loop', { item: 1 }));
      expect(child.get('db')).to.deep.equal({ users: [{ pw: 'nested' }] });
      expect(child.get('r')).to.deep.equal({ token: 'tok' });
      expect(child.secretsUsed).to.equal(s.secretsUsed);
      expect([...s.secretsUsed].sort()).to.deep.equal(['nested', 'tok']);
    });

    it('does not record secrets that were not used', () => {
      const s = new Scope([tpl('vars', { a: secret('unused'), b: 'plain' })]);
      render('{{ b }}', s);
      expect(s.secretsUsed.size).to.equal(0);
    });

    it('explain() keeps secrets masked', () => {
      const s = new Scope([tpl('vars', { a: secret('zzz') })]);
      expect(String(s.explain('a')[0]!.value)).to.equal('********');
    });
  });
});
