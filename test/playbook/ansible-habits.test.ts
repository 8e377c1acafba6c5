/**
 * Ansible habits that must never be silently misread (issue 13): every folder in
 * test/fixtures/ansible is a small playbook (our own) using one Ansible/Jinja construct;
 * expected.txt lists lines (substrings) the diagnostics must contain, file:line:col and the
 * JavaScript to write instead. A folder whose expected.txt is empty must validate cleanly
 * (JavaScript that looks alike stays legal).
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatDiagnosticLine, UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';

const root = join(import.meta.dirname, '..', 'fixtures', 'ansible');

async function diagnosticsOf(dir: string): Promise<string[]> {
  const invFile = ['inventory.yml', 'inventory.ini'].map((f) => join(dir, f)).find((f) => existsSync(f));
  try {
    const inventory = loadInventory(invFile ? [invFile] : [], { playbookDir: dir });
    await loadPlaybook(join(dir, 'playbook.yml'), { inventory });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.diagnostics.map((d) => formatDiagnosticLine({ ...d, pos: d.pos && { ...d.pos, file: relative(dir, d.pos.file) } }));
  }
  return [];
}

describe('Ansible habits are refused with the JavaScript to write (test/fixtures/ansible)', () => {
  for (const name of readdirSync(root).sort()) {
    it(name, async () => {
      const dir = join(root, name);
      const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').split('\n').filter(Boolean);
      const got = await diagnosticsOf(dir);
      if (!expected.length) {
        expect(got, 'must validate cleanly').to.deep.equal([]);
        return;
      }
      for (const want of expected) {
        expect(got.some((g) => g.includes(want)), `expected a diagnostic containing:\n  ${want}\ngot:\n  ${got.join('\n  ')}`).to.equal(true);
      }
      for (const g of got) expect(g, 'one line per diagnostic').to.not.include('\n');
    });
  }
});
