import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extraVarsSource, parseExtraVars } from '../../src/vars/extra-vars.js';
import { UserError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  expect.fail('expected an error');
}

describe('vars/extra-vars', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-extra-'));
    writeFileSync(join(dir, 'prod.yml'), 'replicas: 3\nenv: prod\npw: !secret hunter2\n');
    writeFileSync(join(dir, 'over.json'), '{"env": "staging", "tags": ["a"]}');
    writeFileSync(join(dir, 'list.yml'), '- a\n- b\n');
    writeFileSync(join(dir, 'broken.yml'), 'a: 1\nb: c: d\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads key=value pairs as strings, with shell-style quotes', () => {
    expect(parseExtraVars(['version=1.2 count=3 empty= msg="hello world" q=\'it is\' esc=a\\ b url=http://x/?a=b'])).to.deep.equal({
      version: '1.2',
      count: '3',
      empty: '',
      msg: 'hello world',
      q: 'it is',
      esc: 'a b',
      url: 'http://x/?a=b',
    });
  });

  it('reads a JSON object with its types', () => {
    expect(parseExtraVars(['{"replicas": 3, "debug": true, "hosts": ["a", "b"]}'])).to.deep.equal({ replicas: 3, debug: true, hosts: ['a', 'b'] });
  });

  it('reads YAML objects (flow and block)', () => {
    expect(parseExtraVars(['{replicas: 3, name: web}'])).to.deep.equal({ replicas: 3, name: 'web' });
    expect(parseExtraVars(['replicas: 3'])).to.deep.equal({ replicas: 3 });
  });

  it('reads @file.yml and @file.json relative to cwd; later values win per top-level key', () => {
    const got = parseExtraVars(['@prod.yml', `@${join(dir, 'over.json')}`, 'replicas=5'], { cwd: dir });
    expect(got.env).to.equal('staging');
    expect(got.tags).to.deep.equal(['a']);
    expect(got.replicas).to.equal('5');
    expect(got.pw).to.be.instanceOf(Secret);
  });

  it('knows where each key came from', () => {
    const src = extraVarsSource(['@prod.yml', 'x=1'], { cwd: dir });
    expect(src.pos!('env')).to.deep.equal({ file: join(dir, 'prod.yml'), line: 2, col: 1 });
    expect(src.pos!('x')).to.equal(undefined);
    expect(src.label).to.equal('extra vars (-e)');
  });

  it('reports a YAML error in a file at file:line:col', () => {
    const e = thrown(() => parseExtraVars(['@broken.yml'], { cwd: dir }));
    expect(e).to.be.instanceOf(UserError);
    expect(e.diagnostics[0].pos.file).to.equal(join(dir, 'broken.yml'));
    expect(e.diagnostics[0].pos.line).to.equal(2);
  });

  it('rejects a missing file, a file that is not a mapping, and a bare path', () => {
    expect(thrown(() => parseExtraVars(['@nope.yml'], { cwd: dir })).message).to.match(/file not found/);
    expect(thrown(() => parseExtraVars(['@list.yml'], { cwd: dir })).message).to.match(/must be a mapping/);
    const bare = thrown(() => parseExtraVars(['./vars.yml']));
    expect(bare.message).to.match(/looks like a file name/);
    expect(bare.diagnostics[0].hint).to.equal('write -e @./vars.yml to load variables from a file');
  });

  it('rejects words that are not key=value, naming the -e', () => {
    const e = thrown(() => parseExtraVars(['a=1', 'a=1 oops']));
    expect(e).to.be.instanceOf(UserError);
    expect(e.message).to.equal("error: -e #2: cannot read 'oops' as a variable");
    expect(thrown(() => parseExtraVars(['a="open'])).message).to.match(/unterminated " quote/);
    expect(thrown(() => parseExtraVars(['[1, 2]'])).message).to.match(/cannot read/);
  });

  it('accepts an empty -e', () => {
    expect(parseExtraVars(['', '  '])).to.deep.equal({});
  });
});
