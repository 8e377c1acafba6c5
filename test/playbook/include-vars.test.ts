/**
 * Validation of include_vars and of vars_files entries chosen per host: the names such a file
 * may define are known to later tasks (no false "undefined variable"), with the unknown type of
 * set_fact names; a static file that does not exist is an error at the task.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { diagnosticsOf } from '../helpers/diagnostics.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-incvars-'));
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  return dir;
}

const use = (expr: string) => `- name: use\n  debug: {msg: "{{ ${expr} }}"}\n`;

describe('validation: include_vars', () => {
  it('a static file: its keys are known names; a name it does not define is still an error', async () => {
    const dir = project({
      'playbook.yml': `- hosts: localhost\n  tasks:\n    - include_vars: app.yml\n    - debug: {msg: "{{ app_port }}"}\n    - debug: {msg: "{{ app_prot }}"}\n`,
      'vars/app.yml': 'app_port: 8080\n',
    });
    const d = await diagnosticsOf(dir);
    expect(d).to.have.length(1);
    expect(d[0]).to.match(/^playbook\.yml:5:\d+: error: .*app_prot/);
  });

  it('a templated name in a role: every file of the role’s vars/ folder may define names (the Galaxy pattern)', async () => {
    const dir = project({
      'playbook.yml': '- hosts: localhost\n  roles: [apache]\n',
      'roles/apache/tasks/main.yml': `- include_vars: "{{ ansible_os_family }}.yml"\n${use('apache_packages')}${use('apache_service')}`,
      'roles/apache/vars/Debian.yml': 'apache_packages: [apache2]\napache_service: apache2\n',
      'roles/apache/vars/RedHat.yml': 'apache_packages: [httpd]\n',
    });
    expect(await diagnosticsOf(dir)).to.deep.equal([]);
  });

  it('without the include, the same role reports the undefined name (the check is not switched off)', async () => {
    const dir = project({
      'playbook.yml': '- hosts: localhost\n  roles: [apache]\n',
      'roles/apache/tasks/main.yml': use('apache_packages'),
      'roles/apache/vars/Debian.yml': 'apache_packages: [apache2]\n',
    });
    const d = await diagnosticsOf(dir);
    expect(d.join('\n')).to.match(/apache_packages/);
  });

  it('names from include_vars have no static type: a member access on them is not refused', async () => {
    const dir = project({
      'playbook.yml': `- hosts: localhost\n  vars: {conf: "text"}\n  tasks:\n    - include_vars: conf.yml\n${use('conf.port').replace(/^/gm, '    ')}`,
      'vars/conf.yml': 'conf: {port: 80}\n',
    });
    expect(await diagnosticsOf(dir)).to.deep.equal([]);
  });

  it('a static file that does not exist: an error at the task naming where it looked', async () => {
    const dir = project({ 'playbook.yml': '- hosts: localhost\n  tasks:\n    - include_vars: {file: nope.yml}\n' });
    const d = await diagnosticsOf(dir, { hints: true });
    expect(d).to.have.length(1);
    expect(d[0]).to.match(/^playbook\.yml:3:\d+: error: include_vars: vars file "nope\.yml" not found {2}hint: looked in .*vars\/nope\.yml/);
  });

  it('dir: and name: give their names', async () => {
    const dir = project({
      'playbook.yml': `- hosts: localhost\n  tasks:\n    - include_vars: {dir: conf.d}\n    - include_vars: {file: app.yml, name: app}\n${use('a + b + app.port').replace(/^/gm, '    ')}`,
      'vars/conf.d/a.yml': 'a: 1\n',
      'vars/conf.d/sub/b.yml': 'b: 2\n',
      'vars/app.yml': 'port: 1\n',
    });
    expect(await diagnosticsOf(dir)).to.deep.equal([]);
  });
});

describe('validation: vars_files lists (the first file found)', () => {
  it('every candidate’s names are known, a templated one’s from its whole folder', async () => {
    const dir = project({
      'playbook.yml': `- hosts: localhost\n  vars_files:\n    - ["vars/{{ ansible_os_family }}.yml", vars/defaults.yml]\n  tasks:\n${(use('pkg + svc + dflt') + use('nope')).replace(/^(?=.)/gm, '    ')}`,
      'vars/Debian.yml': 'pkg: apache2\n',
      'vars/RedHat.yml': 'svc: httpd\n',
      'vars/defaults.yml': 'dflt: 1\n',
    });
    const d = await diagnosticsOf(dir);
    expect(d, d.join('\n')).to.have.length(1);
    expect(d[0]).to.match(/^playbook\.yml:8:\d+: error: .*'nope'/);
  });

  it('a list of static names none of which exists: an error naming them', async () => {
    const dir = project({ 'playbook.yml': '- hosts: localhost\n  vars_files:\n    - [vars/a.yml, vars/b.yml]\n  tasks: []\n' });
    expect(await diagnosticsOf(dir)).to.deep.equal(['playbook.yml:3:7: error: vars_files: none of these files exists: vars/a.yml, vars/b.yml']);
  });

  it('an entry that is neither a name nor a list of names is refused', async () => {
    const dir = project({ 'playbook.yml': '- hosts: localhost\n  vars_files:\n    - {a: 1}\n  tasks: []\n' });
    expect((await diagnosticsOf(dir)).join('\n')).to.include('vars_files entries are file names, or lists of file names');
  });
});
