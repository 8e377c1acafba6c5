/**
 * delegate_to, local_action, run_once with delegate_to, delegate_facts, on fake connections:
 * which connection ran each command, where register and set_fact land, and that the fact cache
 * is the delegate's (read there, dropped there by a write there).
 */
import { expect } from 'chai';
import { FakeWorld } from '../helpers/fake-connection.js';
import { run, statusOf } from '../helpers/engine-run.js';

const play = (hosts: string, tasks: string) => `- hosts: ${hosts}\n  gather_facts: false\n  tasks:\n${tasks}`;
/** The scripts run on a host that are not fact reads. */
const steps = (world: FakeWorld, host: string) => world.host(host).log.filter((s) => !s.includes('@@tsplay-fact-'));

describe('engine: delegate_to (fake connections)', () => {
  it('runs on the delegate once per play host, with the play host’s variables; the play hosts are not contacted', async () => {
    const r = await run(
      play('web', `    - name: note
      fake_file: {path: "/from-{{ inventory_hostname }}", content: "{{ inventory_hostname }}"}
      delegate_to: h3
`),
    );
    expect(statusOf(r, 'note')).to.deep.equal({ h1: 'changed', h2: 'changed' });
    const h3 = r.world.host('h3').files;
    expect(Object.fromEntries(h3)).to.deep.equal({ '/from-h1': 'h1', '/from-h2': 'h2' });
    expect(r.world.host('h1').log).to.deep.equal([]);
    expect(r.world.host('h2').log).to.deep.equal([]);
    expect(r.world.connections.map((c) => c.host)).to.deep.equal(['h3']);
    expect(r.results('note').map((x) => `${x.host} -> ${x.delegate}`).sort()).to.deep.equal(['h1 -> h3', 'h2 -> h3']);
    // The recap counts the play hosts, not the delegate.
    expect(r.summary.hosts.h1).to.include({ changed: 1 });
    expect(r.summary.hosts).to.have.keys('h1', 'h2');
    const recap = r.events.find((e) => e.type === 'recap');
    expect(recap?.type === 'recap' && Object.keys(recap.hosts)).to.deep.equal(['h1', 'h2']);
  });

  it('register lands on the play host', async () => {
    const r = await run(
      play('web', `    - name: ask
      fake_run: echo {{ inventory_hostname }}
      delegate_to: h3
      register: out
    - name: keep
      fake_file: {path: /reg, content: "{{ out.stdout }}"}
`),
    );
    expect(steps(r.world, 'h3').sort()).to.deep.equal(['echo h1', 'echo h2']);
    expect(r.world.host('h1').files.get('/reg')).to.equal('h1');
    expect(r.world.host('h2').files.get('/reg')).to.equal('h2');
    expect(r.world.host('h3').files.has('/reg')).to.equal(false);
  });

  it('reads facts on the delegate, and a write there drops the delegate’s cache, not the play host’s', async () => {
    const world = new FakeWorld();
    world.host('h1').files.set('/a', 'x');
    world.host('h3').files.set('/a', 'x');
    const r = await run(
      play('h1,h3', `    - name: first
      fake_file: {path: /a, content: x}
    - name: behind h3's back
      fake_file: {path: /a, content: "y"}
      delegate_to: h3
      when: inventory_hostname === 'h1'
    - name: again
      fake_file: {path: /a, content: x}
`),
      { world },
    );
    expect(statusOf(r, 'first')).to.deep.equal({ h1: 'ok', h3: 'ok' });
    // Read on h3 (its /a is x, not what h1's cache holds): a change, written on h3.
    expect(statusOf(r, "behind h3's back")).to.deep.equal({ h1: 'changed', h3: 'skipped' });
    // h3's cache was dropped, so h3 reads /a again and puts x back; h1's cache still holds.
    expect(statusOf(r, 'again')).to.deep.equal({ h1: 'ok', h3: 'changed' });
    expect(world.host('h3').files.get('/a')).to.equal('x');
    expect(world.host('h1').files.get('/a')).to.equal('x');
    expect(world.host('h1').log.filter((s) => s.includes('@@tsplay-fact-'))).to.have.length(1);
  });

  it('run_once with delegate_to runs once in total, and every host gets the result', async () => {
    const r = await run(
      play('all', `    - name: once
      fake_run: count /n
      run_once: true
      delegate_to: h2
      register: n
    - name: keep
      fake_file: {path: /n-seen, content: "{{ n.stdout }}"}
`),
    );
    expect(r.world.host('h2').files.get('/n')).to.equal('1');
    expect(steps(r.world, 'h2').filter((s) => s === 'count /n')).to.have.length(1);
    expect(r.results('once').map((x) => `${x.host} -> ${x.delegate}`)).to.deep.equal(['h1 -> h2']);
    for (const h of ['h1', 'h2', 'h3']) expect(r.world.host(h).files.get('/n-seen'), h).to.equal('1');
  });

  it('delegate_to: localhost and local_action run on the controller’s connection', async () => {
    const r = await run(
      play('web', `    - name: free form
      local_action: fake_run echo {{ inventory_hostname }}
    - name: mapping
      local_action: {module: fake_file, path: "/l-{{ inventory_hostname }}", content: hi}
    - name: delegated
      fake_run: echo again
      delegate_to: localhost
`),
    );
    expect(r.summary.failed).to.equal(false);
    expect(steps(r.world, 'localhost').sort()).to.deep.equal(['echo again', 'echo again', 'echo h1', 'echo h2', 'write /l-h1 hi', 'write /l-h2 hi']);
    expect(r.world.host('h1').log).to.deep.equal([]);
    expect(r.results('free form').map((x) => x.delegate)).to.deep.equal(['localhost', 'localhost']);
  });

  it('renders an expression per host; an unknown host fails that host with the nearest name', async () => {
    const r = await run(
      play('web', `    - name: to the other one
      fake_run: echo from {{ inventory_hostname }}
      delegate_to: "{{ inventory_hostname === 'h1' ? 'h2' : 'h1' }}"
    - name: nowhere
      fake_run: echo x
      delegate_to: "{{ 'h' + 4 }}"
      ignore_errors: true
`),
    );
    expect(steps(r.world, 'h2')).to.deep.equal(['echo from h1']);
    expect(steps(r.world, 'h1')).to.deep.equal(['echo from h2']);
    const failed = r.results('nowhere');
    expect(failed.map((x) => x.status)).to.deep.equal(['failed', 'failed']);
    expect(failed[0]!.msg).to.match(/^delegate_to: unknown host 'h4' \(did you mean 'h\d'\?\)$/);
  });

  it('delegates a loop item by item (delegate_to: "{{ item }}")', async () => {
    const r = await run(
      play('h1', `    - name: tell
      fake_file: {path: /peer, content: "{{ inventory_hostname }}"}
      delegate_to: "{{ item }}"
      loop: [h2, h3, h1]
      when: item !== 'h1'
`),
    );
    expect(r.world.host('h2').files.get('/peer')).to.equal('h1');
    expect(r.world.host('h3').files.get('/peer')).to.equal('h1');
    expect(r.results('tell').map((x) => `${x.item}: ${x.host} -> ${x.delegate}`)).to.deep.equal(['h2: h1 -> h2', 'h3: h1 -> h3', 'h1: h1 -> undefined']);
  });

  it('check mode plans on the delegate and writes nothing; later delegated tasks see the assumption', async () => {
    const r = await run(
      play('h1', `    - name: make
      fake_file: {path: /new, content: n}
      delegate_to: h3
    - name: need
      fake_needs: {path: /new}
      delegate_to: h3
    - name: here
      fake_needs: {path: /new}
      ignore_errors: true
`),
      { check: true, diff: true },
    );
    expect(statusOf(r, 'make')).to.deep.equal({ h1: 'changed' });
    expect(r.results('make')[0]!.diffs).to.have.length(1);
    expect(statusOf(r, 'need')).to.deep.equal({ h1: 'ok' });
    // h1 itself never planned /new: its own check fails.
    expect(statusOf(r, 'here')).to.deep.equal({ h1: 'failed' });
    expect(r.world.host('h3').files.has('/new')).to.equal(false);
    expect(steps(r.world, 'h3')).to.deep.equal([]);
  });

  it('delegate_facts: set_fact lands on the delegate; without it, on the play host', async () => {
    const r = await run(
      play('h1,h3', `    - name: tell h3
      set_fact: {told: "by {{ inventory_hostname }}"}
      delegate_to: h3
      delegate_facts: true
      when: inventory_hostname === 'h1'
    - name: mine
      set_fact: {mine: "{{ inventory_hostname }}"}
      delegate_to: h3
      when: inventory_hostname === 'h1'
    - name: show on h3
      fake_file: {path: /told, content: "{{ told }}"}
      when: inventory_hostname === 'h3'
    - name: show on h1
      fake_file: {path: /mine, content: "{{ mine }}"}
      when: inventory_hostname === 'h1'
`),
    );
    expect(r.summary.failed).to.equal(false);
    expect(r.world.host('h3').files.get('/told')).to.equal('by h1');
    expect(r.world.host('h1').files.get('/mine')).to.equal('h1');
    expect(r.world.host('h3').files.has('/mine')).to.equal(false);
  });

  it('an unreachable delegate makes the play host unreachable for that task', async () => {
    const world = new FakeWorld();
    world.host('h3').unreachable = true;
    const r = await run(play('h1', `    - name: via h3\n      fake_run: echo x\n      delegate_to: h3\n    - name: after\n      fake_run: echo y\n`), { world });
    expect(statusOf(r, 'via h3')).to.deep.equal({ h1: 'unreachable' });
    expect(r.results('via h3')[0]!.delegate).to.equal('h3');
    expect(statusOf(r, 'after')).to.deep.equal({});
  });

  it('a become refused while reading the section’s facts fails the tasks, not the run', async () => {
    const world = new FakeWorld();
    world.host('h1').becomeRefused = 'su rejected the become password (become_password) for becoming root';
    const r = await run(play('h1', `    - name: one\n      fake_file: {path: /a, content: a}\n      become: true\n    - name: two\n      fake_file: {path: /b, content: b}\n      become: true\n`), { world });
    expect(statusOf(r, 'one')).to.deep.equal({ h1: 'failed' });
    expect(r.results('one')[0]!.msg).to.equal('become failed on h1: su rejected the become password (become_password) for becoming root');
  });

  it('become_method: the keyword (play, task) gives su; ansible_become_method wins over it; the delegate’s become variables apply there', async () => {
    const r = await run(`- hosts: h1,h2
  gather_facts: false
  become: true
  become_method: su
  tasks:
    - name: play keyword
      fake_run: echo a
    - name: task keyword
      fake_run: echo b
      become_method: sudo
    - name: by variable
      fake_run: echo c
      vars: {ansible_become_method: sudo}
      when: inventory_hostname === 'h1'
- hosts: h3
  gather_facts: false
  vars: {ansible_become_method: sudo}
  tasks:
    - name: variable over keyword
      fake_run: echo d
      become: true
      become_method: su
`);
    expect(r.summary.failed).to.equal(false);
    const methods = (h: string) => r.world.host(h).becomes!.map((b) => b?.method ?? 'sudo');
    expect(methods('h2')).to.deep.equal(['su', 'sudo']);
    expect(methods('h1')).to.deep.equal(['su', 'sudo', 'sudo']);
    expect(methods('h3')).to.deep.equal(['sudo']);
  });

  it('items several hosts delegate to one host take turns there (its fact cache is shared); other tasks still run at once', async () => {
    const world = new FakeWorld();
    await run(play('all', `    - name: turns\n      fake_file: {path: "/t-{{ inventory_hostname }}", content: x}\n      delegate_to: localhost\n`), { world });
    expect(world.maxInFlight).to.equal(1);
    expect([...world.host('localhost').files.keys()].sort()).to.deep.equal(['/t-h1', '/t-h2', '/t-h3']);
    const parallel = new FakeWorld();
    await run(play('all', `    - name: at once\n      fake_run: echo x\n`), { world: parallel });
    expect(parallel.maxInFlight).to.equal(3);
  });
});
