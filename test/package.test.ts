/**
 * The npm package as people install it: `npm pack` ships the built library and CLI, the CommonJS
 * entry, the bundled roles and templates the README advertises, and nothing else; a default
 * `npm init -y` (CommonJS) project can require('tsplay') and an ES module project can import it.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = (args: string[], cwd: string) => spawnSync('npm', [...args, '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd, encoding: 'utf8' });

describe('the npm package', function () {
  this.timeout(120_000);
  before(function () {
    if (!existsSync(join(root, 'dist', 'index.js')) || spawnSync('npm', ['--version']).status !== 0) this.skip();
  });

  it('package.json: prepack (not prepare) builds, every `files` entry exists', () => {
    expect(pkg.scripts.prepare).to.equal(undefined);
    expect(pkg.scripts.prepack).to.include('tsc -p tsconfig.json');
    expect(pkg.scripts.prepack, 'the bin is the bundle').to.include('node scripts/bundle-cli.mjs');
    expect(pkg.scripts.build).to.equal('tsc -p tsconfig.json && node scripts/bundle-cli.mjs');
    for (const f of pkg.files) expect(existsSync(join(root, f)), f).to.equal(true);
    expect(pkg.exports['.'].require).to.equal('./cjs/index.cjs');
    expect(existsSync(join(root, pkg.exports['.'].require))).to.equal(true);
  });

  it('npm pack --dry-run --json: the library, the CLI, the CJS entry, roles and templates; no sources or tests', () => {
    const r = npm(['pack', '--dry-run', '--json'], root);
    expect(r.status, r.stderr).to.equal(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).to.include.members(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', pkg.bin.tsplay, 'cjs/index.cjs', 'roles/firewall/tasks/main.yml', 'templates/segmented-stack/docker-compose.yml.ejs']);
    // every role in the repository ships
    for (const role of readdirSync(join(root, 'roles'))) expect(files.some((f) => f.startsWith(`roles/${role}/`)), role).to.equal(true);
    expect(files.filter((f) => /^(src|test|bench|node_modules)\//.test(f))).to.deep.equal([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).to.deep.equal([]);
  });

  it('a default `npm init -y` project can require() it; an ES module project can import it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-pack-'));
    try {
      const packed = npm(['pack', '--json', '--pack-destination', dir], root);
      expect(packed.status, packed.stderr).to.equal(0);
      const tgz = join(dir, JSON.parse(packed.stdout)[0].filename);
      const proj = join(dir, 'proj');
      mkdirSync(join(proj, 'node_modules', 'tsplay'), { recursive: true });
      expect(spawnSync('tar', ['-xzf', tgz, '-C', join(proj, 'node_modules', 'tsplay'), '--strip-components=1']).status).to.equal(0);
      // Its dependencies, as `npm install` would put them (this machine has no registry).
      for (const dep of Object.keys(pkg.dependencies)) symlinkSync(join(root, 'node_modules', dep), join(proj, 'node_modules', dep));
      expect(npm(['init', '-y'], proj).status).to.equal(0);
      expect(JSON.parse(readFileSync(join(proj, 'package.json'), 'utf8')).type ?? 'commonjs').to.equal('commonjs');
      writeFileSync(join(proj, 'index.js'), "const tsplay = require('tsplay');\nconsole.log(typeof tsplay.runPlaybookFile, typeof tsplay.EventBus);\n");
      const cjs = spawnSync(process.execPath, ['index.js'], { cwd: proj, encoding: 'utf8' });
      expect(cjs.stderr).to.equal('');
      expect(cjs.stdout).to.equal('function function\n');
      writeFileSync(join(proj, 'index.mjs'), "import { runPlaybookFile } from 'tsplay';\nconst dyn = await import('tsplay');\nconsole.log(typeof runPlaybookFile, dyn.runPlaybookFile === runPlaybookFile);\n");
      const esm = spawnSync(process.execPath, ['index.mjs'], { cwd: proj, encoding: 'utf8' });
      expect(esm.stdout, esm.stderr).to.equal('function true\n');
      const bin = spawnSync(process.execPath, [join(proj, 'node_modules', 'tsplay', pkg.bin.tsplay), '--version'], { encoding: 'utf8' });
      expect(bin.stdout.trim()).to.equal(pkg.version);
      // The bundled bin runs a playbook from the installed package (its chunks, and ssh2 and the
      // packages it loads with createRequire from the project's node_modules).
      writeFileSync(join(proj, 'site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: {dest: ${join(proj, 'out.txt')}, content: "x\\n"}\n    - template: {src: t.j2, dest: ${join(proj, 'j2.txt')}}\n    - template: {src: t.ejs, dest: ${join(proj, 'ejs.txt')}}\n`);
      writeFileSync(join(proj, 't.j2'), '{{ 1 + 1 }}\n');
      writeFileSync(join(proj, 't.ejs'), '<%= 2 + 2 %>\n');
      const run = spawnSync(process.execPath, [join(proj, 'node_modules', 'tsplay', pkg.bin.tsplay), 'run', 'site.yml', '--diff'], { cwd: proj, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(run.status, run.stdout + run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^\+x$/m);
      expect(readFileSync(join(proj, 'j2.txt'), 'utf8')).to.equal('2\n');
      expect(readFileSync(join(proj, 'ejs.txt'), 'utf8')).to.equal('4\n');
      // A project module importing tsplay gets the package's copy of Secret and UserError, not the
      // bundled CLI's: the engine must still know them (unwrap and mask the secret, report the
      // UserError as the task's failure, not as a crash with a stack trace).
      mkdirSync(join(proj, 'modules'));
      writeFileSync(
        join(proj, 'modules', 'mark.mjs'),
        `import { defineModule, noop, secret, UserError, z } from 'tsplay';
export default defineModule({
  name: 'mark', summary: 'Marks.', description: 'Returns a secret token, or refuses.',
  params: z.object({ refuse: z.boolean().default(false) }),
  output: z.object({ token: z.any() }),
  probe: () => ({}),
  plan: (p) => { if (p.refuse) throw new UserError('mark refuses to mark'); return noop('marked', { output: { token: secret('s3cr3t-t0ken') } }); },
});
`,
      );
      writeFileSync(join(proj, 'mark.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - {mark: {}, register: m}\n    - copy: {dest: ${join(proj, 'token.txt')}, content: "{{ m.token }}"}\n    - debug: {msg: "token is {{ m.token }}"}\n`);
      const marked = spawnSync(process.execPath, [join(proj, 'node_modules', 'tsplay', pkg.bin.tsplay), 'run', 'mark.yml', '--diff', '-v'], { cwd: proj, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(marked.status, marked.stdout + marked.stderr).to.equal(0);
      expect(readFileSync(join(proj, 'token.txt'), 'utf8')).to.equal('s3cr3t-t0ken');
      expect(marked.stdout + marked.stderr).to.not.include('s3cr3t-t0ken');
      writeFileSync(join(proj, 'refuse.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - mark: {refuse: true}\n`);
      const refused = spawnSync(process.execPath, [join(proj, 'node_modules', 'tsplay', pkg.bin.tsplay), 'run', 'refuse.yml'], { cwd: proj, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(refused.status).to.equal(2);
      expect(refused.stdout + refused.stderr).to.include('mark refuses to mark');
      expect(refused.stdout + refused.stderr).to.not.match(/^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CommonJS entry explains itself where Node cannot require() the ES module', () => {
    // A library whose ES module graph has a top-level await cannot be require()d: the entry must say what to do.
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-cjs-'));
    try {
      mkdirSync(join(dir, 'cjs'));
      mkdirSync(join(dir, 'dist'));
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      writeFileSync(join(dir, 'cjs', 'index.cjs'), readFileSync(join(root, 'cjs', 'index.cjs')));
      writeFileSync(join(dir, 'dist', 'index.js'), 'await Promise.resolve();\nexport const x = 1;\n');
      const r = spawnSync(process.execPath, ['-e', "require('./cjs/index.cjs')"], { cwd: dir, encoding: 'utf8' });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(`cannot require() it: use Node >= 20.19, or load it with \`const tsplay = await import('tsplay')\``);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
