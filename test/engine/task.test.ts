/**
 * runModuleItem's write conditions with the real local shell (connection: local): a put that
 * follows other steps of its own plan is not refused because those steps changed its file.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { planWrite, probeWrite } from '../../src/modules/lib/write-file.js';
import { change, defineModule, type AnyModule } from '../../src/core/module.js';
import { ModuleRegistry } from '../../src/modules/registry.js';
import { sh } from '../../src/core/quote.js';
import { loadPlaybook } from '../../src/playbook/load.js';

/** Like a package whose install writes a default config, then the config tsplay wants. */
const installThenConfigure = defineModule({
  name: 'install_then_configure',
  summary: 'Test module: a step that writes the default config, then the wanted config.',
  examples: [],
  params: z.object({ path: z.string(), content: z.string() }),
  probe: (p) => probeWrite(p.path),
  plan: (p, f, ctx) => {
    const w = planWrite({ path: p.path, content: p.content }, f, ctx);
    if ('failed' in w || !w.changed || f.content.exists) return w;
    return change(['install the package', ...w.changes], [{ kind: 'exec', cmd: sh`printf 'package default\n' > ${p.path}` }, ...w.steps]);
  },
});

describe('engine/task: conditional writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-task-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(playbook: string) {
    writeFileSync(join(dir, 'inventory.yml'), 'all:\n  hosts:\n    local1:\n      ansible_connection: local\n');
    writeFileSync(join(dir, 'playbook.yml'), playbook);
    const inventory = loadInventory([join(dir, 'inventory.yml')]);
    const registry = new ModuleRegistry([...BUNDLED_MODULES, installThenConfigure as unknown as AnyModule]);
    const { playbook: pb } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory, registry });
    const events: EngineEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const summary = await runPlaybook(pb, { inventory, registry, bus });
    return { summary, events };
  }

  it('a write after other steps of its own plan is not refused because they changed the file', async () => {
    const conf = join(dir, 'app.conf');
    const { summary, events } = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - install_then_configure: { path: ${conf}, content: "wanted\\n" }
`);
    const failures = events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [e.result.msg] : []));
    expect(failures).to.deep.equal([]);
    expect(summary.hosts.local1).to.include({ changed: 1, failed: 0 });
    expect(readFileSync(conf, 'utf8')).to.equal('wanted\n');
  });
});
