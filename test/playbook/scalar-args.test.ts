/**
 * A literal number or boolean where a module wants a string is its string form, at validation
 * as at run time (src/modules/coerce.ts): `content: 42` loads and writes "42", as in Ansible.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

async function messagesOf(dir: string, tasks: string): Promise<string[]> {
  writeFileSync(join(dir, 'playbook.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n${tasks}`);
  try {
    await loadPlaybook(join(dir, 'playbook.yml'), { inventory: loadInventory([], { playbookDir: dir }) });
    return [];
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.diagnostics.map((d) => d.message);
  }
}

describe('literal scalars in module parameters', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-scalar-args-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a number or boolean where a string is wanted passes validation', async () => {
    const tasks = `    - copy: {dest: ${dir}/n.txt, content: 42}\n    - copy: {dest: ${dir}/b.txt, content: true}\n    - lineinfile: {path: ${dir}/l.txt, line: 3.5, create: true}\n`;
    expect(await messagesOf(dir, tasks)).to.deep.equal([]);
  });

  it('a number for a file mode is still refused, and other mistakes next to a coerced value are still errors', async () => {
    const msgs = await messagesOf(dir, `    - copy: {dest: ${dir}/n.txt, content: 42, mode: 0644}\n    - copy: {dest: ${dir}/m.txt, content: 7, force: "yes please"}\n`);
    expect(msgs, msgs.join('\n')).to.have.length(2);
    expect(msgs[0]).to.match(/^copy: mode: /);
    expect(msgs[1]).to.match(/^copy: force: /);
  });

  it('content: 42 writes the bytes "42"', function () {
    if (!existsSync(cli)) this.skip();
    writeFileSync(join(dir, 'playbook.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: {dest: ${dir}/n.txt, content: 42}\n`);
    const r = spawnSync(process.execPath, [cli, 'run', join(dir, 'playbook.yml')], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'n.txt'), 'utf8')).to.equal('42');
  });
});
