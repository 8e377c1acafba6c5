/**
 * Plan warnings (Plan.warnings): the engine emits each as a `warning` event naming the host,
 * the task (id and position in the playbook) and the loop item, in check mode too; secrets
 * are masked like in every event and no_log hides the text.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { change, defineModule, fact, noop, type AnyModule } from '../../src/core/module.js';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { ModuleRegistry } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import composeDeploy from '../../src/modules/docker/compose-deploy.js';
import { FakeWorld } from '../helpers/fake-connection.js';

/** Ensures a fake file, warning about each of `warn` whether it changes anything or not. */
const fakeWarn = defineModule({
  name: 'fake_warn',
  summary: 'Test module: ensure a fake file and report warnings',
  examples: [],
  params: z.object({ path: z.string(), content: z.string(), warn: z.array(z.string()) }),
  probe: (p) => ({ current: fact(`file:${p.path}`, `read ${p.path}`, (o) => (o.code === 0 ? o.stdout : null)) }),
  plan: (p, f: { current: string | null }) =>
    f.current === p.content
      ? noop(`${p.path} is up to date`, { warnings: p.warn })
      : change(`write ${p.path}`, [{ kind: 'exec', cmd: `write ${p.path} ${p.content}` }], { warnings: p.warn, assume: { [`file:${p.path}`]: p.content } }),
});

type Warning = Extract<EngineEvent, { type: 'warning' }>;

async function run(playbook: string, o: { check?: boolean; world?: FakeWorld } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-warn-'));
  writeFileSync(join(dir, 'inventory.yml'), 'all:\n  hosts:\n    h1:\n    h2:\n');
  writeFileSync(join(dir, 'playbook.yml'), playbook);
  const inventory = loadInventory([join(dir, 'inventory.yml')]);
  const registry = new ModuleRegistry([...BUNDLED_MODULES, fakeWarn as unknown as AnyModule]);
  const { playbook: pb } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory, registry });
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.on((e) => events.push(e));
  const world = o.world ?? new FakeWorld();
  const summary = await runPlaybook(pb, { inventory, registry, bus, connect: world.connect, check: o.check });
  const warnings = events.filter((e): e is Warning => e.type === 'warning');
  return { summary, events, warnings, world };
}

describe('engine: plan warnings', () => {
  it('emits each warning with the host, the task id and where the task is written', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: quiet
      fake_warn: { path: /q, content: x, warn: [] }
    - name: warns
      fake_warn: { path: /a, content: x, warn: ["port 8080 is published on all addresses", "no healthcheck"] }
`);
    const start = r.events.find((e): e is Extract<EngineEvent, { type: 'task:start' }> => e.type === 'task:start' && e.name === 'warns')!;
    expect(r.warnings.map((w) => [w.host, w.msg])).to.have.deep.members([
      ['h1', 'port 8080 is published on all addresses'],
      ['h1', 'no healthcheck'],
      ['h2', 'port 8080 is published on all addresses'],
      ['h2', 'no healthcheck'],
    ]);
    for (const w of r.warnings) {
      expect(w.id).to.equal(start.id);
      expect(w.pos).to.deep.include({ line: 7 });
      expect(w.pos!.file).to.match(/playbook\.yml$/);
      expect(w.item).to.equal(undefined);
    }
    // A warning comes before the result it belongs to.
    const i = r.events.findIndex((e) => e.type === 'warning');
    expect(r.events.slice(i).some((e) => e.type === 'task:host' && e.id === start.id)).to.equal(true);
    expect(r.summary.failed).to.equal(false);
  });

  it('warns when nothing changes, in check mode, and per loop item', async () => {
    const world = new FakeWorld();
    world.host('h1').files.set('/a', 'x');
    const r = await run(
      `
- hosts: h1
  gather_facts: false
  tasks:
    - name: converged
      fake_warn: { path: /a, content: x, warn: [still here] }
    - name: looped
      fake_warn: { path: "/{{ item }}", content: x, warn: ["about {{ item }}"] }
      loop: [b, c]
`,
      { check: true, world },
    );
    expect(r.warnings.map((w) => [w.msg, w.item ?? null])).to.deep.equal([
      ['still here', null],
      ['about b', 'b'],
      ['about c', 'c'],
    ]);
    expect(world.host('h1').files.has('/b'), 'check mode wrote nothing').to.equal(false);
  });

  it('masks secrets in warnings and hides them under no_log', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  vars:
    token: !secret hunter2
  tasks:
    - name: leaks
      fake_warn: { path: /a, content: x, warn: ["token {{ token }} is weak"] }
    - name: hidden
      fake_warn: { path: /b, content: x, warn: ["token {{ token }} is weak", other] }
      no_log: true
`);
    expect(JSON.stringify(r.events)).to.not.include('hunter2');
    expect(r.warnings.map((w) => w.msg)).to.deep.equal(['token ******** is weak', 'a warning was hidden due to no_log: true']);
  });
});

describe('compose-deploy reports its findings as plan warnings', () => {
  it('hardening findings and an orphan container: plan warnings (also in the output), not squeezed into the noop reason', () => {
    const fx = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/modules/compose-deploy/converged-noop.json'), 'utf8'));
    const containers = fx.facts.project.containers;
    containers.push({ ...containers[0], id: 'a'.repeat(64), name: 'p3_old_1', service: 'old' });
    const params = composeDeploy.params.parse(fx.params);
    const plan = composeDeploy.plan(params as never, fx.facts, { host: 'h1', check: false, diff: false, hostFacts: {}, pending: [], connection: { port: 22, local: false } });
    if ('failed' in plan || plan.changed) throw new Error(`expected a noop plan, got ${JSON.stringify(plan)}`);
    expect(plan.reason).to.equal('project p3 is up to date (2 services running their current configuration)');
    const warnings = plan.warnings;
    expect(warnings).to.include('web: runs as root unless the image says otherwise (no user:)');
    expect(warnings!.at(-1)).to.equal('orphan containers (services no longer in the configuration): p3_old_1: set remove_orphans: true to remove them');
    expect(plan.output?.warnings).to.deep.equal(warnings);
  });
});
