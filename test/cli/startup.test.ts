/**
 * Start-up: a command loads only the parts of tsplay it uses. The built CLI runs with a loader
 * hook that records every module file loaded (fixtures/record-loads.mjs): the tsc output
 * (dist/cli/main.js, file by file) and the bundle the package's bin points to (dist/bin/tsplay.js,
 * scripts/bundle-cli.mjs: chunks, and the packages it leaves in node_modules).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_MODULE_FILES } from '../../src/modules/catalog.js';

const root = join(import.meta.dirname, '..', '..');
const cli = process.env.TSPLAY_CLI ?? join(root, 'dist', 'cli', 'main.js');
const bundle = join(root, 'dist', 'bin', 'tsplay.js');
const hook = join(import.meta.dirname, 'fixtures', 'record-loads.mjs');

/** Runs the built CLI; returns its exit code and the files it loaded, relative to dist/ or as `pkg:NAME`. */
function loadsOf(...args: string[]): { code: number | null; out: string; err: string; loaded: string[] } {
  return loadsWith(cli, args);
}

function loadsWith(main: string, args: string[], cwd = root): { code: number | null; out: string; err: string; loaded: string[]; urls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-loads-'));
  try {
    const log = join(dir, 'loads.txt');
    const r = spawnSync(process.execPath, ['--import', hook, main, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', RECORD_LOADS: log } });
    const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    const loaded = urls.map((u) => {
      const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      if (pkg) return `pkg:${pkg[1]}`;
      const src = /\/dist\/(.*)$/.exec(u);
      return src ? src[1]! : u;
    });
    return { code: r.status, out: r.stdout, err: r.stderr, loaded: [...new Set(loaded)], urls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const under = (loaded: string[], ...prefixes: string[]) => loaded.filter((f) => prefixes.some((p) => f.startsWith(p)));
/** The files of tsplay itself (not packages, not Node's built-in modules). */
const own = (loaded: string[]) => loaded.filter((f) => !f.startsWith('pkg:') && !f.startsWith('node:'));
/** What no command needs before it knows it needs it: the lab, docs, audit, migrate and the packages only some runs use. */
const NEVER_AT_START = ['lab/', 'docs/', 'audit/', 'migrate/', 'pkg:listr2', 'pkg:diff', 'pkg:ejs', 'pkg:nunjucks', 'pkg:tsx'];

/** A playbook with a copy and a command task, and an inventory whose one host refuses connections (port 1 of loopback). */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-startup-'));
  writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - copy:\n        dest: /tmp/x\n        content: "x"\n    - ansible.builtin.command: "true"\n');
  writeFileSync(join(dir, 'inv.yml'), 'all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: root}\n');
  writeFileSync(join(dir, 'local.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy:\n        dest: ${join(dir, 'out.txt')}\n        content: "new line\\n"\n`);
  writeFileSync(join(dir, 'out.txt'), 'old line\n');
  return dir;
}

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
    expect(under(r.loaded, 'inventory/', 'vars/', 'yaml/', 'facts/', 'migrate/', 'pkg:acorn', 'pkg:nunjucks', 'pkg:ssh2')).to.deep.equal([]);
    // main, commands, options, output, errors, secret today: a new eager import shows here.
    expect(own(r.loaded).length, own(r.loaded).join(' ')).to.be.at.most(8);
  });

  it('validate loads the modules the playbook uses (and setup), not the lab, docs, audit, renderers or ssh', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-validate-'));
    try {
      writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  tasks:\n    - copy:\n        dest: /tmp/x\n        content: "x"\n    - ansible.builtin.command: "true"\n');
      const r = loadsOf('validate', join(dir, 'site.yml'));
      expect(r.err).to.equal('');
      expect(r.code).to.equal(0);
      expect(under(r.loaded, 'lab/', 'docs/', 'audit/', 'render/', 'pkg:listr2', 'pkg:node-ssh')).to.deep.equal([]);
      // No engine, no connection layer: validate contacts nothing and loads nothing that would.
      expect(under(r.loaded, ...NEVER_AT_START, 'engine/runner.js', 'connection/ssh.js', 'pkg:ssh2')).to.deep.equal([]);
      expect(own(r.loaded).length, own(r.loaded).join(' ')).to.be.at.most(75);
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

  it('a plain run (no terminal, no --diff, no --junit) loads the engine and ssh, not the rest', () => {
    const dir = project();
    try {
      const r = loadsWith(cli, ['run', 'site.yml', '-i', 'inv.yml'], dir);
      expect(r.code, r.err).to.equal(4); // the host is unreachable: it was tried
      expect(under(r.loaded, 'engine/runner.js', 'connection/ssh.js', 'pkg:node-ssh')).to.have.length(3);
      expect(under(r.loaded, ...NEVER_AT_START, 'render/junit.js', 'engine/list.js', 'cli/list.js', 'cli/init.js', 'cli/lab.js')).to.deep.equal([]);
      const modules = under(r.loaded, 'modules/').filter((f) => f.split('/').length === 3 && !f.startsWith('modules/lib/'));
      expect(modules.sort()).to.deep.equal(['modules/commands/command.js', 'modules/control/setup.js', 'modules/files/copy.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--diff loads diff when there is a diff to show, and shows it', () => {
    const dir = project();
    try {
      const r = loadsWith(cli, ['run', 'local.yml', '--diff'], dir);
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.match(/^-old line$/m);
      expect(r.out).to.match(/^\+new line$/m);
      expect(r.loaded).to.include('pkg:diff');
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

describe('tsplay start-up: the bundled CLI (dist/bin/tsplay.js, the package bin)', function () {
  before(function () {
    if (!existsSync(bundle)) this.skip(); // built by `npm run build` (tsc, then scripts/bundle-cli.mjs)
  });

  const chunks = (loaded: string[]) => loaded.filter((f) => f.startsWith('bin/'));
  /** A bundled module's own chunk is named after its file, which is named as the module (copy-HASH.js). */
  const moduleNames = new Set(BUNDLED_MODULE_FILES.map(([name]) => name));
  const moduleChunks = (loaded: string[]) => chunks(loaded).map((f) => /^bin\/chunks\/([a-z_-]+)-[A-Z0-9]{8}\.js$/.exec(f)?.[1]).filter((n): n is string => !!n && moduleNames.has(n));

  it('is the bin, and --help loads the entry and few chunks: no zod, yaml, engine or ssh', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin.tsplay).to.equal('dist/bin/tsplay.js');
    const r = loadsWith(bundle, ['--help']);
    expect(r.code).to.equal(0);
    expect(r.out).to.include('validate');
    expect(own(r.loaded)).to.include('bin/tsplay.js');
    expect(own(r.loaded).length, own(r.loaded).join(' ')).to.be.at.most(6);
    expect(under(r.loaded, 'pkg:', 'cli/', 'engine/')).to.deep.equal([]); // everything it needs is in the bundle
  });

  it('validate loads the chunks of the modules the playbook uses, and no ssh', () => {
    const dir = project();
    try {
      const r = loadsWith(bundle, ['validate', 'site.yml', '-i', 'inv.yml'], dir);
      expect(r.err).to.equal('');
      expect(r.code).to.equal(0);
      expect(moduleChunks(r.loaded).sort()).to.deep.equal(['command', 'copy', 'setup']);
      expect(under(r.loaded, ...NEVER_AT_START, 'pkg:node-ssh', 'pkg:ssh2')).to.deep.equal([]);
      expect(own(r.loaded).filter((f) => !f.startsWith('bin/'))).to.deep.equal([]); // nothing from the tsc output
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run takes ssh2 from node_modules (with its optional native parts), and --diff shows diffs', () => {
    const dir = project();
    try {
      const r = loadsWith(bundle, ['run', 'site.yml', '-i', 'inv.yml'], dir);
      expect(r.code, r.err).to.equal(4);
      expect(r.out).to.include('unreachable');
      expect(under(r.loaded, 'pkg:node-ssh', 'pkg:ssh2')).to.deep.equal(['pkg:node-ssh', 'pkg:ssh2']);
      const binding = join(root, 'node_modules', 'ssh2', 'lib', 'protocol', 'crypto', 'build', 'Release', 'sshcrypto.node');
      if (existsSync(binding)) expect(r.urls.filter((u) => u.endsWith('/sshcrypto.node')), 'ssh2 loads its native crypto binding').to.have.length(1);
      expect(under(r.loaded, ...NEVER_AT_START)).to.deep.equal([]);
      const d = loadsWith(bundle, ['run', 'local.yml', '--diff'], dir);
      expect(d.code, d.err).to.equal(0);
      expect(d.out).to.match(/^\+new line$/m);
      expect(d.loaded).to.include('pkg:diff');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
