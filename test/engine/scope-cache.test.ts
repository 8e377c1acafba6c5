/**
 * What the engine computes once per run instead of per host and task (the controller's CPU per
 * host, issue 12), and that these caches never go stale: the inventory's group walk happens
 * once per run; set_fact, register and include_vars results are seen by the very next task.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inventory } from '../../src/inventory/model.js';
import { ModuleRegistry } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { run } from '../helpers/engine-run.js';
import { fakeFile } from '../helpers/fake-modules.js';
import { FakeWorld } from '../helpers/fake-connection.js';

/** Counts the schema checks of fake_file's parameters while `fn` runs. */
async function validations(fn: () => Promise<unknown>): Promise<number> {
  const schema = fakeFile.params as unknown as { safeParse: (...a: unknown[]) => unknown };
  const original = schema.safeParse;
  let n = 0;
  schema.safeParse = (...a: unknown[]) => {
    n++;
    return original.apply(schema, a);
  };
  try {
    await fn();
  } finally {
    schema.safeParse = original;
  }
  return n;
}

const tasks = (n: number) => Array.from({ length: n }, (_, i) => `    - name: t${i}\n      fake_file: {path: /f${i}, content: "{{ inventory_hostname }} {{ group_names.join(',') }} {{ groups.web.length }}"}\n`).join('');

