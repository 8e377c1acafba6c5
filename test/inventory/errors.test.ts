/**
 * Malformed inventories: one file per case in test/fixtures/inventory/errors/. Each file states
 * what it must produce in header comments: `# expect: LINE:COL message`. Every expected error
 * must be reported at exactly that position, and no other error may be reported.
 * Add a case by adding a file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Diagnostics, formatDiagnosticLine, UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';

const dir = 'test/fixtures/inventory/errors';

describe('inventory: malformed files report file:line:col', () => {
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    const expected = readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^# expect: (\d+):(\d+) (.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${file}:${m[1]}:${m[2]}: error: ${m[3]}`);

    it(name, () => {
      expect(expected, 'fixture has no # expect: line').to.not.be.empty;
      const diags = new Diagnostics();
      loadInventory([file], { diags });
      const errors = diags.errors.map(formatDiagnosticLine);
      for (const e of expected) expect(errors.some((got) => got.startsWith(e)), `missing: ${e}\ngot:\n${errors.join('\n')}`).to.equal(true);
      expect(errors).to.have.length(expected.length);
    });
  }

  it('throws one UserError listing every error when no Diagnostics is given', () => {
    const file = join(dir, 'ini-bad-token.ini');
    expect(() => loadInventory([file])).to.throw(UserError).that.satisfies((e: UserError) => {
      expect(e.diagnostics.filter((d) => d.severity === 'error')).to.have.length(2);
      expect(e.message).to.contain(`${file}:4:11: error:`).and.contain(`${file}:5:19: error:`);
      return true;
    });
  });

  it('reports a missing inventory path', () => {
    expect(() => loadInventory(['test/fixtures/inventory/nope.yml'])).to.throw(UserError, 'inventory not found: test/fixtures/inventory/nope.yml');
  });
});
