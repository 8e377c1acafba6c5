/**
 * tsplay as a library (src/index.ts): run a playbook from code against the local connection and
 * listen to its events; the public surface has what the README promises.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as tsplay from '../src/index.js';
import { createRenderer, EventBus, loadRun, runPlaybook, runPlaybookFile, type EngineEvent } from '../src/index.js';

function project(): { dir: string; playbook: string; inventory: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-api-'));
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(inventory, 'all:\n  hosts:\n    box1:\n      ansible_connection: local\n');
  const playbook = join(dir, 'site.yml');
  writeFileSync(
    playbook,
    `- hosts: all
  gather_facts: false
  tasks:
    - name: write a file
      copy:
        dest: ${dir}/out.txt
        content: "hello from {{ inventory_hostname }}\\n"
    - name: say something
      debug:
        msg: done
`,
  );
  return { dir, playbook, inventory };
}

describe('library API', function () {
  this.timeout(30000);

  it('runPlaybookFile runs a playbook on a local host and reports every event on the bus', async () => {
    const { dir, playbook, inventory } = project();
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    bus.on((e) => events.push(e));
    const summary = await runPlaybookFile(playbook, { inventory: [inventory], bus });
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).to.equal('hello from box1\n');
    expect(summary).to.include({ failed: false, unreachable: false, changed: true, interrupted: false });
    expect(summary.hosts.box1).to.include({ ok: 1, changed: 1, failed: 0 });
    expect(summary.warnings).to.deep.equal([]);
    expect(events.map((e) => e.type)).to.deep.equal(['run:start', 'play:start', 'connect:progress', 'connect:progress', 'connect:progress', 'task:start', 'task:progress', 'task:host', 'task:progress', 'task:end', 'task:start', 'task:progress', 'task:host', 'task:progress', 'task:end', 'play:end', 'recap']);
    const results = events.flatMap((e) => (e.type === 'task:host' ? [`${e.result.host} ${e.result.status}`] : []));
    expect(results).to.deep.equal(['box1 changed', 'box1 ok']);
  });

  it('loadRun + runPlaybook + a renderer: the steps the CLI takes', async () => {
    const { playbook, inventory } = project();
    const loaded = await loadRun(playbook, { inventory: [inventory] });
    const bus = new EventBus();
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += String(d)));
    const renderer = createRenderer('plain', bus, { out: out as unknown as NodeJS.WriteStream });
    const summary = await runPlaybook(loaded.playbook, { inventory: loaded.inventory, registry: loaded.registry, bus, check: true });
    await renderer.idle();
    expect(summary.changed).to.equal(true);
    expect(text).to.include('CHECK MODE');
    expect(text).to.include('TASK [write a file]\nchanged: [box1]');
    expect(text).to.match(/box1\s+: ok=1\s+changed=1/);
  });

  it('a task event carries where the task is written', async () => {
    const { dir, playbook, inventory } = project();
    writeFileSync(playbook, '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: breaks\n      command: "false"\n');
    const bus = new EventBus();
    const failed: EngineEvent[] = [];
    bus.on((e) => e.type === 'task:host' && e.result.status === 'failed' && failed.push(e));
    const summary = await runPlaybookFile(playbook, { inventory: [inventory], bus });
    expect(summary.failed).to.equal(true);
    expect(failed).to.have.length(1);
    expect(failed[0]).to.deep.include({ pos: { file: join(dir, 'site.yml'), line: 4, col: 7 } });
  });

  it('an unknown --limit name is an error before anything runs', async () => {
    const { playbook, inventory } = project();
    let err: unknown;
    await loadRun(playbook, { inventory: [inventory], limit: 'nosuchhost' }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(tsplay.UserError);
  });

  it('exports what a program needs to load, run, listen and render', () => {
    const names = [
      'loadInventory', 'loadPlaybook', 'loadRun', 'runPlaybook', 'runPlaybookFile',
      'EventBus', 'Masker',
      'createRenderer', 'chooseRenderer', 'defaultRenderer', 'RENDERER_KINDS', 'plainRenderer', 'listrRenderer', 'jsonRenderer',
      'defineModule', 'ModuleRegistry', 'UserError', 'formatDiagnostic', 'formatPos',
    ];
    for (const n of names) expect(tsplay, n).to.have.property(n).that.is.not.undefined;
  });
});
