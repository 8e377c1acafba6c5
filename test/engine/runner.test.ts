/**
 * The engine with fake connections: order (linear strategy), handlers, failures, unreachable
 * hosts, check mode, loops and conditions, counting execs and connections.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { runPlaybook, type RunSummary } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { ModuleRegistry } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { FakeWorld } from '../helpers/fake-connection.js';
import { FAKE_MODULES } from '../helpers/fake-modules.js';
import { run, statusOf } from '../helpers/engine-run.js';

describe('engine (fake connections)', () => {
  it('runs each task on every host before the next task (linear), one connection per host', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  strategy: linear
  tasks:
    - name: first
      fake_file: {path: /a, content: one}
    - name: second
      fake_file: {path: /b, content: two}
`);
    const firstWrites = r.world.order.map(([h, s]) => `${h}:${s.startsWith('write /a') ? 'a' : s.startsWith('write /b') ? 'b' : 'probe'}`).filter((x) => !x.endsWith('probe'));
    const lastA = Math.max(...firstWrites.map((x, i) => (x.endsWith(':a') ? i : -1)));
    const firstB = firstWrites.findIndex((x) => x.endsWith(':b'));
    expect(lastA).to.be.lessThan(firstB);
    expect(r.world.connections).to.have.length(3);
    for (const c of r.world.connections) {
      expect(c.stats.connects).to.equal(1);
      // one probe exec for the section (writing /a does not drop the fact of /b) + one apply exec per task
      expect(c.stats.execs).to.equal(3);
    }
    expect(r.summary.hosts.h1).to.include({ changed: 2, ok: 0, failed: 0 });
  });

  it('second run reports changed=0 and runs only probes', async () => {
    const world = new FakeWorld();
    const pb = `
- hosts: all
  gather_facts: false
  tasks:
    - fake_file: {path: /a, content: one}
    - fake_file: {path: /b, content: two}
`;
    await run(pb, { world });
    const before = world.order.length;
    const r2 = await run(pb, { world });
    expect(r2.summary.changed).to.equal(false);
    expect(r2.summary.hosts.h1).to.include({ ok: 2, changed: 0 });
    const scripts = world.order.slice(before).map(([, s]) => s);
    expect(scripts.every((s) => s.includes('@@tsplay-fact-'))).to.equal(true);
    // Facts of the whole section are read up front: one exec per host for a converged run.
    expect(scripts).to.have.length(3);
    expect(r2.summary.stats.probeExecs).to.equal(3);
  });

  it('a fact read before a change is read again after it (the cache is cleared by any step)', async () => {
    const world = new FakeWorld();
    const r = await run(
      `
- hosts: h1
  gather_facts: false
  tasks:
    - fake_file: {path: /a, content: one}
    - fake_run: write /a changed-behind-our-back
    - fake_file: {path: /a, content: one}
`,
      { world },
    );
    expect(r.summary.hosts.h1).to.include({ changed: 3 });
    expect(world.host('h1').files.get('/a')).to.equal('one');
  });

  it('check mode plans but never applies, and later tasks see the planned state', async () => {
    const r = await run(
      `
- hosts: h1
  gather_facts: false
  tasks:
    - name: create
      fake_file: {path: /etc/app.conf, content: x}
    - name: needs it
      fake_needs: {path: /etc/app.conf}
`,
      { check: true },
    );
    expect(statusOf(r, 'create')).to.deep.equal({ h1: 'changed' });
    expect(statusOf(r, 'needs it')).to.deep.equal({ h1: 'ok' });
    expect(r.world.host('h1').files.size).to.equal(0);
    expect(r.world.host('h1').log.some((s) => s.startsWith('write'))).to.equal(false);
  });

  it('a failed host leaves the play; the others go on', async () => {
    const world = new FakeWorld();
    world.host('h2').failCommands = /^write \/a/;
    const r = await run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: a
      fake_file: {path: /a, content: one}
    - name: b
      fake_file: {path: /b, content: two}
`,
      { world },
    );
    expect(statusOf(r, 'a')).to.deep.equal({ h1: 'changed', h2: 'failed', h3: 'changed' });
    expect(statusOf(r, 'b')).to.deep.equal({ h1: 'changed', h3: 'changed' });
    const fail = r.results('a').find((x) => x.host === 'h2')!;
    expect(fail.failure?.exitCode).to.equal(3);
    expect(fail.failure?.command).to.equal('write /a one');
    expect(fail.failure?.stderrTail).to.include('error: it failed');
    expect(r.summary.failed).to.equal(true);
  });

  it('an unreachable host is reported as unreachable, not failed', async () => {
    const world = new FakeWorld();
    world.host('h3').unreachable = true;
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: a
      fake_file: {path: /a, content: one}
`, { world });
    expect(statusOf(r, 'a')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'unreachable' });
    expect(r.summary.hosts.h3).to.include({ unreachable: 1, failed: 0 });
    expect(r.summary.unreachable).to.equal(true);
  });

  it('a connection lost mid-run marks only that host unreachable', async () => {
    const world = new FakeWorld();
    world.host('h1').dropAfter = 2;
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - {name: a, fake_file: {path: /a, content: one}}
    - {name: b, fake_file: {path: /b, content: two}}
`, { world });
    expect(statusOf(r, 'b')).to.deep.equal({ h1: 'unreachable', h2: 'changed', h3: 'changed' });
  });

  it('handlers run once, at the end of the section, only where something changed, in definition order', async () => {
    const world = new FakeWorld();
    world.host('h1').files.set('/a', 'one'); // h1 already converged
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: a
      fake_file: {path: /a, content: one}
      notify: [second handler, first handler]
    - name: b
      fake_file: {path: /b, content: two}
      notify: first handler
  handlers:
    - name: first handler
      fake_run: echo first
    - name: second handler
      fake_run: echo second
`, { world });
    expect(statusOf(r, 'first handler')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    expect(statusOf(r, 'second handler')).to.deep.equal({ h2: 'changed', h3: 'changed' });
    const h2 = world.host('h2').log.filter((s) => s.startsWith('echo'));
    expect(h2).to.deep.equal(['echo first', 'echo second']);
    const starts = r.events.filter((e) => e.type === 'task:start').map((e) => (e as { name: string }).name);
    expect(starts).to.deep.equal(['a', 'b', 'first handler', 'second handler']);
  });

  it('listen topics; a failed task does not notify', async () => {
    const world = new FakeWorld();
    world.host('h2').failCommands = /^write/;
    const r = await run(`
- hosts: web
  gather_facts: false
  tasks:
    - name: a
      fake_file: {path: /a, content: one}
      notify: web config changed
  handlers:
    - name: restart
      fake_run: echo restart
      listen: web config changed
`, { world });
    expect(statusOf(r, 'restart')).to.deep.equal({ h1: 'changed' });
  });

  it('handlers: import_tasks brings in handlers, each notified by its own name or listen topic; the import keeps its when', async () => {
    const world = new FakeWorld();
    const r = await run(`
- hosts: web
  gather_facts: false
  tasks:
    - name: a
      fake_file: {path: /a, content: one}
      notify: [reload app, web config changed]
  handlers:
    - name: not notified by the name of an import (as in Ansible)
      import_tasks: app-handlers.yml
      when: inventory_hostname !== 'h2'
`, {
      world,
      files: {
        'app-handlers.yml': `
- name: reload app
  fake_run: echo reload
- name: restart web
  fake_run: echo restart
  listen: web config changed
- name: never notified
  fake_run: echo never
`,
      },
    });
    expect(r.summary.hosts.h1).to.include({ failed: 0 });
    expect(statusOf(r, 'reload app')).to.deep.equal({ h1: 'changed', h2: 'skipped' });
    expect(statusOf(r, 'restart web')).to.deep.equal({ h1: 'changed', h2: 'skipped' });
    expect(world.host('h1').log.filter((s) => s.startsWith('echo'))).to.deep.equal(['echo reload', 'echo restart']);
    expect(world.host('h2').log.filter((s) => s.startsWith('echo'))).to.deep.equal([]);
  });

  it('loop, register, when, changed_when, failed_when, ignore_errors', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  vars:
    names: [x, y, z]
  tasks:
    - name: loop
      fake_run: "echo {{ item }}"
      loop: "{{ names }}"
      register: out
      changed_when: false
    - name: use register
      fake_run: "echo {{ out.results.map(r => r.stdout).join(',') }}"
      register: joined
      changed_when: false
    - name: skipped
      fake_run: echo never
      when: joined.stdout === 'nope'
    - name: failing but ignored
      fake_run: exit 3
      ignore_errors: true
    - name: failed_when makes success a failure
      fake_run: echo ok
      failed_when: "true"
      ignore_errors: true
    - name: still running
      fake_run: echo done
`);
    expect(r.results('loop').map((x) => x.item)).to.deep.equal(['x', 'y', 'z']);
    expect(r.results('loop').every((x) => x.status === 'ok')).to.equal(true);
    expect(r.world.host('h1').log).to.include('echo x,y,z');
    expect(statusOf(r, 'skipped')).to.deep.equal({ h1: 'skipped' });
    expect(statusOf(r, 'failing but ignored')).to.deep.equal({ h1: 'failed' });
    expect(r.results('failing but ignored')[0]!.ignored).to.equal(true);
    expect(statusOf(r, 'still running')).to.deep.equal({ h1: 'changed' });
    expect(r.summary.hosts.h1).to.include({ ignored: 2, failed: 0, skipped: 1 });
  });

  it('a when that is not a boolean fails the host with a clear message', async () => {
    // A computed value: its type is known only at run time (a literal "yes" is refused at validation).
    const r = await run(`
- hosts: h1
  gather_facts: false
  vars:
    flag: "{{ 'y' + 'es' }}"
  tasks:
    - name: cond
      fake_run: echo x
      when: flag
`);
    const res = r.results('cond')[0]!;
    expect(res.status).to.equal('failed');
    expect(res.msg).to.match(/when: `flag` gave the string "yes", not a boolean/);
  });

  it('block / rescue / always', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - block:
        - {name: breaks, fake_run: exit 2}
        - {name: not reached, fake_run: echo no}
      rescue:
        - {name: rescuer, fake_run: echo rescued}
      always:
        - {name: cleanup, fake_run: echo always}
    - {name: after, fake_run: echo after}
`);
    expect(r.results('not reached')).to.be.empty;
    expect(statusOf(r, 'rescuer')).to.deep.equal({ h1: 'changed' });
    expect(statusOf(r, 'cleanup')).to.deep.equal({ h1: 'changed' });
    expect(statusOf(r, 'after')).to.deep.equal({ h1: 'changed' });
    expect(r.summary.hosts.h1).to.include({ rescued: 1, failed: 0 });
  });

  it('serial batches run the whole play per batch; any_errors_fatal stops everyone', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  serial: 2
  tasks:
    - {name: a, fake_run: echo a}
    - {name: b, fake_run: echo b}
`);
    const seq = r.world.order.map(([h, s]) => `${h}:${s}`);
    expect(seq.indexOf('h3:echo a')).to.be.greaterThan(seq.indexOf('h1:echo b'));
    const world = new FakeWorld();
    world.host('h1').failCommands = /^echo a/;
    const r2 = await run(`
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - {name: a, fake_run: echo a}
    - {name: b, fake_run: echo b}
`, { world });
    expect(r2.results('b')).to.be.empty;
  });

  it('tags and --limit select tasks and hosts', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - {name: tagged, fake_run: echo t, tags: [deploy]}
    - {name: untagged, fake_run: echo u}
    - {name: always, fake_run: echo a, tags: always}
`, { tags: ['deploy'], limit: 'web' });
    expect(Object.keys(statusOf(r, 'tagged')).sort()).to.deep.equal(['h1', 'h2']);
    expect(r.results('untagged')).to.be.empty;
    expect(r.results('always')).to.have.length(2);
  });

  it('masks secrets everywhere and hides no_log tasks', async () => {
    const world = new FakeWorld();
    world.host('h1').failCommands = /^echo hunter2/;
    const r = await run(`
- hosts: h1
  gather_facts: false
  vars:
    db_password: !secret hunter2
  tasks:
    - name: uses secret
      fake_run: "echo {{ db_password }}"
      ignore_errors: true
    - name: hidden
      fake_file: {path: /x, content: "{{ db_password }}"}
      no_log: true
`, { world, diff: true });
    const json = JSON.stringify(r.events);
    expect(json).to.not.include('hunter2');
    expect(json).to.include('********');
    expect(r.results('hidden')[0]!.hidden).to.equal(true);
    expect(r.results('hidden')[0]!.diffs).to.equal(undefined);
    expect(world.host('h1').files.get('/x')).to.equal('hunter2');
  });

  it('registered host output is data: it is never evaluated as a template', async () => {
    const world = new FakeWorld();
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - name: host says something nasty
      fake_run: "echo {{ '{{' }} process.exit(7) }}"
      register: out
    - name: use it
      fake_run: "echo {{ out.stdout }}"
`, { world });
    expect(statusOf(r, 'use it')).to.deep.equal({ h1: 'changed' });
    expect(world.host('h1').log).to.include('echo {{ process.exit(7) }}');
  });

  it('run_once runs on the first host and shares the registered result', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - {name: once, fake_run: echo token, register: tok, run_once: true}
    - {name: each, fake_run: "echo got {{ tok.stdout }}"}
`);
    expect(Object.keys(statusOf(r, 'once'))).to.deep.equal(['h1']);
    expect(r.world.host('h3').log).to.include('echo got token');
  });

  it('run_once set_fact gives the fact to every host of the play', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - {name: once, set_fact: {token: "from-{{ inventory_hostname }}"}, run_once: true}
    - {name: each, fake_run: "echo got {{ token }}"}
`);
    expect(Object.keys(statusOf(r, 'once'))).to.deep.equal(['h1']);
    expect(r.world.host('h3').log).to.include('echo got from-h1');
  });

  it('--start-at-task skips the tasks before it; --skip-tags skips tagged tasks', async () => {
    const r = await run(
      `
- hosts: h1
  gather_facts: false
  tasks:
    - {name: one, fake_run: echo one}
    - {name: two, fake_run: echo two}
    - {name: three, fake_run: echo three, tags: [slow]}
    - {name: four, fake_run: echo four}
`,
      { startAtTask: 't*o', skipTags: ['slow'] },
    );
    expect(r.world.host('h1').log).to.deep.equal(['echo two', 'echo four']);
  });

  it('--forks caps how many hosts are worked on at once', async () => {
    const pb = `
- hosts: all
  gather_facts: false
  tasks:
    - {name: a, fake_run: echo a}
`;
    const serialWorld = new FakeWorld();
    await run(pb, { world: serialWorld, forks: 1 });
    expect(serialWorld.maxInFlight).to.equal(1);
    const parallel = new FakeWorld();
    await run(pb, { world: parallel });
    expect(parallel.maxInFlight).to.equal(3);
  });

  it('max_fail_percentage stops the play when too many hosts failed', async () => {
    const world = new FakeWorld();
    world.host('h1').failCommands = /^echo a/;
    const r = await run(
      `
- hosts: all
  gather_facts: false
  max_fail_percentage: 20
  tasks:
    - {name: a, fake_run: echo a}
    - {name: b, fake_run: echo b}
`,
      { world },
    );
    expect(statusOf(r, 'a')).to.deep.equal({ h1: 'failed', h2: 'changed', h3: 'changed' });
    expect(r.results('b')).to.be.empty;
  });

  it('include_tasks with a loop runs the file once per item; import_playbook; vars_files', async () => {
    const r = await run(
      `
- import_playbook: first.yml
- hosts: h1
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - include_tasks: per-user.yml
      loop: "{{ users }}"
`,
      {
        files: {
          'first.yml': '- hosts: h2\n  gather_facts: false\n  tasks:\n    - {name: imported, fake_run: echo imported}\n',
          'vars.yml': 'users: [ann, bob]\n',
          'per-user.yml': '- name: greet\n  fake_run: "echo hello {{ item }}"\n',
        },
      },
    );
    expect(r.world.host('h2').log).to.deep.equal(['echo imported']);
    expect(r.world.host('h1').log).to.deep.equal(['echo hello ann', 'echo hello bob']);
  });

  it('with_dict, until/retries, environment and hostvars', async () => {
    const world = new FakeWorld();
    const r = await run(
      `
- hosts: h1,h2
  gather_facts: false
  vars:
    ports: {http: 80, https: 443}
  tasks:
    - name: dict
      fake_run: "echo {{ item.key }}={{ item.value }}"
      with_dict: "{{ ports }}"
    - name: retry
      fake_run: count /n
      register: counter
      until: "Number(counter.stdout) >= 3"
      retries: 5
      delay: 0
    - name: env
      fake_run: echo $GREETING
      environment:
        GREETING: "hi-from-{{ inventory_hostname }}"
    - name: peek at the other host
      fake_run: "echo other={{ hostvars[inventory_hostname === 'h1' ? 'h2' : 'h1'].inventory_hostname }}"
`,
      { world },
    );
    expect(world.host('h1').log).to.include.members(['echo http=80', 'echo https=443', 'echo other=h2']);
    expect(world.host('h1').files.get('/n')).to.equal('3');
    expect(statusOf(r, 'retry')).to.deep.equal({ h1: 'changed', h2: 'changed' });
    expect(world.host('h2').env).to.deep.equal({ GREETING: 'hi-from-h2' });
    expect(world.host('h2').log).to.include('echo other=h1');
  });
});

describe('engine: abort signal listeners', () => {
  /** Runs a playbook on `hosts` local hosts with an AbortSignal, collecting process warnings. */
  async function runLocal(hosts: number, tasks: string): Promise<{ summary: RunSummary; warnings: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-engine-'));
    const names = Array.from({ length: hosts }, (_, i) => `l${i + 1}`);
    writeFileSync(join(dir, 'inventory.yml'), `all:\n  vars: { ansible_connection: local }\n  hosts:\n${names.map((n) => `    ${n}:\n`).join('')}`);
    writeFileSync(join(dir, 'playbook.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`);
    const inventory = loadInventory([join(dir, 'inventory.yml')]);
    const { playbook: pb, registry } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const summary = await runPlaybook(pb, { inventory, registry, signal: new AbortController().signal, forks: 20 });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      return { summary, warnings };
    } finally {
      process.off('warning', onWarning);
    }
  }

  it('runs a task on 12 hosts at once without piling abort listeners on one signal', async () => {
    const r = await runLocal(12, '    - command: sleep 0.3\n    - command: "true"\n');
    expect(r.summary.hosts.l12).to.include({ changed: 2, failed: 0 });
    expect(r.warnings).to.deep.equal([]);
  });

  it('retries a task more than 10 times without leaking a listener per retry', async () => {
    const r = await runLocal(1, '    - command: "false"\n      register: r\n      until: r.rc == 0\n      retries: 12\n      delay: 0\n      failed_when: false\n');
    expect(r.summary.hosts.l1).to.include({ failed: 0 });
    expect(r.warnings).to.deep.equal([]);
  });
});
