/**
 * Ansible habits that must never be silently misread (issue 13): every folder in
 * test/fixtures/ansible is a small playbook (our own) using one Ansible/Jinja construct;
 * expected.txt lists lines (substrings) the diagnostics must contain, file:line:col and the
 * JavaScript to write instead. A folder whose expected.txt is empty must validate cleanly
 * (JavaScript that looks alike stays legal).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnosticsOf } from '../helpers/diagnostics.js';

const root = join(import.meta.dirname, '..', 'fixtures', 'ansible');

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
