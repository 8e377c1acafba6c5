/** EJS templates rendered on the controller (src/playbook/templates.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { renderTemplate } from '../../src/playbook/templates.js';
import { exprTimeout, setExprTimeout } from '../../src/vars/expr.js';
import { secret } from '../../src/core/secret.js';
import { Scope } from '../../src/vars/scope.js';

describe('playbook/templates', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-templates-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  const write = (name: string, text: string) => {
    const file = join(dir, `${n++}-${name}`);
    writeFileSync(file, text);
    return file;
  };

  /** What renderTemplate rejected with (fails the test when it resolved). */
  const rejected = async (file: string, vars: Record<string, unknown> = {}): Promise<Error> => {
    try {
      const out = await renderTemplate(file, vars);
      return expect.fail(`rendered ${JSON.stringify(out)}`);
    } catch (e) {
      return e as Error;
    }
  };

  it('writes values verbatim with <%= (config files are not HTML), and <%- is the same', async () => {
    const file = write('app.conf.ejs', 'name=<%= name %>\nraw=<%- name %>\nq="<%= vars.quote %>"\nnone=<%= nothing %>|\n');
    const out = await renderTemplate(file, { name: `Tom & Jerry's <app>`, quote: 'a "b"', nothing: null });
    expect(out).to.equal(`name=Tom & Jerry's <app>\nraw=Tom & Jerry's <app>\nq="a "b""\nnone=|\n`);
  });

  it('keeps the bytes: trailing newlines, blank lines, no newline at the end', async () => {
    expect(await renderTemplate(write('nl.ejs', '<%= a %>\n\n\n'), { a: `Tom & Jerry's <app>` })).to.equal(`Tom & Jerry's <app>\n\n\n`);
    expect(await renderTemplate(write('none.ejs', 'x=<%= a %>'), { a: 1 })).to.equal('x=1');
    expect(await renderTemplate(write('crlf.ejs', 'a\r\n<% if (a) { %>b\r\n<% } %>'), { a: true })).to.equal('a\r\nb\r\n');
  });

  it('sees the helpers of expressions and the context built-ins', async () => {
    const file = write('helpers.ejs', "<%= quote(s) %> <%= defaultTo(vars.missing, 'd') %> <%= JSON.stringify([n]) %> <%= typeof missing %>");
    expect(await renderTemplate(file, { s: "it's", n: 1 })).to.equal(`'it'\\''s' d [1] undefined`);
  });

  it('renders a secret as its value (the engine masks output)', async () => {
    const file = write('secret.ejs', 'token=<%= token %>\n');
    expect(await renderTemplate(file, { token: secret('s3cr3t') })).to.equal('token=s3cr3t\n');
  });

  it('cannot reach the controller process through constructor chains', async () => {
    const file = write('escape.ejs', "<%= ''.constructor.constructor('return process')().pid %>");
    const e = await rejected(file);
    expect(e.message).to.not.include(String(process.pid));
    expect(e.message).to.include(file);
    const typeOf = write('typeof.ejs', '<%= typeof process %> <%= typeof require %> <%= typeof globalThis.process %>');
    expect(await renderTemplate(typeOf, {})).to.equal('undefined undefined undefined');
  });

  it('cannot change the prototypes the controller uses', async () => {
    const file = write('pollute.ejs', "<% Object.prototype.polluted = 'yes'; ({}).__proto__.polluted2 = 'yes'; %>x");
    await renderTemplate(file, {}).catch(() => undefined);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(({} as Record<string, unknown>).polluted2).to.equal(undefined);
  });

  it('does not leak globals from one render into the next', async () => {
    await renderTemplate(write('set.ejs', '<% leaked = 1; globalThis.leaked2 = 2 %>'), {}).catch(() => undefined);
    expect(await renderTemplate(write('get.ejs', '<%= typeof leaked %> <%= typeof leaked2 %>'), {})).to.equal('undefined undefined');
  });

  describe('time bound', () => {
    let before: number;
    beforeEach(() => {
      before = exprTimeout();
      setExprTimeout(0.3);
    });
    afterEach(() => setExprTimeout(before));

    it('an endless loop fails in bounded time, naming the template file', async () => {
      const file = write('loop.ejs', 'a\n<% for (;;) {} %>\n');
      const t0 = Date.now();
      const e = await rejected(file);
      expect(Date.now() - t0).to.be.below(3000);
      expect(e.message).to.equal(`template ${file} did not finish in 0.3 s`);
      expect(await renderTemplate(write('after.ejs', 'ok'), {}), 'the next render works').to.equal('ok');
    });

    it('an endless Jinja render fails the same way', async () => {
      const file = write('loop.j2', '{% for i in range(999999) %}{% for j in range(999999) %}{% endfor %}{% endfor %}');
      const t0 = Date.now();
      const e = await rejected(file);
      expect(Date.now() - t0).to.be.below(3000);
      expect(e.message).to.equal(`template ${file} did not finish in 0.3 s`);
      expect(await renderTemplate(write('after.j2', 'ok'), {}), 'the next render works').to.equal('ok');
    });

    it('an endless loop in an included template fails the same way', async () => {
      const part = write('loop-part.ejs', '<% while (true) {} %>');
      const e = await rejected(write('loop-main.ejs', `<%- include(${JSON.stringify(part)}) %>`));
      expect(e.message).to.match(/^template .* did not finish in 0\.3 s$/);
    });
  });

  it('include() renders another template, relative to the including file, with extra data', async () => {
    const sub = mkdtempSync(join(dir, 'inc-'));
    writeFileSync(join(sub, 'part.ejs'), 'part <%= name %> <%= extra %>\n');
    writeFileSync(join(sub, 'main.ejs'), "head\n<%- include('part.ejs', { extra: 'E' }) -%>\n<%= include('./part.ejs', { name: 'other', extra: 2 }) %>tail\n");
    expect(await renderTemplate(join(sub, 'main.ejs'), { name: 'N&M' })).to.equal('head\npart N&M E\npart other 2\ntail\n');
  });

  it('include() stays inside the folder of the template being rendered', async () => {
    const sub = mkdtempSync(join(dir, 'inc-'));
    writeFileSync(join(dir, 'outside.txt'), 'controller file\n');
    writeFileSync(join(sub, 'main.ejs'), "a\n<%- include('../outside.txt') %>");
    const e = await rejected(join(sub, 'main.ejs'));
    expect(e.message).to.equal(`${join(sub, 'main.ejs')}:2: Error: include('../outside.txt'): ${join(dir, 'outside.txt')} is outside ${sub}`);
    writeFileSync(join(sub, 'abs.ejs'), `<%- include(${JSON.stringify(join(dir, 'outside.txt'))}) %>`);
    expect((await rejected(join(sub, 'abs.ejs'))).message).to.include('is outside');
  });

  it('an undefined variable names the template file and line', async () => {
    const file = write('undef.ejs', 'a\nb\n<%= nope %>\n');
    const e = await rejected(file, { nape: 1 });
    expect(e.message).to.match(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: ReferenceError: nope is not defined`));
  });

  it('an error in an included template names that file and line', async () => {
    const part = write('bad-part.ejs', '\n\n<%= missing.x %>');
    const e = await rejected(write('bad-main.ejs', `<%- include(${JSON.stringify(part)}) %>`));
    expect(e.message).to.match(/bad-part\.ejs:3: ReferenceError: missing is not defined/);
  });

  it('an error message never quotes a secret the template read', async () => {
    const scope = new Scope([{ label: 'vars', kind: 'template', vars: { token: secret('notjson-s3cr3t') } }]);
    const file = write('json.ejs', '<%= JSON.parse(token) %>');
    const e = await renderTemplate(file, scope).then(
      () => expect.fail('rendered'),
      (err: Error) => err,
    );
    expect(e.message).to.not.match(/notjson|s3cr3t/);
    expect(e.message).to.include(`${file}:1: SyntaxError`);
    expect(e.message).to.include("secret variable 'token'");
  });

  it('a variable that fails to render says so, and in which template line it was read', async () => {
    const scope = new Scope([{ label: 'vars', kind: 'template', vars: { broken: '{{ nope }}' } }]);
    const file = write('broken.ejs', 'a\n<%= broken %>');
    const e = await renderTemplate(file, scope).then(
      () => expect.fail('rendered'),
      (err: Error) => err,
    );
    expect(e.message).to.match(/^undefined variable 'nope' \(.*in template .*broken\.ejs:2\)$/);
  });

  it('extra variables (ansible_managed of the template module) are seen on top of the scope, EJS and Jinja', async () => {
    const scope = new Scope([{ label: 'vars', kind: 'template', vars: { a: 'scope', b: 'scope' } }]);
    expect(await renderTemplate(write('extra.ejs', '<%= a %> <%= b %>'), scope, { b: 'extra' })).to.equal('scope extra');
    expect(await renderTemplate(write('extra.j2', '{{ a }} {{ b }}'), scope, { b: 'extra' })).to.equal('scope extra');
  });

  it('reads variables lazily from a scope: a broken variable the template does not use does not matter', async () => {
    const scope = new Scope([{ label: 'vars', kind: 'template', vars: { good: 'g', broken: '{{ nope }}' } }]);
    expect(await renderTemplate(write('lazy.ejs', '<%= good %>'), scope)).to.equal('g');
  });
});
