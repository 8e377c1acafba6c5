/**
 * Free-form `command` / `shell` with Ansible's inline `chdir= creates= removes=` words whose
 * values are templates: split without cutting `{{ }}`, then run for real on the implicit
 * localhost (local connection).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent, type TaskHostResult } from '../../../src/engine/events.js';
import { runPlaybook } from '../../../src/engine/runner.js';
import { loadInventory } from '../../../src/inventory/model.js';
import { inlineGuards } from '../../../src/modules/commands/lib/run-command.js';
import { loadPlaybook } from '../../../src/playbook/load.js';

describe('free-form inline arguments', () => {
  it('keeps templates and quoted values whole', () => {
    expect(inlineGuards('x chdir={{ d }}')).to.deep.equal({ rest: 'x', guards: { chdir: '{{ d }}' } });
    expect(inlineGuards('make  install creates={{ base }}/bin/{{ app }} chdir="/src/my app" -j2')).to.deep.equal({
      rest: 'make  install -j2',
      guards: { creates: '{{ base }}/bin/{{ app }}', chdir: '/src/my app' },
    });
    expect(inlineGuards('echo "chdir=/not/a/guard" {{ "removes=x" }}')).to.deep.equal({ rest: 'echo "chdir=/not/a/guard" {{ "removes=x" }}', guards: {} });
  });

  it('runs `command: "touch here chdir={{ d }}"` in the rendered folder and skips on a templated creates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-free-form-'));
    try {
      writeFileSync(
        join(dir, 'playbook.yml'),
        `
- hosts: localhost
  gather_facts: false
  vars:
    d: ${dir}
  tasks:
    - name: where
      command: "touch here chdir={{ d }}"
    - name: once
      shell: "echo ran > marker creates={{ d }}/marker chdir={{ d }}"
    - name: once again
      shell: "echo ran > marker creates={{ d }}/marker chdir={{ d }}"
`,
      );
      const inventory = loadInventory([], { playbookDir: dir });
      const { playbook, registry } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory });
      const bus = new EventBus();
      const events: EngineEvent[] = [];
      bus.on((e) => events.push(e));
      await runPlaybook(playbook, { inventory, registry, bus });
      const names = new Map(events.flatMap((e) => (e.type === 'task:start' ? [[e.id, e.name] as const] : [])));
      const result = (task: string) => events.find((e): e is Extract<EngineEvent, { type: 'task:host' }> => e.type === 'task:host' && names.get(e.id) === task)!.result as TaskHostResult;
      expect(result('where').status, result('where').msg).to.equal('changed');
      expect(existsSync(join(dir, 'here'))).to.equal(true);
      expect(result('once').status, result('once').msg).to.equal('changed');
      expect(readFileSync(join(dir, 'marker'), 'utf8')).to.equal('ran\n');
      expect(result('once again').status).to.equal('ok');
      expect(result('once again').msg).to.match(/skipped, since .*marker exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
