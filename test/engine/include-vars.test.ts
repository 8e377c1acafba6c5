/**
 * include_vars on fake connections: the variables reach later tasks of the same host, a
 * templated file name is rendered per host, a vault-encrypted file is decrypted (its values
 * secrets), a missing file fails the task naming where it was looked for, and the precedence
 * sits where Ansible puts it (over play and task vars, under set_fact and extra vars).
 */
import { expect } from 'chai';
import { encrypt } from '../helpers/vault.js';
import { run, statusOf } from '../helpers/engine-run.js';
import { setVaultPasswords } from '../../src/yaml/vault.js';

const play = (tasks: string, head = '') => `- hosts: all\n  gather_facts: false\n${head}  tasks:\n${tasks}`;
const write = (name: string, content: string) => `    - name: ${name}\n      fake_file: {path: /out, content: "${content}"}\n`;
const out = (r: Awaited<ReturnType<typeof run>>, h: string) => r.world.host(h).files.get('/out');

describe('engine: include_vars (fake connections)', () => {
  afterEach(() => setVaultPasswords([]));

  it('a static file: its variables (templates, rendered when used) reach later tasks; register gets Ansible’s shape', async () => {
    const r = await run(
      play(`    - name: load
      include_vars: app.yml
      register: inc
${write('use', '{{ app_url }} {{ inc.ansible_facts.app_port }} {{ inc.ansible_included_var_files.length }}')}`),
      { files: { 'vars/app.yml': 'app_port: 8080\napp_url: "http://{{ inventory_hostname }}:{{ app_port }}/"\n' } },
    );
    expect(statusOf(r, 'load')).to.deep.equal({ h1: 'ok', h2: 'ok', h3: 'ok' });
    expect(out(r, 'h1')).to.equal('http://h1:8080/ 8080 1');
    expect(out(r, 'h3')).to.equal('http://h3:8080/ 8080 1');
  });

  it('with run_once, the variables read on the first host reach every host of the play (as Ansible applies them)', async () => {
    const r = await run(play(`    - name: load once\n      include_vars: app.yml\n      run_once: true\n${write('use', '{{ app_port }}')}`), {
      files: { 'vars/app.yml': 'app_port: 8080\n' },
    });
    expect(Object.keys(statusOf(r, 'load once'))).to.deep.equal(['h1']);
    expect([out(r, 'h1'), out(r, 'h2'), out(r, 'h3')]).to.deep.equal(['8080', '8080', '8080']);
  });

  it('a templated file name is rendered per host', async () => {
    const r = await run(play(`    - include_vars: "{{ inventory_hostname }}.yml"\n${write('use', '{{ color }}')}`), {
      files: { 'vars/h1.yml': 'color: red\n', 'vars/h2.yml': 'color: green\n', 'vars/h3.yml': '{"color": "blue"}\n' },
    });
    expect([out(r, 'h1'), out(r, 'h2'), out(r, 'h3')]).to.deep.equal(['red', 'green', 'blue']);
  });

  it('wins over play and task vars, loses to set_fact and extra vars (Ansible’s order)', async () => {
    const r = await run(
      play(
        `    - include_vars: {file: over.yml}
    - name: task vars lose
      fake_file: {path: /first, content: "{{ a }}"}
      vars: {a: task}
    - set_fact: {b: fact}
    - include_vars: over.yml
${write('set_fact wins', '{{ b }} {{ c }}')}`,
        '  vars: {a: play, b: play, c: play}\n',
      ),
      { files: { 'vars/over.yml': 'a: inc\nb: inc\nc: inc\n' }, extraVars: { c: 'extra' } },
    );
    expect(statusOf(r, 'task vars lose').h1).to.equal('changed');
    expect(r.world.host('h1').files.get('/first')).to.equal('inc');
    expect(out(r, 'h1')).to.equal('fact extra');
  });

  it('name: puts the variables under one name; dir: reads every file in name order', async () => {
    const r = await run(
      play(`    - include_vars: {file: app.yml, name: app}
    - include_vars: {dir: conf.d, files_matching: "\\\\.yml$"}
${write('use', '{{ app.port }} {{ x }} {{ y }}')}`),
      { files: { 'vars/app.yml': 'port: 81\n', 'vars/conf.d/10-a.yml': 'x: a\ny: a\n', 'vars/conf.d/20-b.yml': 'y: b\n', 'vars/conf.d/README': 'not vars' } },
    );
    expect(out(r, 'h2')).to.equal('81 a b');
  });

  it('a file encrypted whole with vault: decrypted, its values secrets (masked in output)', async () => {
    setVaultPasswords(['pw']);
    const r = await run(play(`    - include_vars: secret.yml\n    - name: show\n      debug: {msg: "token={{ api_token }}"}\n${write('use', '{{ api_token }}')}`), {
      files: { 'vars/secret.yml': encrypt('api_token: S3cr3t-Tok3n\n', 'pw') },
    });
    expect(out(r, 'h1')).to.equal('S3cr3t-Tok3n');
    expect(r.results('show')[0]!.msg).to.equal('token=********');
  });

  it('a missing file fails the task with where it was looked for; the playbook position is the task’s', async () => {
    const r = await run(play(`    - name: load\n      include_vars: "{{ inventory_hostname }}.yml"\n${write('use', '{{ color }}')}`), {
      files: { 'vars/h1.yml': 'color: red\n' },
    });
    expect(statusOf(r, 'load')).to.deep.equal({ h1: 'ok', h2: 'failed', h3: 'failed' });
    const msg = r.results('load').find((x) => x.host === 'h2')!.msg!;
    expect(msg).to.match(/vars file "h2\.yml" not found \(looked in .*\/vars\/h2\.yml/);
    const start = r.events.find((e) => e.type === 'task:start' && e.name === 'load');
    expect(start?.type === 'task:start' && start.pos).to.include({ line: 4 });
    expect(out(r, 'h1')).to.equal('red');
  });

  it('a syntax error in a file chosen at run time names the vars file’s line', async () => {
    const r = await run(play(`    - name: load\n      include_vars: "{{ inventory_hostname }}.yml"\n`), { files: { 'vars/h1.yml': 'a: 1\nb: [1, 2\n' } });
    expect(r.results('load')[0]!.msg).to.match(/vars\/h1\.yml:2:4: .*YAML syntax/);
  });
});

describe('engine: vars_files entries chosen per host (fake connections)', () => {
  const vfPlay = (entry: string) => `- hosts: all\n  gather_facts: false\n  vars_files:\n    - ${entry}\n  tasks:\n${write('use', '{{ color }}')}`;

  it('a list: the first file that exists for the host, after rendering', async () => {
    const r = await run(vfPlay('["vars/{{ inventory_hostname }}.yml", vars/defaults.yml]'), {
      files: { 'vars/h1.yml': 'color: red\n', 'vars/defaults.yml': 'color: "grey-{{ inventory_hostname }}"\n' },
    });
    expect([out(r, 'h1'), out(r, 'h2'), out(r, 'h3')]).to.deep.equal(['red', 'grey-h2', 'grey-h3']);
  });

  it('a list of static names: the first that exists', async () => {
    const r = await run(vfPlay('[vars/missing.yml, vars/defaults.yml]'), { files: { 'vars/defaults.yml': 'color: grey\n' } });
    expect(out(r, 'h2')).to.equal('grey');
  });

  it('a name that cannot be rendered (and no facts to wait for): the task fails saying which entry', async () => {
    const r = await run(vfPlay('["vars/{{ os_family }}.yml", vars/defaults.yml]'), { files: { 'vars/defaults.yml': 'color: grey\n' } });
    expect(statusOf(r, 'use')).to.deep.equal({ h1: 'failed', h2: 'failed', h3: 'failed' });
    expect(r.results('use')[0]!.msg).to.match(/playbook\.yml:4:\d+: vars_files: cannot render "vars\/\{\{ os_family \}\}\.yml": .*os_family/);
  });

  it('check mode: include_vars still reads its file, so later tasks plan with its values', async () => {
    const r = await run(play(`    - include_vars: app.yml\n${write('use', '{{ app_port }}')}`), { files: { 'vars/app.yml': 'app_port: 8080\n' }, check: true });
    expect(statusOf(r, 'use')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    expect(r.results('use')[0]!.changes?.join(' ')).to.include('/out');
  });

  it('none exists for a host: the task fails naming the entry’s file:line and the files tried', async () => {
    const r = await run(vfPlay('["vars/{{ inventory_hostname }}.yml", "vars/{{ inventory_hostname }}-default.yml"]'), { files: { 'vars/h1.yml': 'color: red\n' } });
    expect(statusOf(r, 'use')).to.deep.equal({ h1: 'changed', h2: 'failed', h3: 'failed' });
    expect(r.results('use').find((x) => x.host === 'h2')!.msg).to.match(/playbook\.yml:4:\d+: vars_files: none of these files exists for h2: vars\/h2\.yml, vars\/h2-default\.yml/);
  });
});
