/** The CLI as a user runs it: exit codes, messages without stack traces, inventory and doc output. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

function tsplay(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tsplay CLI', function () {
  before(function () {
    if (!existsSync(cli)) this.skip(); // built by `npm test` (tsc) before mocha runs
  });

  it('validate: a clean playbook exits 0', () => {
    const r = tsplay('validate', 'playbooks/site.yml', '-i', 'inventory/prod.yml');
    expect(r.err).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^ok: playbooks\/site.yml: \d+ play\(s\), \d+ top-level task\(s\)/);
  });

  it('validate: errors exit 1 with file:line:col, an excerpt, and no stack trace', () => {
    const r = tsplay('validate', 'test/fixtures/bad/several-errors-at-once/playbook.yml');
    expect(r.code).to.equal(1);
    expect(r.err).to.include('test/fixtures/bad/several-errors-at-once/playbook.yml:4:7: error: unknown module "copyy"; did you mean "copy"?');
    expect(r.err).to.include('  4 |       copyy:');
    expect(r.err).to.include('2 errors');
    expect(r.err).to.not.match(/\n\s+at .*\.(js|ts):\d+/);
  });

  it('run: a validation error exits 1 before contacting any host', () => {
    const r = tsplay('run', 'test/fixtures/bad/unknown-module/playbook.yml', '-i', 'inventory/prod.yml');
    expect(r.code).to.equal(1);
    expect(r.err).to.include('unknown module "copyy"');
    expect(r.out).to.not.include('PLAY');
  });

  it('run: an unknown --limit name is a usage error', () => {
    const r = tsplay('run', 'playbooks/site.yml', '-i', 'inventory/prod.yml', '--limit', 'webz');
    expect(r.code).to.equal(1);
    expect(r.err).to.include("webz");
  });

  it('inventory --graph and --host', () => {
    const g = tsplay('inventory', '-i', 'inventory/prod.ini', '--graph');
    expect(g.code).to.equal(0);
    expect(g.out).to.include('@all:');
    expect(g.out).to.include('|--@web:');
    const h = tsplay('inventory', '-i', 'inventory/prod.yml', '--host', 'web1');
    expect(h.code).to.equal(0);
    expect(h.out).to.match(/web_port\s*=\s*8080/);
    expect(h.out).to.include('inventory/prod.yml:');
  });

  it('doc lists modules and documents one', () => {
    const list = tsplay('doc');
    expect(list.out).to.match(/^copy\s+/m);
    const one = tsplay('doc', 'copy');
    expect(one.out).to.include('PARAMETERS');
    expect(one.out).to.include('dest');
    expect(one.out).to.include('EXAMPLES');
    const bad = tsplay('doc', 'cpy');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.include('did you mean "copy"');
  });

  it('schema -o writes the editor schemas', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-schema-'));
    const r = tsplay('schema', '-o', dir);
    expect(r.code).to.equal(0);
    const s = JSON.parse(readFileSync(join(dir, 'playbook.schema.json'), 'utf8'));
    expect(s.$defs.task.properties).to.have.property('copy');
    expect(existsSync(join(dir, 'inventory.schema.json'))).to.equal(true);
  });
});
