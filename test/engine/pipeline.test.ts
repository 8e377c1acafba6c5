/**
 * Per-host pipelines (engine/pipeline.ts) on fake connections: a fast host is not held by a slow
 * one, the barriers a play needs hold, and the events still come as one row per task.
 */
import { expect } from 'chai';
import type { EngineEvent } from '../../src/engine/events.js';
import { EventBus } from '../../src/engine/events.js';
import { HostsInProgress } from '../../src/render/format.js';
import { plainRenderer } from '../../src/render/plain.js';
import { FakeWorld } from '../helpers/fake-connection.js';
import { run, statusOf } from '../helpers/engine-run.js';

/** A world where h3 takes `ms` for each exec (the others 2 ms). */
function slowH3(ms = 120): FakeWorld {
  const world = new FakeWorld();
  world.host('h3').delayMs = ms;
  return world;
}

/** Position of a host's script in the start order / the end order. */
const started = (w: FakeWorld, host: string, script: string) => w.order.findIndex(([h, s]) => h === host && s.startsWith(script));
const ended = (w: FakeWorld, host: string, script: string) => w.ended.findIndex(([h, s]) => h === host && s.startsWith(script));
/**
 * Every task:host, task:progress and task warning comes between its own task's start and end;
 * rows do not overlap; in each row every host that ran it starts once, has its results, then is
 * done, so the live row's `N running` is right for each row (HostsInProgress, render/format.ts).
 */
function expectRows(events: EngineEvent[]): void {
  let open: number | undefined;
  let row: { hosts: HostsInProgress; results: Set<string>; done: Set<string> } | undefined;
  for (const e of events) {
    if (e.type === 'task:start') {
      expect(open, `task ${e.id} starts inside task ${open}`).to.equal(undefined);
      open = e.id;
      row = { hosts: new HostsInProgress(), results: new Set(), done: new Set() };
    } else if (e.type === 'task:host' || e.type === 'task:progress' || (e.type === 'warning' && e.id !== undefined)) {
      expect(e.id, `${e.type} outside its row`).to.equal(open);
      if (e.type === 'task:host') {
        expect(row!.done.has(e.result.host), `${e.result.host}: a result after done`).to.equal(false);
        row!.results.add(e.result.host);
      }
      if (e.type === 'task:progress') {
        if (e.state === 'done') {
          expect(row!.results.has(e.host), `${e.host}: done before its result`).to.equal(true);
          row!.done.add(e.host);
        }
        const before = row!.hosts.running;
        row!.hosts.progress(e);
        expect(row!.hosts.running, `${e.host} ${e.state}`).to.equal(before + (e.state === 'start' ? 1 : -1));
      }
    } else if (e.type === 'task:end') {
      expect(e.id).to.equal(open);
      expect(row!.hosts.running, 'no host still running at the end of its row').to.equal(0);
      expect(row!.hosts.started, 'every host with a result started the row once').to.equal(row!.results.size);
      open = undefined;
    }
  }
  expect(open).to.equal(undefined);
}

const THREE = `
- hosts: all
  gather_facts: false
  tasks:
    - {name: one, fake_file: {path: /a, content: x}}
    - {name: two, fake_file: {path: /b, content: x}}
    - {name: three, fake_file: {path: /c, content: x}}
`;

