import { expect } from 'chai';
import { evaluate, ExprRuntimeError } from '../../src/vars/expr.js';
import { EXPR_GLOBALS, HELPERS } from '../../src/vars/globals.js';

const ev = (code: string, vars: Record<string, unknown> = {}) => evaluate(code, vars);

describe('vars/globals', () => {
  it('exports the names of every helper and built-in, plus vars', () => {
    expect(EXPR_GLOBALS).to.include.members(['vars', 'Math', 'JSON', 'parseInt', 'encodeURIComponent', 'defaultTo', 'bool', 'hash']);
    for (const name of EXPR_GLOBALS) {
      if (name === 'vars') continue;
      expect(Object.hasOwn(HELPERS, name), name).to.equal(true);
      // every listed name is usable in an expression
      expect(() => ev(`typeof ${name}`), name).not.to.throw();
    }
  });

  it('JavaScript built-ins', () => {
    expect(ev('Math.max(...xs)', { xs: [1, 5, 2] })).to.equal(5);
    expect(ev('JSON.parse(s).a', { s: '{"a":2}' })).to.equal(2);
    expect(ev('parseInt("0755", 8)')).to.equal(493);
    expect(ev('encodeURIComponent("a b&c")')).to.equal('a%20b%26c');
    expect(ev('x === undefined', { x: undefined })).to.equal(true);
  });

  it('versionCompare compares dotted versions part by part (Ansible version test)', () => {
    const v = (code: string) => evaluate(code, {});
    expect(v("versionCompare('2.10', '2.9', '>')")).to.equal(true);
    expect(v("versionCompare('2.4.1', '2.4', '>=')")).to.equal(true);
    expect(v("versionCompare('1.2', '1.2.0')")).to.equal(true);
    expect(v("versionCompare('1.2', '1.10', '<')")).to.equal(true);
    expect(() => v("versionCompare('1', '2', 'lt')")).to.throw(/unknown operator/);
  });

  it('defaultTo', () => {
    expect(ev('defaultTo(vars.port, 80)')).to.equal(80);
    expect(ev('defaultTo(port, 80)', { port: null })).to.equal(80);
    expect(ev('defaultTo(port, 80)', { port: 0 })).to.equal(0);
    expect(ev('defaultTo(port, 80, true)', { port: 0 })).to.equal(80);
    expect(ev('defaultTo(s, "x", true)', { s: '' })).to.equal('x');
    expect(ev('defaultTo(l, [1], true)', { l: [] })).to.deep.equal([1]);
    expect(ev('defaultTo(s, "x", true)', { s: 'set' })).to.equal('set');
  });

  it('bool reads Ansible yes/no strings and rejects others', () => {
    const t = ['yes', 'Yes', 'on', 'true', 'TRUE', 'y', '1', 1, true];
    const f = ['no', 'off', 'false', 'False', 'n', '0', '', 0, false, null];
    for (const v of t) expect(ev('bool(v)', { v }), String(v)).to.equal(true);
    for (const v of f) expect(ev('bool(v)', { v }), String(v)).to.equal(false);
    expect(() => ev('bool("ture")')).to.throw(ExprRuntimeError, /cannot read "ture" as a boolean/);
  });

  it('b64encode / b64decode round-trip UTF-8', () => {
    expect(ev('b64encode("héllo")')).to.equal('aMOpbGxv');
    expect(ev('b64decode("aMOpbGxv")')).to.equal('héllo');
  });

  it('quote quotes for a POSIX shell', () => {
    expect(ev('quote(s)', { s: "it's" })).to.equal(`'it'\\''s'`);
    expect(ev('quote("plain")')).to.equal('plain');
  });

  it('toJson / fromJson / toYaml / fromYaml', () => {
    expect(ev('toJson({a: [1]})')).to.equal('{"a":[1]}');
    expect(ev('toJson({a: 1}, 2)')).to.equal('{\n  "a": 1\n}');
    expect(ev('fromJson(out).n', { out: '{"n": 3}' })).to.equal(3);
    expect(ev('toYaml({a: [1, 2]})')).to.equal('a:\n  - 1\n  - 2\n');
    expect(ev('fromYaml("a: yes\\nb: 1")')).to.deep.equal({ a: 'yes', b: 1 }); // YAML 1.2: yes is a string
  });

  it('join, unique, flatten', () => {
    expect(ev('join(xs, ",")', { xs: ['a', 'b'] })).to.equal('a,b');
    expect(ev('join(xs)', { xs: ['a', 'b'] })).to.equal('a b');
    expect(ev('unique([3, 1, 3, {a: 1}, {a: 1}])')).to.deep.equal([3, 1, { a: 1 }]);
    expect(ev('flatten([1, [2, [3, [4]]]])')).to.deep.equal([1, 2, 3, 4]);
    expect(ev('flatten([1, [2, [3]]], 1)')).to.deep.equal([1, 2, [3]]);
  });

  it('basename, dirname', () => {
    expect(ev('basename("/etc/nginx/nginx.conf")')).to.equal('nginx.conf');
    expect(ev('dirname("/etc/nginx/nginx.conf")')).to.equal('/etc/nginx');
  });

  it('regexReplace replaces every match, with a string or RegExp pattern', () => {
    expect(ev('regexReplace("a-b-c", "-", "_")')).to.equal('a_b_c');
    expect(ev('regexReplace("v1.2.3", /(\\d+)/, "<$1>")')).to.equal('v<1>.<2>.<3>');
  });

  it('hash', () => {
    expect(ev('hash("abc")')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(ev('hash("abc", "md5")')).to.equal('900150983cd24fb0d6963f7d28e17f72');
  });
});
