/** `tsplay init`: a new project that validates as generated, with editor schemas that accept it. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { starterFiles } from '../../src/cli/init.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

function tsplay(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tsplay init', function () {
  this.timeout(120_000); // three CLI processes per test
  before(function () {
    if (!existsSync(cli)) this.skip(); // built by `npm test` (tsc) before mocha runs
  });

  it('writes a project that validates, whose YAML files match the schemas on their first line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-init-'));
    const r = tsplay(dir, 'init', 'proj');
    expect(r.err).to.equal('');
    expect(r.code).to.equal(0);
    const proj = join(dir, 'proj');
    const v = tsplay(proj, 'validate', 'playbooks/site.yml', '-i', 'inventory/hosts.yml');
    expect(v.err).to.equal('');
    expect(v.out).to.match(/^ok: playbooks\/site.yml: 1 play\(s\)/);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    let checked = 0;
    for (const f of Object.keys(starterFiles()).filter((f) => f.endsWith('.yml'))) {
      const text = readFileSync(join(proj, f), 'utf8');
      const m = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
      if (!m) continue;
      const schema = JSON.parse(readFileSync(join(proj, dirname(f), m[1]!), 'utf8'));
      const ok = ajv.compile(schema)(parse(text));
      expect(ok, `${f} against ${m[1]}`).to.equal(true);
      checked++;
    }
    expect(checked).to.equal(4);
    const settings = JSON.parse(readFileSync(join(proj, '.vscode/settings.json'), 'utf8'));
    for (const schema of Object.keys(settings['yaml.schemas'])) expect(existsSync(join(proj, schema)), schema).to.equal(true);
  });

  it('refuses to overwrite: nothing is written when one file exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-init-'));
    writeFileSync(join(dir, 'tsplay.config.yml'), 'mine: true\n');
    const r = tsplay(dir, 'init');
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/tsplay\.config\.yml already exists; nothing was written/);
    expect(r.err).to.not.match(/\n\s+at /);
    expect(readFileSync(join(dir, 'tsplay.config.yml'), 'utf8')).to.equal('mine: true\n');
    expect(existsSync(join(dir, 'playbooks'))).to.equal(false);
  });
});
