/**
 * The bad-input corpus: every folder in test/fixtures/bad is a small project with a mistake in
 * it; expected.txt lists lines (substrings) the diagnostics must contain, with file:line:col.
 * A regression is a new folder, not new test code.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatDiagnosticLine, UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';

const root = join(import.meta.dirname, '..', 'fixtures', 'bad');

async function diagnosticsOf(dir: string): Promise<string[]> {
  const invFile = ['inventory.yml', 'inventory.ini'].map((f) => join(dir, f)).find((f) => existsSync(f));
  try {
    const inventory = loadInventory(invFile ? [invFile] : [], { playbookDir: dir });
    await loadPlaybook(join(dir, 'playbook.yml'), { inventory });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.diagnostics.map((d) => formatDiagnosticLine({ ...d, pos: d.pos && { ...d.pos, file: relative(dir, d.pos.file) } }) + (d.hint ? `  hint: ${d.hint}` : ''));
  }
  return [];
}

describe('bad-input corpus (test/fixtures/bad)', () => {
  const cases = readdirSync(root).sort();
  it('has at least 30 cases', () => {
    expect(cases.length).to.be.at.least(30);
  });
  for (const name of cases) {
    it(name, async () => {
      const dir = join(root, name);
      const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').split('\n').filter(Boolean);
      const got = await diagnosticsOf(dir);
      expect(got, 'loading must fail').to.not.be.empty;
      for (const want of expected) {
        expect(got.some((g) => g.includes(want)), `expected a diagnostic containing:\n  ${want}\ngot:\n  ${got.join('\n  ')}`).to.equal(true);
      }
    });
  }
});
