/**
 * Jinja templates (src/playbook/jinja.ts, src/vars/jinja-context.ts): isolation from the
 * controller, includes kept inside the template folders, errors with the template's file and
 * line, secrets (the time bound: templates.test.ts). Rendering itself is compared with Jinja2 in
 * jinja-differential.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkTemplate, renderTemplate } from '../../src/playbook/templates.js';
import { jinjaNames } from '../../src/playbook/jinja.js';
import { secret } from '../../src/core/secret.js';
import { Scope } from '../../src/vars/scope.js';

describe('playbook/jinja', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-jinja-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  const write = (name: string, text: string, folder = dir) => {
    const file = join(folder, `${n++}-${name}`);
    writeFileSync(file, text);
    return file;
  };
  const rejected = async (file: string, vars: Record<string, unknown> | Scope = {}): Promise<Error> => {
    try {
      const out = await renderTemplate(file, vars);
      return expect.fail(`rendered ${JSON.stringify(out)}`);
    } catch (e) {
      return e as Error;
    }
  };
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('is chosen by the extension: .j2, .jinja, .jinja2 are Jinja, .ejs stays EJS', async () => {
    for (const ext of ['j2', 'jinja', 'jinja2']) expect(await renderTemplate(write(`a.${ext}`, '{{ x }}<%= x %>'), { x: 1 })).to.equal('1<%= x %>');
    expect(await renderTemplate(write('a.ejs', '{{ x }}<%= x %>'), { x: 1 })).to.equal('{{ x }}1');
  });

  describe('isolation from the controller', () => {
    for (const [what, text] of [
      ['a string constructor chain', "{{ ''.constructor.constructor('return process')().pid }}"],
      ['a global function constructor', "{{ range.constructor('return process')().pid }}"],
      ['a macro constructor', "{% macro m() %}{% endmacro %}{{ m.constructor('return process')().pid }}"],
      ['a filter result constructor', "{{ ([1] | list).constructor.constructor('return process')().pid }}"],
      ['a dict constructor', "{{ {}.constructor.constructor('return process')().pid }}"],
    ]) {
      it(`cannot reach the controller process through ${what}`, async () => {
        const e = await rejected(write('escape.j2', text!));
        expect(e.message).to.not.include(String(process.pid));
        expect(e.message).to.match(/escape\.j2:1: /);
      });
    }

    it('cannot change the prototypes the controller or the next render sees', async () => {
      await rejected(write('pollute.j2', "{% set p = {}.__proto__ %}{{ p.update({'polluted': 1}) }}"));
      await rejected(write('pollute2.j2', "{{ range.__proto__.update({'polluted': 1}) }}"));
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(await renderTemplate(write('after.j2', '{{ {}.polluted is defined }}'), {})).to.equal('False');
    });

    it('sees the variables as copies: a method changing one does not change the host variable', async () => {
      const vars = { l: [1] };
      expect(await renderTemplate(write('mutate.j2', '{{ l.append(2) }}{{ l }}'), vars)).to.equal('None[1, 2]');
      expect(vars.l).to.deep.equal([1]);
    });

    it('has no JavaScript helpers of expressions, only variables', async () => {
      const e = await rejected(write('helper.j2', '{{ Math }}'));
      expect(e.message).to.match(/^undefined variable 'Math'/);
    });
  });

  describe('includes', () => {
    it('{% include %}, {% import %} and {% extends %} find templates next to the template and in its templates/ folder', async () => {
      const root = mkdtempSync(join(dir, 'role-'));
      const templates = join(root, 'templates');
      mkdirSync(join(templates, 'sub'), { recursive: true });
      writeFileSync(join(templates, 'base.j2'), 'head\n{% block body %}default{% endblock %}\ntail\n');
      writeFileSync(join(templates, 'macros.j2'), '{% macro kv(k, v) %}{{ k }}={{ v }}{% endmacro %}');
      writeFileSync(join(templates, 'sub', 'part.j2'), 'part {{ x }}\n');
      writeFileSync(join(templates, 'sub', 'main.j2'), "{% extends 'base.j2' %}{% block body %}{% import 'macros.j2' as m %}{{ m.kv('a', x) }}\n{% include 'part.j2' %}{% endblock %}");
      expect(await renderTemplate(join(templates, 'sub', 'main.j2'), { x: 1 })).to.equal('head\na=1\npart 1\ntail\n');
    });

    it('refuses a template outside those folders: ../, an absolute path, a symbolic link out', async () => {
      const root = mkdtempSync(join(dir, 'role-'));
      const templates = join(root, 'templates');
      mkdirSync(templates);
      writeFileSync(join(root, 'secret.txt'), 'controller file\n');
      symlinkSync(join(root, 'secret.txt'), join(templates, 'link.j2'));
      for (const name of ['../secret.txt', join(root, 'secret.txt'), 'link.j2']) {
        const file = join(templates, `${n++}-main.j2`);
        writeFileSync(file, `a\n{% include ${JSON.stringify(name)} %}`);
        const e = await rejected(file);
        expect(e.message, name).to.match(new RegExp(`^${esc(file)}:2: Error: template '.*' is outside ${esc(templates)}`));
        expect(e.message).to.not.include('controller file');
      }
    });

    it('a missing included template names the folders it looked in', async () => {
      const e = await rejected(write('missing.j2', "{% include 'nope.j2' %}"));
      expect(e.message).to.include(`template 'nope.j2' not found in ${dir}`);
    });
  });

  describe('errors name the template file and line', () => {
    it('an undefined variable, when printed, tested, iterated, filtered or compared', async () => {
      for (const text of ['{{ nope }}', '{% if nope %}x{% endif %}', '{% for x in nope %}{% endfor %}', '{{ nope | upper }}', '{{ nope == 1 }}', '{{ nope.attr }}']) {
        const file = write('undef.j2', `a\n\n${text}\n`);
        const e = await rejected(file, { nape: 1 });
        expect(e.message, text).to.equal(`undefined variable 'nope' (in template ${file}:3)`);
      }
    });

    it('is defined, default and mandatory accept an undefined variable', async () => {
      const file = write('guard.j2', "{{ nope is defined }} {{ nope.deep is defined }} {{ nope | default('d') }} {% if nope is defined and nope %}x{% endif %}");
      expect(await renderTemplate(file, {})).to.equal('False False d ');
      const e = await rejected(write('mandatory.j2', '\n{{ nope | mandatory }}'));
      expect(e.message).to.match(/mandatory\.j2:2: Error: Mandatory variable 'nope' not defined\.$/);
    });

    it('a missing attribute', async () => {
      const file = write('attr.j2', 'a\n{{ d.nope }}\n');
      expect((await rejected(file, { d: { k: 1 } })).message).to.equal(`${file}:2: Error: 'dict object' has no attribute 'nope'`);
    });

    it('an error in an included template names that template', async () => {
      const part = write('part.j2', '\n\n{{ missing }}');
      const e = await rejected(write('main.j2', `{% include ${JSON.stringify(part.slice(dir.length + 1))} %}`));
      expect(e.message).to.equal(`undefined variable 'missing' (in template ${part}:3)`);
    });

    it('lines count the template as written: after a comment line trim_blocks joins, after a #jinja2: header', async () => {
      const a = write('comment.j2', '{# c #}\n{# d #}\n{{ nope }}');
      expect((await rejected(a)).message).to.equal(`undefined variable 'nope' (in template ${a}:3)`);
      const b = write('header.j2', '#jinja2: trim_blocks: False\n\n{{ nope }}');
      expect((await rejected(b)).message).to.equal(`undefined variable 'nope' (in template ${b}:3)`);
    });

    it('a syntax error is a diagnostic at its line before any host is contacted', () => {
      const file = write('syntax.j2', 'a\n{{ x | }}\n');
      expect(checkTemplate(file)).to.deep.include({ severity: 'error', pos: { file, line: 2, col: 8 } });
      const open = write('open.j2', 'a\n{% for x in y %}\n{{ x }}\n');
      expect(checkTemplate(open)).to.deep.equal({
        severity: 'error',
        message: 'template syntax error: unexpected end of file (a block opened in the template is not closed)',
        pos: { file: open, line: 3, col: 1 },
      });
    });

    it('an error message never quotes a secret the template read', async () => {
      const scope = new Scope([{ label: 'vars', kind: 'template', vars: { token: secret('notjson-s3cr3t') } }]);
      const file = write('json.j2', '{{ token | from_json }}');
      const e = await rejected(file, scope);
      expect(e.message).to.not.match(/notjson|s3cr3t/);
      expect(e.message).to.include("secret variable 'token'");
    });
  });

  it('renders a secret as its value (the engine masks output)', async () => {
    expect(await renderTemplate(write('secret.j2', 'token={{ token }}\n'), { token: secret('s3cr3t') })).to.equal('token=s3cr3t\n');
  });

  describe('jinjaNames (validation)', () => {
    it('lists the variables read without a guard, with their line, minus the names the template sets', () => {
      const file = write('names.j2', [
        '{% set a = 1 %}{% for k, v in pairs %}{{ k }}{{ v }}{{ loop.index }}{% endfor %}',
        '{% macro m(x, y=z) %}{{ x }}{{ y }}{{ caller }}{% endmacro %}',
        '{{ used.attr }} {{ guarded | default(1) }} {% if maybe is defined %}{{ maybe }}{% endif %}',
        "{{ d['key'] }} {{ {'lit': other} }} {{ a | join(sep) }} {{ x is version(ver, '>') }}",
      ].join('\n'));
      const names = jinjaNames(file);
      expect(Object.fromEntries([...names.used].map(([k, v]) => [k, v.line]))).to.deep.equal({ pairs: 1, z: 2, used: 3, d: 4, other: 4, sep: 4, ver: 4 });
      expect([...names.filters.keys()]).to.deep.equal(['default', 'join']);
      expect([...names.tests.keys()]).to.deep.equal(['defined', 'version']);
    });
  });
});
