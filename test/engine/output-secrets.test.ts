/**
 * A module's registered result may carry Secret values (docker-swarm-init's join tokens). The
 * engine learns them as soon as the task returns, so output printed later masks them even when
 * nothing read the registered variable yet (a command that happens to print the token).
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineModule, noop, type AnyModule } from '../../src/core/module.js';
import { secret } from '../../src/core/secret.js';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { ModuleRegistry } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { FakeWorld } from '../helpers/fake-connection.js';

const TOKEN = 'SWMTKN-1-abcdefabcdef-0123456789';

const fakeToken = defineModule({
  name: 'fake_token',
  summary: 'Test module: returns a secret token in its result',
  examples: [],
  params: z.object({}),
  probe: () => ({}),
  plan: () => noop('token read', { output: { token: secret(TOKEN) } }),
});

describe('engine: secrets in a module result', () => {
  it('are masked in later output, even before anything reads the registered value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-outsecret-'));
    writeFileSync(join(dir, 'inventory.yml'), 'all:\n  hosts:\n    h1:\n');
    writeFileSync(
      join(dir, 'playbook.yml'),
      `
- hosts: all
  gather_facts: false
  tasks:
    - fake_token: {}
    - debug: {msg: "the host printed ${TOKEN}"}
`,
    );
    const inventory = loadInventory([join(dir, 'inventory.yml')]);
    const registry = new ModuleRegistry([...BUNDLED_MODULES, fakeToken as unknown as AnyModule]);
    const { playbook } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory, registry });
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    bus.on((e) => events.push(e));
    const summary = await runPlaybook(playbook, { inventory, registry, bus, connect: new FakeWorld().connect });
    expect(summary.failed).to.equal(false);
    const text = JSON.stringify(events);
    expect(text).to.include('the host printed ********');
    expect(text).not.to.include(TOKEN);
  });
});
