/**
 * The bad-input corpus: every folder in test/fixtures/bad is a small project with a mistake in
 * it; expected.txt lists lines (substrings) the diagnostics must contain, with file:line:col.
 * A regression is a new folder, not new test code.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnosticsOf } from '../helpers/diagnostics.js';

const root = join(import.meta.dirname, '..', 'fixtures', 'bad');

describe('bad-input corpus (test/fixtures/bad)', () => {
  const cases = readdirSync(root).sort();
  it('has at least 30 cases', () => {
    expect(cases.length).to.be.at.least(30);
  });
  for (const name of cases) {
    it(name, async () => {
      const dir = join(root, name);
      const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').split('\n').filter(Boolean);
      const got = await diagnosticsOf(dir, { hints: true });
      expect(got, 'loading must fail').to.not.be.empty;
      for (const want of expected) {
        expect(got.some((g) => g.includes(want)), `expected a diagnostic containing:\n  ${want}\ngot:\n  ${got.join('\n  ')}`).to.equal(true);
      }
    });
  }
});