describe('engine: per-run caches (scope, inventory)', () => {
  it('walks the inventory groups once per run, not per host and task', async () => {
    const original = Inventory.prototype.groupHosts;
    let calls = 0;
    Inventory.prototype.groupHosts = function (this: Inventory, g: string) {
      calls++;
      return original.call(this, g);
    };
    try {
      const r = await run(`- hosts: all\n  gather_facts: false\n  tasks:\n${tasks(8)}`);
      expect(r.summary.failed).to.equal(false);
      expect(r.world.host('h1').files.get('/f7')).to.equal('h1 web 2');
      expect(r.world.host('h3').files.get('/f7')).to.equal('h3  2');
    } finally {
      Inventory.prototype.groupHosts = original;
    }
    // 3 groups (all, ungrouped, web), once each, plus the play's host pattern: not 3 hosts x 8 tasks x 2 (prefetch, run) x 3 groups.
    expect(calls).to.be.at.most(6);
  });

  it('the groups variable cannot be changed by the controller code that reads it', async () => {
    const r = await run(`- hosts: all\n  gather_facts: false\n  tasks:\n${tasks(1)}`);
    expect(r.summary.failed).to.equal(false);
    // An expression gets a copy: changing it changes nothing for the next task or host.
    const r2 = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: change the copy
      fake_file: {path: /g, content: "{{ (() => { groups.web.push('x'); group_names.push('y'); return groups.web.length + '/' + group_names.length })() }}"}
    - name: next task
      fake_file: {path: /h, content: "{{ groups.web.length }}/{{ group_names.length }}"}
`);
    expect(r2.summary.failed).to.equal(false);
    expect(r2.world.host('h1').files.get('/g')).to.equal('3/2');
    expect(r2.world.host('h1').files.get('/h')).to.equal('2/1');
    expect(r2.world.host('h2').files.get('/h')).to.equal('2/1');
  });

  it('a variable changed by set_fact, register or include_vars is seen by the next task (no stale scope)', async () => {
    const r = await run(
      `
- hosts: all
  gather_facts: false
  vars:
    color: play
  tasks:
    - name: before
      fake_file: {path: /before, content: "{{ color }}"}
    - set_fact:
        color: "fact-{{ inventory_hostname }}"
    - name: after set_fact
      fake_file: {path: /after-fact, content: "{{ color }}"}
    - name: register
      fake_run: echo reg-{{ color }}
      register: out
      changed_when: false
    - name: after register
      fake_file: {path: /after-register, content: "{{ out.stdout }}"}
    - set_fact:
        color: again
    - name: after the second set_fact
      fake_file: {path: /after-again, content: "{{ color }} {{ out.stdout }}"}
    - include_vars: more.yml
    - name: after include_vars
      fake_file: {path: /after-include, content: "{{ shade }}"}
`,
      { files: { 'vars/more.yml': 'shade: dark\n', 'more.yml': 'shade: dark\n' } },
    );
    expect(r.summary.failed, JSON.stringify(r.events.filter((e) => e.type === 'task:host' && e.result.status === 'failed'))).to.equal(false);
    for (const h of ['h1', 'h2', 'h3']) {
      const files = r.world.host(h).files;
      expect(files.get('/before'), h).to.equal('play');
      expect(files.get('/after-fact'), h).to.equal(`fact-${h}`);
      expect(files.get('/after-register'), h).to.equal(`reg-fact-${h}`);
      expect(files.get('/after-again'), h).to.equal(`again reg-fact-${h}`);
      expect(files.get('/after-include'), h).to.equal('dark');
    }
  });

  it('a converged run renders and checks each task\'s parameters once per host (the prefetch and the task share them)', async () => {
    const world = new FakeWorld();
    const pb = `- hosts: all\n  gather_facts: false\n  vars:\n    v: x\n  tasks:\n${tasks(5)}    - fake_file: {path: /v, content: "{{ v }}"}\n`;
    await run(pb, { world });
    const n = await validations(async () => {
      const r = await run(pb, { world });
      expect(r.summary.changed).to.equal(false);
      expect(r.summary.stats.probeExecs).to.equal(3);
    });
    expect(n).to.equal(3 * 6);
  });

  it('a task sees what another host registered in an earlier task through hostvars (the prefetched scope is not reused)', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: register
      fake_run: echo from-{{ inventory_hostname }}
      register: out
      changed_when: false
    - name: read h1's result
      fake_file: {path: /seen, content: "{{ hostvars.h1.out?.stdout ?? 'none' }}"}
`);
    expect(r.summary.failed).to.equal(false);
    for (const h of ['h1', 'h2', 'h3']) expect(r.world.host(h).files.get('/seen'), h).to.equal('from-h1');
  });

  it('a changed earlier task makes the next task render its parameters again with what changed', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - name: first
      fake_file: {path: /a, content: one}
      register: first
    - name: second
      fake_file: {path: /b, content: "{{ first.changed }}"}
`);
    expect(r.world.host('h1').files.get('/b')).to.equal('true');
  });

  it('reading a valid playbook runs no did-you-mean search (the modules loaded lazily are not unknown)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-dym-'));
    const file = join(dir, 'site.yml');
    writeFileSync(file, `- hosts: all\n  gather_facts: false\n  tasks:\n    - file: {path: /tmp/x, state: directory}\n    - copy: {dest: /tmp/x/a, content: a}\n    - lineinfile: {path: /tmp/x/b, line: b, create: true}\n    - command: {cmd: touch /tmp/x/c, creates: /tmp/x/c}\n`);
    const original = ModuleRegistry.prototype.suggest;
    let calls = 0;
    ModuleRegistry.prototype.suggest = function (this: ModuleRegistry, name: string) {
      calls++;
      return original.call(this, name);
    };
    try {
      const { playbook } = await loadPlaybook(file);
      expect(playbook.plays[0]!.tasks.map((t) => (t.kind === 'module' ? t.moduleName : t.kind))).to.deep.equal(['file', 'copy', 'lineinfile', 'command']);
    } finally {
      ModuleRegistry.prototype.suggest = original;
    }
    expect(calls).to.equal(0);
  });

  it('an unknown module still gets its did-you-mean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-dym-'));
    const file = join(dir, 'site.yml');
    writeFileSync(file, `- hosts: all\n  gather_facts: false\n  tasks:\n    - lineinfle: {path: /tmp/x/b, line: b}\n`);
    let message = '';
    await loadPlaybook(file).catch((e: Error) => (message = e.message));
    expect(message).to.match(/unknown module "lineinfle"; did you mean "lineinfile"\?/);
  });
});
