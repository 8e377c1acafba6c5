/**
 * Plan warnings reach the user in every renderer: plain prints `[WARNING] host: msg (task
 * "name", file:line:col)`, --json has a `warning` event with host, id and pos, and on a
 * terminal (listr) the warning shows under its task's row and again after the recap. A secret
 * in a warning is masked. Drives the real CLI with a project module that warns (local, so the
 * run needs no host).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

/** A project module (modules/warn_about.mjs): noop, warning about each of `findings`. */
const MODULE = `import { z } from 'zod';
export default {
  name: 'warn_about',
  summary: 'Test module: report findings as plan warnings',
  examples: [{ title: 'x', task: { warn_about: { findings: ['x'] } } }],
  params: z.object({ findings: z.array(z.string()).describe('what to warn about') }),
  local: true,
  plan: (p) => ({ changed: false, reason: 'nothing to do', warnings: p.findings }),
};
`;

describe('renderers: plan warnings', function () {
  this.timeout(30000);
  let dir: string;
  before(function () {
    if (!existsSync(cli)) this.skip();
    // Inside the repository (.tsplay is ignored) so that the module's `import 'zod'` resolves.
    mkdirSync(join(root, '.tsplay'), { recursive: true });
    dir = mkdtempSync(join(root, '.tsplay', 'render-warnings-'));
    mkdirSync(join(dir, 'modules'));
    writeFileSync(join(dir, 'modules', 'warn_about.mjs'), MODULE);
    writeFileSync(
      join(dir, 'play.yml'),
      `- hosts: localhost
  gather_facts: false
  vars:
    token: !secret hunter2-token
  tasks:
    - name: audit
      warn_about: { findings: ["port 8080 is published on all addresses", "token {{ token }} is in the environment"] }
`,
    );
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'run', 'play.yml', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('plain: one line per warning with host, task and position; secrets masked', () => {
    const r = run();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('[WARNING] localhost: port 8080 is published on all addresses  (task "audit", play.yml:6:7)\n');
    expect(r.stdout).to.include('[WARNING] localhost: token ******** is in the environment  (task "audit", play.yml:6:7)\n');
    expect(r.stdout).to.not.include('hunter2');
  });

  it('--json: warning events with host, task id and pos', () => {
    const r = run('--json');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const start = events.find((e) => e.type === 'task:start' && e.name === 'audit');
    const warnings = events.filter((e) => e.type === 'warning');
    expect(warnings.map((w) => w.msg)).to.deep.equal(['port 8080 is published on all addresses', 'token ******** is in the environment']);
    for (const w of warnings) {
      expect(w).to.deep.include({ host: 'localhost', id: start.id });
      expect(w.pos).to.deep.equal({ file: join(dir, 'play.yml'), line: 6, col: 7 });
    }
    expect(r.stdout).to.not.include('hunter2');
  });

  it('on a terminal: under the task row and again after the recap', function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip();
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const r = spawnSync('script', ['-qec', `stty cols 160 rows 40; node ${cli} run play.yml`, '/dev/null'], { cwd: dir, encoding: 'utf8', env });
    const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    const line = '[WARNING] localhost: port 8080 is published on all addresses  (task "audit", play.yml:6:7)';
    const recap = out.indexOf('PLAY RECAP');
    expect(recap, out).to.be.greaterThan(-1);
    expect(out.slice(0, recap), 'under the row').to.include(line);
    expect(out.slice(recap), 'after the recap').to.match(/WARNINGS \(2\)\n\[WARNING\] localhost: port 8080[^\n]*\n\[WARNING\] localhost: token \*{8} is in the environment/);
    expect(out).to.not.include('hunter2');
  });
});
