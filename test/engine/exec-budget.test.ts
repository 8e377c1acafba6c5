/**
 * The exec budget on fake connections: a converged run reads each host's facts in ONE exec,
 * whatever the order of its tasks (a `command` with `changed_when: false` first, in the
 * middle, in a loop); a step drops only the cached facts it can have changed (ExecStep.touches,
 * a put's path; an exec that declares nothing drops them all), and the facts of the section
 * dropped that way are read again together, in one exec.
 */
import { expect } from 'chai';
import { FakeWorld } from '../helpers/fake-connection.js';
import { run, statusOf } from '../helpers/engine-run.js';

const isProbe = (s: string) => s.includes('@@tsplay-fact-');
/** The fact batches run on a host since the world's log had `from` entries. */
const probes = (world: FakeWorld, host: string, from = 0) => world.host(host).log.slice(from).filter(isProbe);
/** The fact commands of a batch (`read /a`, ...). */
const readsOf = (batch: string) => [...batch.matchAll(/^\( (read \S+)$/gm)].map((m) => m[1]);

const FILES = ['/a', '/b', '/c', '/d'];
const fileTask = (p: string) => `    - name: file ${p}\n      fake_file: {path: ${p}, content: "${p.slice(1)}"}\n`;
const loopTask = `    - fake_file: {path: "{{ item }}", content: "{{ item.replaceAll('/', '') }}"}\n      loop: [/l1, /l2, /l3]\n`;
const commandTask = (name: string) => `    - name: ${name}\n      command: echo ${name}\n      changed_when: false\n`;
const commandLoop = `    - command: echo {{ item }}\n      changed_when: false\n      loop: [x, y]\n`;

/** Runs the playbook twice (the second run is converged); returns the second run. */
async function converged(tasks: string[]) {
  const world = new FakeWorld();
  const pb = `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.join('')}`;
  await run(pb, { world });
  const from = Object.fromEntries(['h1', 'h2', 'h3'].map((h) => [h, world.host(h).log.length]));
  const r = await run(pb, { world });
  return { r, world, from };
}

describe('engine: exec budget (fake connections)', () => {
  const orders: Record<string, string[]> = {
    'command first': [commandTask('first'), ...FILES.map(fileTask), loopTask],
    'command in the middle': [fileTask('/a'), fileTask('/b'), commandTask('middle'), loopTask, fileTask('/c'), fileTask('/d')],
    'command last': [...FILES.map(fileTask), loopTask, commandTask('last')],
    'commands everywhere and in a loop': [commandTask('one'), fileTask('/a'), commandLoop, loopTask, commandTask('two'), fileTask('/b'), commandLoop, fileTask('/c')],
  };
  for (const [order, tasks] of Object.entries(orders)) {
    it(`a converged run costs one probe exec per host: ${order}`, async () => {
      const { r, world, from } = await converged(tasks);
      expect(r.summary.changed).to.equal(false);
      for (const h of ['h1', 'h2', 'h3']) expect(probes(world, h, from[h]), h).to.have.length(1);
      expect(r.summary.stats.probeExecs).to.equal(3);
    });
  }

  it('a changed file drops only its own facts; the later tasks still use the section read', async () => {
    const world = new FakeWorld();
    for (const f of FILES) world.host('h1').files.set(f, f.slice(1));
    world.host('h1').files.set('/a', 'old');
    const r = await run(`- hosts: h1\n  gather_facts: false\n  tasks:\n${[fileTask('/a'), fileTask('/b'), fileTask('/c'), '    - fake_needs: {path: /a}\n', fileTask('/a'), fileTask('/d')].join('')}`, { world });
    expect(r.summary.hosts.h1).to.include({ changed: 1, ok: 5 });
    const batches = probes(world, 'h1');
    expect(batches).to.have.length(2);
    expect(readsOf(batches[1]!), 'the re-read after the write').to.deep.equal(['read /a']);
  });

  it('a step that declares what it touches drops only that; the re-read of the section is one exec', async () => {
    const world = new FakeWorld();
    for (const f of FILES) world.host('h1').files.set(f, f.slice(1));
    const r = await run(
      `- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: behind our back\n      fake_run: {cmd: write /b changed, touches: ["file:/b"]}\n${FILES.map(fileTask).join('')}`,
      { world },
    );
    // The fact of /b is read again, so its task sees the new content and puts it back.
    expect(r.summary.hosts.h1).to.include({ changed: 2, ok: 3 });
    expect(world.host('h1').files.get('/b')).to.equal('b');
    const batches = probes(world, 'h1');
    expect(batches.map(readsOf)).to.deep.equal([['read /a', 'read /b', 'read /c', 'read /d'], ['read /b']]);
  });

  it('a command that declares nothing drops every fact; the rest of the section is read again in ONE exec', async () => {
    const world = new FakeWorld();
    for (const f of FILES) world.host('h1').files.set(f, f.slice(1));
    const r = await run(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - fake_run: write /c changed\n${FILES.map(fileTask).join('')}`, { world });
    expect(statusOf(r, 'file /c')).to.deep.equal({ h1: 'changed' });
    expect(world.host('h1').files.get('/c')).to.equal('c');
    const batches = probes(world, 'h1');
    expect(batches.map(readsOf)).to.deep.equal([
      ['read /a', 'read /b', 'read /c', 'read /d'],
      ['read /a', 'read /b', 'read /c', 'read /d'],
    ]);
  });

  it('a command with changed_when: false and a noop plan drop nothing, but a changed command does', async () => {
    const world = new FakeWorld();
    for (const f of FILES) world.host('h1').files.set(f, f.slice(1));
    await run(`- hosts: h1\n  gather_facts: false\n  tasks:\n${commandTask('quiet')}${fileTask('/a')}    - command: echo loud\n${fileTask('/b')}`, { world });
    expect(probes(world, 'h1').map(readsOf)).to.deep.equal([['read /a', 'read /b'], ['read /b']]);
  });
});
