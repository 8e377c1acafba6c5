/**
 * `meta` tasks (engine/meta.ts) on fake connections: handlers flushed mid-section, hosts or the
 * play ended, facts forgotten, host errors cleared, meta as a pipeline barrier.
 */
import { expect } from 'chai';
import { FakeWorld } from '../helpers/fake-connection.js';
import { run, statusOf } from '../helpers/engine-run.js';

const taskStarts = (r: Awaited<ReturnType<typeof run>>) => r.events.flatMap((e) => (e.type === 'task:start' ? [e.name] : []));

describe('engine: meta', () => {
  it('flush_handlers runs the notified handlers before the next task, and not again at the end of the section', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: change
      fake_file: {path: /a, content: x}
      notify: restart
    - name: flush
      meta: flush_handlers
    - name: after
      fake_file: {path: /b, content: x}
  handlers:
    - name: restart
      fake_run: restarted
`);
    expect(taskStarts(r)).to.deep.equal(['change', 'flush', 'restart', 'after']);
    expect(statusOf(r, 'restart')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    expect(statusOf(r, 'flush')).to.deep.equal({ h1: 'ok', h2: 'ok', h3: 'ok' });
  });

  it('end_host with a when ends the play for that host only; it is not failed, and it plays the next play', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: stop h2
      meta: end_host
      when: inventory_hostname === 'h2'
    - name: after
      fake_file: {path: /a, content: x}
- hosts: all
  gather_facts: false
  tasks:
    - name: next play
      fake_file: {path: /b, content: x}
`);
    expect(statusOf(r, 'stop h2')).to.deep.equal({ h1: 'skipped', h2: 'ok', h3: 'skipped' });
    expect(statusOf(r, 'after')).to.deep.equal({ h1: 'changed', h3: 'changed' });
    expect(statusOf(r, 'next play')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    expect(r.summary.failed).to.equal(false);
    expect(r.summary.hosts.h2).to.include({ ok: 1, changed: 1, failed: 0 });
  });

  it('end_play ends the play for every host (no handlers, no later section), not the run', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: change
      fake_file: {path: /a, content: x}
      notify: restart
    - name: stop
      meta: end_play
      when: inventory_hostname === 'h1'
    - name: never
      fake_file: {path: /b, content: x}
  post_tasks:
    - name: never post
      fake_file: {path: /c, content: x}
  handlers:
    - name: restart
      fake_run: restarted
- hosts: h3
  gather_facts: false
  tasks:
    - name: next play
      fake_file: {path: /d, content: x}
`);
    expect(taskStarts(r)).to.deep.equal(['change', 'stop', 'next play']);
    expect(r.world.host('h2').files.has('/b')).to.equal(false);
    expect(r.summary.failed).to.equal(false);
  });

  it('end_play ends later serial batches too; end_batch only the current one', async () => {
    const pb = (action: string) => `
- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: stop
      meta: ${action}
      when: inventory_hostname === 'h1'
    - name: work
      fake_file: {path: /a, content: x}
`;
    const ended = await run(pb('end_play'));
    expect(statusOf(ended, 'work')).to.deep.equal({});
    const batch = await run(pb('end_batch'));
    expect(statusOf(batch, 'work')).to.deep.equal({ h2: 'changed', h3: 'changed' });
  });

  it('clear_host_errors: a host failed earlier in the play takes the next tasks again', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: breaks on h2
      fake_run: exit 1
      when: inventory_hostname === 'h2'
    - name: skipped by h2
      fake_file: {path: /a, content: x}
    - name: clear
      meta: clear_host_errors
    - name: h2 is back
      fake_file: {path: /b, content: x}
`);
    expect(statusOf(r, 'skipped by h2')).to.deep.equal({ h1: 'changed', h3: 'changed' });
    expect(statusOf(r, 'h2 is back')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    // The recap keeps the failure.
    expect(r.summary.hosts.h2).to.include({ failed: 1 });
  });

  it('clear_facts: the next play with gather_facts gathers the facts of that host again', async () => {
    const world = new FakeWorld();
    for (const h of ['h1', 'h2', 'h3']) world.host(h).facts = `hostname=${h}\nkernel=6.1.0\n`;
    const r = await run(
      `
- hosts: all
  tasks:
    - name: forget
      meta: clear_facts
      when: inventory_hostname === 'h1'
- hosts: all
  tasks:
    - name: noop
      meta: noop
`,
      { world },
    );
    const gathers = r.events.flatMap((e) => (e.type === 'task:start' && e.name === 'Gathering Facts' ? [e.hosts.join(',')] : []));
    expect(gathers).to.deep.equal(['h1,h2,h3', 'h1']);
  });

  it('is a barrier under pipelines: every host ends the tasks before it before any host goes past it', async () => {
    const world = new FakeWorld();
    world.host('h3').delayMs = 80;
    const r = await run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - {name: one, fake_file: {path: /a, content: x}}
    - {name: barrier, meta: noop}
    - {name: two, fake_file: {path: /b, content: x}}
`,
      { world },
    );
    const endA = world.ended.findIndex(([h, s]) => h === 'h3' && s.startsWith('write /a'));
    expect(endA).to.be.greaterThan(-1);
    // h1's write of /b starts after h3's write of /a ended: the barrier held.
    expect(world.ended.slice(0, endA + 1).some(([, s]) => s.startsWith('write /b'))).to.equal(false);
    expect(statusOf(r, 'two')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
  });
});

describe('engine: meta, bad input', () => {
  it('a templated action fails the hosts (the action must be written literally)', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  vars: {act: end_host}
  tasks:
    - name: stop
      meta: "{{ act }}"
    - name: after
      fake_file: {path: /a, content: x}
`);
    expect(r.results('stop').map((x) => [x.status, x.msg])).to.deep.equal([['failed', 'meta: the action must be written literally (one of flush_handlers, end_play, end_host, end_batch, clear_facts, clear_host_errors, noop)']]);
    expect(statusOf(r, 'after')).to.deep.equal({});
  });
});
