/** group_vars/ and host_vars/ reading: file name forms, order, bad files. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Diagnostics, formatDiagnosticLine } from '../../src/core/errors.js';
import { loadVarsDir } from '../../src/inventory/vars-dirs.js';

describe('inventory: group_vars/ and host_vars/', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-varsdirs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };

  it('reads name, name/ (recursively, in name order), name.yml, name.yaml, name.json, in that order', () => {
    write('group_vars/web', 'v: plain\nfrom_plain: 1\n');
    write('group_vars/web.yml', 'v: yml\n');
    write('group_vars/web.yaml', 'v: yaml\n');
    write('group_vars/web.json', '{"v": "json"}');
    write('host_vars/web1.example.com/b.yml', 'v: b\n');
    write('host_vars/web1.example.com/a/z', 'v: a-z\n');
    write('host_vars/web1.example.com/.hidden.yml', 'v: hidden\n');
    write('host_vars/web1.example.com/c.yml~', 'v: backup\n');
    write('host_vars/web1.example.com/notes.txt', 'v: txt\n');
    const diags = new Diagnostics();
    const vd = loadVarsDir(dir, 'inventory', diags);
    expect(diags.items).to.deep.equal([]);
    expect(vd.groupVars.get('web')!.map((f) => f.vars.v)).to.deep.equal(['plain', 'yml', 'yaml', 'json']);
    expect(vd.hostVars.get('web1.example.com')!.map((f) => f.vars.v)).to.deep.equal(['a-z', 'b']);
  });

  it('reports a file that is not a mapping at its position, and YAML errors at theirs', () => {
    write('group_vars/web.yml', '- a\n- b\n');
    write('group_vars/db.yml', 'a: 1\na: 2\n');
    write('host_vars/h1.yml', '');
    const diags = new Diagnostics();
    const vd = loadVarsDir(dir, 'inventory', diags);
    const lines = diags.errors.map(formatDiagnosticLine);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/group_vars\/db\.yml:2:1: error: YAML syntax: duplicate key/);
    expect(lines[1]).to.equal(`${join(dir, 'group_vars/web.yml')}:1:1: error: a vars file must be a mapping of variable names to values, found a list`);
    expect(vd.hostVars.get('h1')![0]!.vars).to.deep.equal({});
  });
});
