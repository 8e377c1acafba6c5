/**
 * A task that fails on a host points at the playbook like a validation error does: plain prints
 * `play.yml:LINE:COL` on the failure line, the terminal in the failure detail, --json a `pos`
 * field. Also when the failure is an expression that did not finish in time.
 * Drives the real CLI against the local connection.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

/** The failing task's `name:` is at line 6, column 7. */
function project(failing: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-pos-'));
  writeFileSync(
    join(dir, 'play.yml'),
    `- hosts: localhost
  gather_facts: false
  tasks:
    - name: fine
      command: "true"
    - name: breaks
${failing}
`,
  );
  return dir;
}

function run(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [cli, 'run', 'play.yml', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', TSPLAY_EXPR_TIMEOUT: '0.3' } });
}

describe('runtime failures point at the playbook', function () {
  this.timeout(30000);
  before(function () {
    if (!existsSync(cli)) this.skip();
  });

  it('plain: file:line:col of the task on the failure line', () => {
    const r = run(project('      command: "false"'));
    expect(r.status).to.equal(2);
    expect(r.stdout).to.include('TASK [breaks]\nfailed: [localhost] play.yml:6:7\n');
    expect(r.stdout).to.include('TASK [fine]\nchanged: [localhost]');
    expect(r.stdout).to.not.match(/changed: \[localhost\] .*play\.yml/);
  });

  it('--json: a pos field {file, line, col} on the task events', () => {
    const dir = project('      command: "false"');
    const r = run(dir, '--json');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const failed = events.find((e) => e.type === 'task:host' && e.result.status === 'failed');
    expect(failed.pos).to.deep.equal({ file: join(dir, 'play.yml'), line: 6, col: 7 });
    const start = events.find((e) => e.type === 'task:start' && e.name === 'breaks');
    expect(start.pos).to.deep.equal({ file: join(dir, 'play.yml'), line: 6, col: 7 });
  });

  it('on a terminal: file:line:col in the failure detail', function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip();
    const dir = project('      command: "false"');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const r = spawnSync('script', ['-qec', `stty cols 120 rows 40; node ${cli} run play.yml`, '/dev/null'], { cwd: dir, encoding: 'utf8', env });
    const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(out).to.match(/✖ localhost: command failed with exit code 1[^\n]*\r?\n\s+task: play\.yml:6:7/);
  });

  it('an expression that does not finish in time fails the task at its file:line:col', () => {
    const r = run(project('      debug:\n        msg: "{{ (() => { for (;;) {} })() }}"'));
    expect(r.status).to.equal(2);
    expect(r.stdout).to.include('failed: [localhost] play.yml:6:7\n');
    expect(r.stdout).to.match(/did not finish in 0\.3 s/);
  });
});
