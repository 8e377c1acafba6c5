/**
 * docker-swarm-init: what plan fixtures cannot express. The join tokens leave the module only as
 * Secret values (registered results), never in a command line, a change line or a description;
 * and the same-run hand-off (`{{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}`)
 * through the real engine masks the token in every event.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { defineModule, noop, type PlanContext } from '../../../src/core/module.js';
import { isSecret } from '../../../src/core/secret.js';
import { EventBus, type EngineEvent } from '../../../src/engine/events.js';
import { runPlaybook } from '../../../src/engine/runner.js';
import { loadInventory } from '../../../src/inventory/model.js';
import mod from '../../../src/modules/docker/docker-swarm-init.js';
import { BUNDLED_MODULES } from '../../../src/modules/index.js';
import { ModuleRegistry } from '../../../src/modules/registry.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { FakeWorld } from '../../helpers/fake-connection.js';

const FACTS = join(import.meta.dirname, '../../fixtures/facts/swarmNode');
const fact = (n: string) => (JSON.parse(readFileSync(join(FACTS, `${n}.json`), 'utf8')) as { expected: never }).expected;
const ctx = (check = false): PlanContext => ({ host: 'h', check, diff: true, hostFacts: {}, pending: [], connection: { port: 22, local: false } });
const TOKEN = 'SWMTKN-1-3y2tzgrbirettukgluw89qkgtx1qzhylcnfjv3bmvaxcraoqul-ccccccccccccccccccccccccc';

describe('docker-swarm-init: join tokens are secrets', () => {
  it('a converged manager registers its tokens as Secret values (JSON shows ********)', () => {
    const plan = mod.plan(mod.params.parse({}), { swarm: fact('manager') }, ctx()) as unknown as { changed: boolean; output: { join_tokens: Record<string, unknown>; swarm_id: string; role: string } };
    expect(plan.changed).to.equal(false);
    expect(plan.output.role).to.equal('manager');
    expect(plan.output.swarm_id).to.equal('rn3i8772893my2qnqil74s605');
    expect(isSecret(plan.output.join_tokens.worker)).to.equal(true);
    expect(isSecret(plan.output.join_tokens.manager)).to.equal(true);
    expect(JSON.stringify(plan)).to.not.include('SWMTKN');
  });

  it('after init, the tokens come from the last step\'s output, as secrets', () => {
    const p = mod.params.parse({ networks: [{ name: 'backend', encrypted: true }] });
    const stdout = `@@tsplay-swarm node1 true cluster1 10.0.0.2:2377,\n@@tsplay-swarm-tokens ${TOKEN} ${TOKEN.replace(/c+$/, 'd'.repeat(25))}\n`;
    const out = mod.result!(p, { swarm: fact('inactive') }, [{ stdout: '', stderr: '', code: 0 }, { stdout, stderr: '', code: 0 }]);
    expect(out).to.include({ role: 'manager', swarm_id: 'cluster1', node_id: 'node1' });
    expect(out.manager_addrs).to.deep.equal(['10.0.0.2:2377']);
    const tokens = out.join_tokens as Record<string, { value: string }>;
    expect(isSecret(tokens.worker) && tokens.worker.value).to.equal(TOKEN);
    expect(JSON.stringify(out)).to.not.include('SWMTKN');
    // A failed step's output is not an identity: nothing is registered from it.
    expect(mod.result!(p, { swarm: fact('inactive') }, [{ stdout: 'Error', stderr: 'x', code: 1 }])).to.deep.equal({});
  });

  it('the token is in no command line, change or description: the join step reads it from stdin', () => {
    const plan = mod.plan(mod.params.parse({ state: 'join', join_token: TOKEN, remote_addrs: ['10.0.0.2'] }), { swarm: fact('inactive') }, ctx()) as {
      changes: string[];
      steps: Array<{ cmd: string; description?: string; stdin?: string }>;
    };
    expect(JSON.stringify([plan.changes, plan.steps.map((s) => [s.cmd, s.description])])).to.not.include('SWMTKN');
    expect(plan.steps.find((s) => s.stdin)?.stdin).to.equal(`${TOKEN}\n`);
    expect(mod.secretParams).to.deep.equal(['join_token']);
  });

  it('check mode on a fresh manager registers empty tokens, and a fresh worker with an empty token plans "would join once the manager is initialized"', () => {
    const m = mod.plan(mod.params.parse({ advertise_addr: '10.0.0.2' }), { swarm: fact('inactive') }, ctx(true)) as unknown as { output: { join_tokens: unknown; manager_addrs: string[] } };
    expect(m.output.join_tokens).to.deep.equal({ worker: '', manager: '' });
    expect(m.output.manager_addrs).to.deep.equal(['10.0.0.2:2377']);
    const w = mod.plan(mod.params.parse({ state: 'join', join_token: '', remote_addrs: ['10.0.0.2'] }), { swarm: fact('inactive') }, ctx(true)) as { changes: string[]; steps: unknown[] };
    expect(w.changes).to.deep.equal(['join the swarm at 10.0.0.2:2377 (would join once the manager is initialized)']);
    expect(w.steps).to.deep.equal([]);
  });
});

/** Stands in for docker-swarm-init on the fake hosts: registers the same output shape. */
const fakeSwarm = defineModule({
  name: 'fake_swarm',
  summary: 'Register swarm join tokens like docker-swarm-init',
  examples: [{ title: 'x', task: { fake_swarm: {} } }],
  params: z.object({}),
  plan: (p, f, c) => {
    const real = mod.plan(mod.params.parse({}), { swarm: fact('manager') }, c);
    return noop('already a manager', { output: (real as { output: Record<string, unknown> }).output });
  },
});

describe('docker-swarm-init: same-run hand-off through the engine', () => {
  it('a worker reads the manager\'s registered token through hostvars; the token appears in no event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-swarm-'));
    writeFileSync(join(dir, 'inventory.yml'), 'all:\n  children:\n    managers: {hosts: {m1: {}}}\n    workers: {hosts: {w1: {}, w2: {}}}\n');
    writeFileSync(
      join(dir, 'playbook.yml'),
      `
- hosts: managers
  gather_facts: false
  tasks:
    - name: init
      fake_swarm: {}
      register: swarm
    - name: show
      debug: {var: swarm}
- hosts: workers
  gather_facts: false
  tasks:
    - name: token
      debug:
        msg: "joining with {{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}"
    - name: bad
      fail:
        msg: "cannot join with {{ hostvars[groups.managers[0]].swarm.join_tokens.manager }}"
      ignore_errors: true
`,
    );
    const inventory = loadInventory([join(dir, 'inventory.yml')]);
    const registry = new ModuleRegistry([...BUNDLED_MODULES, fakeSwarm]);
    const { playbook } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory, registry });
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    bus.on((e) => events.push(e));
    const world = new FakeWorld();
    const summary = await runPlaybook(playbook, { inventory, registry, bus, connect: world.connect });
    const text = JSON.stringify(events);
    expect(text).to.not.include('SWMTKN');
    expect(text).to.include('joining with ********');
    expect(text).to.include('cannot join with ********');
    expect(summary.hosts.w1!.failed).to.equal(0);
  });
});
