/** The expression type checker (vars/types.ts): what it reports, and that unknown stays silent. */
import { expect } from 'chai';
import { arrayOf, BOOLEAN, checkTypes, fromJsonSchema, fromValue, notBoolean, NUMBER, object, STRING, type VType } from '../../src/vars/types.js';

const out = object({ stdout: STRING, rc: NUMBER, stdout_lines: arrayOf(STRING), changed: BOOLEAN }, 'the result of command');
const results = object({ results: arrayOf(object({ stdout: STRING, item: STRING })) }, 'the results of the command loop');

function issues(code: string, types: Record<string, VType> = { out, loop: results }): string[] {
  return checkTypes(code, (n) => types[n]).issues.map((i) => i.message);
}

describe('expression types', () => {
  it('an unknown property of a closed object is reported with a did-you-mean', () => {
    expect(issues('out.stdoutt')).to.deep.equal(["'stdoutt' is not a property of out (the result of command); did you mean 'stdout'?"]);
    expect(issues("out['rcc'] == 0")).to.have.length(1);
  });

  it('a string method on a list, and an unknown method on a string', () => {
    expect(issues('out.stdout_lines.trim()')[0]).to.match(/^'trim' is not a property or method of out\.stdout_lines \(a list of strings\)/);
    expect(issues('out.stdout.lenght > 0')[0]).to.match(/did you mean 'length'\?$/);
  });

  it('known members of strings, lists, numbers and objects pass', () => {
    for (const code of ['out.stdout.trim().split("\\n").length', 'out.stdout_lines.map((l) => l.trim()).join(",")', 'out.rc.toFixed(0)', 'out.hasOwnProperty("rc")', 'out.stdout_lines[0].toUpperCase()']) {
      expect(issues(code), code).to.deep.equal([]);
    }
  });

  it('array callbacks get the element type', () => {
    expect(issues('loop.results.filter((r) => r.stdout === "x").length')).to.deep.equal([]);
    expect(issues('loop.results.some((r) => r.stdoutt === "x")')[0]).to.match(/^'stdoutt' is not a property of r /);
    expect(issues('loop.results[0].itemm')).to.have.length(1);
  });

  it('guarded reads of an optional key are not errors', () => {
    for (const code of ['out.extra ?? 1', 'out?.extra', 'typeof out.extra === "string"', 'out.extra === undefined', "'extra' in out", 'defaultTo(out.extra, 2)', 'out.extra || "x"']) {
      expect(issues(code), code).to.deep.equal([]);
    }
  });

  it('unknown types say nothing', () => {
    expect(issues('whatever.a.b.c()', {})).to.deep.equal([]);
    expect(issues('x.y', { x: fromValue({}) })).to.deep.equal([]);
    expect(issues('x.y', { x: fromValue('{{ computed }}') })).to.deep.equal([]);
    expect(issues('((out) => out.nope)(1)')).to.deep.equal([]);
    expect(issues('whatever.map(function (out) { var z = out.nope; return z.q })')).to.deep.equal([]);
    expect(issues('[1].map(function (n) { return n.nope })')).to.have.length(1);
  });

  it('unions: a key in any member is fine', () => {
    const u = fromValue([{ name: 'a' }, { name: 'b', shell: '/bin/sh' }]);
    expect(issues('users[1].shell', { users: u })).to.deep.equal([]);
    expect(issues('users[0].shel', { users: u })[0]).to.match(/did you mean 'shell'\?/);
  });

  it('the type of the whole expression, for conditions', () => {
    const t = (code: string) => checkTypes(code, (n) => ({ out } as Record<string, VType>)[n]).type;
    expect(notBoolean(t('out.stdout'))).to.equal(true);
    expect(notBoolean(t('out.stdout_lines'))).to.equal(true);
    expect(notBoolean(t('out.changed'))).to.equal(false);
    expect(notBoolean(t("out.stdout === 'x'"))).to.equal(false);
    expect(notBoolean(t('bool(out.stdout)'))).to.equal(false);
    expect(notBoolean(t('out.stdout.includes("x")'))).to.equal(false);
    expect(notBoolean(t('somethingUnknown'))).to.equal(false);
    expect(notBoolean(t('out.changed ? "a" : "b"'))).to.equal(true);
  });

  it('JSON Schema: closed objects, records, unions', () => {
    const t = fromJsonSchema({ type: 'object', properties: { a: { type: 'string' }, m: { type: 'object', additionalProperties: { type: 'number' } } }, additionalProperties: false });
    expect(issues('x.b', { x: t })).to.have.length(1);
    expect(issues('x.m.anything.toFixed(1)', { x: t })).to.deep.equal([]);
    expect(issues('x.m.anything.trim()', { x: t })).to.have.length(1);
    const loose = fromJsonSchema({ type: 'object', properties: { a: { type: 'string' } } });
    expect(issues('x.b', { x: loose })).to.deep.equal([]);
    const maybe = fromJsonSchema({ anyOf: [{ type: 'string' }, { type: 'null' }] });
    expect(issues('x.length', { x: maybe })).to.deep.equal([]);
    expect(issues('x.lengthh', { x: maybe })).to.have.length(1);
  });
});
