/**
 * Ansible names a migrated role reads, on fake connections: `ansible_role_name` (the role's
 * name, as role_name) and a play's `vars:` given as a list of mappings (merged in order, the
 * later mapping winning, as Ansible merges them).
 */
import { expect } from 'chai';
import { run } from '../helpers/engine-run.js';

describe('engine: Ansible names (fake connections)', () => {
  it('ansible_role_name is the role’s name inside a role', async () => {
    const r = await run(`- hosts: h1\n  gather_facts: false\n  roles: [web]\n`, {
      files: { 'roles/web/tasks/main.yml': '- name: name\n  fake_file: {path: /out, content: "{{ ansible_role_name }}/{{ role_name }}"}\n' },
    });
    expect(r.world.host('h1').files.get('/out')).to.equal('web/web');
  });

  it('a play’s vars as a list of mappings: merged in order, the later one wins', async () => {
    const r = await run(`- hosts: h1\n  gather_facts: false\n  vars:\n    - a: first\n      b: kept\n    - a: second\n  tasks:\n    - name: use\n      fake_file: {path: /out, content: "{{ a }} {{ b }}"}\n`);
    expect(r.world.host('h1').files.get('/out')).to.equal('second kept');
  });
});
