/**
 * Module parameters that hold templates inside a list or object: a refinement over the whole
 * list (apt's "every name is a package name") cannot be decided while an item is a template, so
 * it is left to run time; every other mistake in the same task is still reported.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { holdsTemplate } from '../../src/playbook/tasks.js';

async function messagesOf(tasks: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-template-args-'));
  try {
    writeFileSync(join(dir, 'playbook.yml'), `- hosts: localhost\n  gather_facts: false\n  vars: {extra: iptables}\n  tasks:\n${tasks}`);
    await loadPlaybook(join(dir, 'playbook.yml'), { inventory: loadInventory([], { playbookDir: dir }) });
    return [];
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.diagnostics.map((d) => d.message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('module parameters with templates inside lists', () => {
  it('holdsTemplate finds a template at any depth', () => {
    expect(holdsTemplate(['a', { b: ['{{ x }}'] }])).to.equal(true);
    expect(holdsTemplate(['a', { b: ['c'] }, 3, null])).to.equal(false);
  });

  it('a list of package names with a template item loads', async () => {
    expect(await messagesOf('    - apt: {name: [fail2ban, "{{ extra }}"]}\n')).to.deep.equal([]);
  });

  it('a bad package name in a list without templates is still an error', async () => {
    const msgs = await messagesOf('    - apt: {name: [fail2ban, Not_A_Package]}\n');
    expect(msgs.some((m) => m.includes('package names are lower case'))).to.equal(true);
  });

  it('an unknown parameter next to a templated list is still an error', async () => {
    const msgs = await messagesOf('    - apt: {name: [fail2ban, "{{ extra }}"], stat: present}\n');
    expect(msgs.some((m) => m.includes('unknown parameter "stat"'))).to.equal(true);
  });
});