describe('engine: per-host pipelines', () => {
  it('a fast host finishes all its tasks before the slow host finishes its first', async () => {
    const world = slowH3();
    const r = await run(THREE, { world });
    expect(ended(world, 'h1', 'write /c')).to.be.lessThan(ended(world, 'h3', 'write /a'));
    expect(ended(world, 'h2', 'write /c')).to.be.lessThan(ended(world, 'h3', 'write /a'));
    for (const t of ['one', 'two', 'three']) expect(statusOf(r, t)).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    // Still one row per task, in order, each with every host's result.
    expectRows(r.events);
    const starts = r.events.flatMap((e) => (e.type === 'task:start' ? [[e.name, e.hosts.join(',')]] : []));
    expect(starts).to.deep.equal([['one', 'h1,h2,h3'], ['two', 'h1,h2,h3'], ['three', 'h1,h2,h3']]);
    const ends = r.events.flatMap((e) => (e.type === 'task:end' ? [e.counts.changed] : []));
    expect(ends).to.deep.equal([3, 3, 3]);
  });

  it('hosts in progress per row: a fast host held on a later row keeps the time it really started', async () => {
    const world = slowH3(200);
    const r = await run(THREE, { world });
    expectRows(r.events);
    const progress = r.events.filter((e): e is Extract<EngineEvent, { type: 'task:progress' }> => e.type === 'task:progress');
    const at = (id: number, host: string, state: 'start' | 'done') => progress.find((e) => e.id === id && e.host === host && e.state === state)!.at;
    const [one, two, three] = r.events.flatMap((e) => (e.type === 'task:start' ? [e.id] : []));
    // h1 started (and finished) task three while h3 was still on task one: the row of three shows
    // h1's real times, not when its held events were let through.
    expect(at(three!, 'h1', 'done')).to.be.at.most(at(one!, 'h3', 'done'));
    expect(at(two!, 'h1', 'start')).to.be.below(at(one!, 'h3', 'done'));
    // While row one is shown (before its task:end), h3 is the one host still running it.
    const rowOne = new HostsInProgress();
    for (const e of progress.filter((p) => p.id === one && !(p.host === 'h3' && p.state === 'done'))) rowOne.progress(e);
    expect(rowOne.running).to.equal(1);
    expect(rowOne.slow(at(one!, 'h3', 'start') + 5000).map((s) => s.host)).to.deep.equal(['h3']);
  });

  it('strategy: linear keeps the barrier at every task', async () => {
    const world = slowH3();
    await run(THREE.replace('gather_facts: false', 'gather_facts: false\n  strategy: linear'), { world });
    expect(ended(world, 'h3', 'write /a')).to.be.lessThan(ended(world, 'h1', 'write /b'));
    expect(started(world, 'h1', 'write /b')).to.be.greaterThan(started(world, 'h3', 'write /a'));
    expect(world.order.findIndex(([h, s]) => h === 'h1' && s.startsWith('write /b'))).to.be.greaterThan(
      world.order.findIndex(([h, s]) => h === 'h3' && s.startsWith('write /a')),
    );
  });

  it('run_once waits for every host, and the tasks after it wait for it', async () => {
    const world = slowH3();
    const r = await run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - {name: one, fake_file: {path: /a, content: x}}
    - {name: two, fake_file: {path: /b, content: x}}
    - {name: once, fake_run: echo once, run_once: true}
    - {name: three, fake_file: {path: /c, content: x}}
    - {name: four, fake_file: {path: /d, content: x}}
`,
      { world },
    );
    // Before the barrier the fast hosts ran ahead; `once` (on h1) came after h3's /b, and
    // nobody wrote /c before `once` ended.
    expect(ended(world, 'h1', 'write /b')).to.be.lessThan(ended(world, 'h3', 'write /a'));
    expect(started(world, 'h1', 'echo once')).to.be.greaterThan(started(world, 'h3', 'write /b'));
    expect(ended(world, 'h3', 'write /b')).to.be.lessThan(ended(world, 'h1', 'echo once'));
    expect(world.order.filter(([, s]) => s === 'echo once')).to.have.length(1);
    for (const h of ['h1', 'h2', 'h3']) expect(started(world, h, 'write /c')).to.be.greaterThan(started(world, 'h1', 'echo once'));
    // After it, pipelines again: h1 ends /d before h3 ends /c.
    expect(ended(world, 'h1', 'write /d')).to.be.lessThan(ended(world, 'h3', 'write /c'));
    expectRows(r.events);
  });

  it('a play that reads hostvars runs linear (a host reads what the others registered)', async () => {
    const world = slowH3();
    const r = await run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - {name: one, fake_run: echo hi, register: said}
    - {name: two, fake_run: "echo got-{{ hostvars['h3'].said.stdout }}"}
`,
      { world },
    );
    // Linear: h1 can read h3's registered result because h3 finished task one first.
    expect(statusOf(r, 'two')).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'changed' });
    expect(world.host('h1').log[1]).to.match(/^echo got-hi/);
    expect(started(world, 'h1', 'echo got-')).to.be.greaterThan(started(world, 'h3', 'echo hi'));
  });

  it('hostvars in a play variable also makes the play linear', async () => {
    const world = slowH3();
    await run(THREE.replace('gather_facts: false', "gather_facts: false\n  vars:\n    peer: \"{{ hostvars['h1'].inventory_hostname }}\""), { world });
    expect(ended(world, 'h3', 'write /a')).to.be.lessThan(ended(world, 'h1', 'write /b'));
  });

  it('a task for some hosts only (when on inventory_hostname / groups) is a barrier', async () => {
    const world = slowH3();
    const r = await run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - {name: one, fake_file: {path: /a, content: x}}
    - {name: db only, fake_file: {path: /g, content: x}, when: "inventory_hostname == 'h3'"}
    - {name: app, fake_file: {path: /c, content: x}, when: "group_names.includes('web')"}
    - {name: last, fake_file: {path: /d, content: x}}
`,
      { world },
    );
    // The app task waits for the database host's task.
    expect(ended(world, 'h3', 'write /g')).to.be.lessThan(ended(world, 'h1', 'write /c'));
    expect(started(world, 'h1', 'write /c')).to.be.greaterThan(started(world, 'h3', 'write /g'));
    expect(statusOf(r, 'db only')).to.deep.equal({ h1: 'skipped', h2: 'skipped', h3: 'changed' });
    expectRows(r.events);
  });

  it('a delegated task is a barrier: it works on another host, which the next tasks may use', async () => {
    const world = slowH3();
    const r = await run(
      `
- hosts: all
  gather_facts: false
  tasks:
    - {name: one, fake_file: {path: /a, content: x}}
    - {name: on h1 for each, fake_run: "echo for {{ inventory_hostname }}", delegate_to: h1}
    - {name: two, fake_file: {path: /b, content: x}}
`,
      { world },
    );
    // Nobody writes /b before every host's delegated command ran (h3's comes last: h3 is slow).
    for (const h of ['h1', 'h2']) expect(started(world, h, 'write /b')).to.be.greaterThan(started(world, 'h1', 'echo for h3'));
    expectRows(r.events);
  });

  it('a host that fails leaves its pipeline; the next rows list only the hosts that ran them', async () => {
    const world = slowH3();
    world.host('h1').failCommands = /^write \/b/;
    const r = await run(THREE, { world });
    expect(statusOf(r, 'two')).to.deep.equal({ h1: 'failed', h2: 'changed', h3: 'changed' });
    expect(statusOf(r, 'three')).to.deep.equal({ h2: 'changed', h3: 'changed' });
    const three = r.events.find((e) => e.type === 'task:start' && e.name === 'three');
    expect(three).to.deep.include({ hosts: ['h2', 'h3'] });
    expect(r.summary.hosts.h1).to.include({ changed: 1, failed: 1 });
    expectRows(r.events);
  });

  it('strategy is linear or free; anything else is a validation error', async () => {
    let err: Error | undefined;
    await run(THREE.replace('gather_facts: false', 'gather_facts: false\n  strategy: host_pinned')).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/playbook\.yml:4:3: error: strategy must be linear or free \(got the string "host_pinned"\)/);
  });

  it('the plain renderer shows each task once, with every host under it', async () => {
    const world = slowH3(60);
    const r = await run(THREE, { world });
    const bus = new EventBus();
    let text = '';
    plainRenderer(bus, { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WriteStream);
    for (const e of r.events) bus.emit(e);
    const lines = text.split('\n').flatMap((l) => (/^(TASK|changed)/.test(l) ? [l.replace(/^(changed: \[h\d\]).*/, '$1')] : []));
    const row = (t: string) => [`TASK [${t}]`, 'changed: [h1]', 'changed: [h2]', 'changed: [h3]'];
    expect(lines).to.deep.equal([...row('one'), ...row('two'), ...row('three')]);
  });
});
