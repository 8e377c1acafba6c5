/** Warnings: mistakes that are probably mistakes, reported without failing validation. */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnosticLine } from '../../src/core/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';

async function warningsOf(yaml: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-warn-'));
  writeFileSync(join(dir, 'site.yml'), yaml);
  const { warnings } = await loadPlaybook(join(dir, 'site.yml'));
  return warnings.map((d) => formatDiagnosticLine({ ...d, pos: d.pos && { ...d.pos, file: 'site.yml' } }) + (d.hint ? ` | ${d.hint}` : ''));
}

describe('validation warnings', () => {
  it('a bare string that names a variable: did you mean {{ name }}?', async () => {
    const w = await warningsOf('- hosts: localhost\n  vars:\n    greeting: hello\n  tasks:\n    - name: say\n      debug:\n        msg: greeting\n');
    expect(w).to.deep.equal(['site.yml:7:14: warning: task "say": "greeting" is a plain string, but a variable has that name | did you mean "{{ greeting }}"?']);
  });

  it('{{ }} around a when expression is dropped with a warning', async () => {
    const w = await warningsOf('- hosts: localhost\n  vars:\n    on: true\n  tasks:\n    - debug: {msg: x}\n      when: "{{ on }}"\n');
    expect(w).to.have.length(1);
    expect(w[0]).to.match(/^site\.yml:6:7: warning: when is already an expression: drop the \{\{ \}\}/);
  });

  it('keywords tsplay ignores are warnings, not errors', async () => {
    const w = await warningsOf('- hosts: localhost\n  collections: [community.general]\n  tasks: []\n');
    expect(w).to.deep.equal(['site.yml:2:3: warning: "collections" is ignored: tsplay has no collections; modules come from the registry']);
  });

  it('a clean playbook has no warnings', async () => {
    expect(await warningsOf('- hosts: localhost\n  tasks:\n    - debug: {msg: "{{ inventory_hostname }}"}\n')).to.deep.equal([]);
  });
});
