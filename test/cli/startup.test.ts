/**
 * Start-up: a command loads only the parts of tsplay it uses. The built CLI runs with a loader
 * hook that records every module file loaded (fixtures/record-loads.mjs).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const cli = process.env.TSPLAY_CLI ?? join(root, 'dist', 'cli', 'main.js');
const hook = join(import.meta.dirname, 'fixtures', 'record-loads.mjs');

/** Runs the built CLI; returns its exit code and the files it loaded, relative to dist/ or as `pkg:NAME`. */
function loadsOf(...args: string[]): { code: number | null; out: string; err: string; loaded: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-loads-'));
  try {
    const log = join(dir, 'loads.txt');
    const r = spawnSync(process.execPath, ['--import', hook, cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', RECORD_LOADS: log } });
    const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    const loaded = urls.map((u) => {
      const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      if (pkg) return `pkg:${pkg[1]}`;
      const src = /\/dist\/(.*)$/.exec(u);
      return src ? src[1]! : u;
    });
    return { code: r.status, out: r.stdout, err: r.stderr, loaded: [...new Set(loaded)] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const under = (loaded: string[], ...prefixes: string[]) => loaded.filter((f) => prefixes.some((p) => f.startsWith(p)));

describe('tsplay start-up: what each command loads', function () {
  before(function () {
    if (!existsSync(cli)) this.skip(); // built by `npm test` (tsc) before mocha runs
  });

  it('--help loads the command line only: no engine, modules, lab, docs, audit, renderer, zod or yaml', () => {
    const r = loadsOf('--help');
    expect(r.code).to.equal(0);
    expect(r.out).to.include('validate');
    expect(r.loaded.length, 'the hook recorded the loads').to.be.above(3);
    expect(under(r.loaded, 'engine/', 'playbook/', 'modules/', 'lab/', 'docs/', 'audit/', 'render/', 'connection/', 'pkg:listr2', 'pkg:node-ssh', 'pkg:zod', 'pkg:yaml', 'pkg:diff', 'pkg:ejs')).to.deep.equal([]);
  });

  it('validate loads the modules the playbook uses (and setup), not the lab, docs, audit, renderers or ssh', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-validate-'));
    try {
      writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  tasks:\n    - copy:\n        dest: /tmp/x\n        content: "x"\n    - ansible.builtin.command: "true"\n');
      const r = loadsOf('validate', join(dir, 'site.yml'));
      expect(r.err).to.equal('');
      expect(r.code).to.equal(0);
      expect(under(r.loaded, 'lab/', 'docs/', 'audit/', 'render/', 'pkg:listr2', 'pkg:node-ssh')).to.deep.equal([]);
      const modules = under(r.loaded, 'modules/').filter((f) => !f.startsWith('modules/lib/') && !/\/lib\//.test(f) && f.split('/').length === 3);
      expect(modules.sort()).to.deep.equal(['modules/commands/command.js', 'modules/control/setup.js', 'modules/files/copy.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validate of a misspelt module still suggests over every module name, loading none of the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-validate-'));
    try {
      writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  tasks:\n    - install-ufww: {}\n');
      const r = loadsOf('validate', join(dir, 'site.yml'));
      expect(r.code).to.equal(1);
      expect(r.err).to.include('unknown module "install-ufww"; did you mean "install-ufw"?');
      expect(under(r.loaded, 'modules/ufw/')).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('doc lists every module (all loaded)', () => {
    const r = loadsOf('doc');
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^install-ufw\s+\S/m);
    expect(r.out).to.match(/^apt\s+\S/m);
  });
});
