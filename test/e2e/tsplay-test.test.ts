/**
 * End to end: `tsplay test ROLE` (the built CLI, dist/cli/main.js) on its own lab: the example
 * role roles/base passes every step; a role whose task is not idempotent stops at step 2 with
 * exit code 12. Each run gets a lab name of its own (`--name`), so it never meets the shared e2e
 * lab or another test process, and the test checks the CLI took its lab down.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tryRun } from '../../src/lab/exec.js';
import { labDown } from '../../src/lab/lab.js';
import { LAB_UP_TIMEOUT_MS } from '../helpers/lab.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `node dist/cli/main.js ARGS` in `cwd`, plain output (no TTY, no colour). */
function tsplay(args: string[], cwd: string): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
  });
}

/** The `==> step` headers of a `tsplay test` run, in order. */
const steps = (out: string) => [...out.matchAll(/^==> (.*)$/gm)].map((m) => m[1]!);

/** Containers still labelled with the lab's name. */
async function labContainers(name: string): Promise<string> {
  return (await tryRun('docker', ['ps', '-aq', '--filter', `label=tsplay.lab=${name}`])).stdout.trim();
}

describe('tsplay test (end to end, the built CLI on its own lab)', function () {
  this.timeout(LAB_UP_TIMEOUT_MS);
  let t0 = 0;
  const projects: Array<{ dir: string; lab: string }> = [];

  /** A project folder (the CLI's cwd) with `roles/<name>` and its own lab name. */
  function project(lab: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-e2e-test-cmd-'));
    projects.push({ dir, lab });
    return dir;
  }

  before(function () {
    t0 = Date.now();
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p .)`);
  });

  after(async function () {
    this.timeout(5 * 60_000);
    // The CLI takes its lab down itself; this only cleans up after a crash.
    for (const p of projects) {
      await labDown(p.lab, { stateDir: join(p.dir, '.tsplay', 'lab', p.lab) });
      rmSync(p.dir, { recursive: true, force: true });
    }
    console.log(`      [tsplay-test: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  it('tsplay test base: converge, converge again, check mode, verify, lab down; exit 0', async () => {
    const lab = `tbase-${process.pid}`;
    const dir = project(lab);
    cpSync(join(REPO, 'roles', 'base'), join(dir, 'roles', 'base'), { recursive: true });
    if (!existsSync(join(REPO, 'roles', 'base', 'tests', 'test.yml'))) {
      // roles/base requires base_admin_user and `tsplay test` has no -e: give it the way a role
      // author would, in the role's own test playbook.
      mkdirSync(join(dir, 'roles', 'base', 'tests'), { recursive: true });
      writeFileSync(
        join(dir, 'roles', 'base', 'tests', 'test.yml'),
        '- name: test role base\n  hosts: all\n  become: true\n  roles:\n    - role: base\n      base_admin_user: deploy\n',
      );
    }

    const r = await tsplay(['test', 'base', '--name', lab], dir);
    console.log(`      [tsplay test base: ${r.seconds.toFixed(1)} s]`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(steps(r.stdout)).to.deep.equal([
      `lab up (${lab})`,
      'converge',
      'converge again (idempotence: changed must be 0)',
      'check mode (no pending change allowed)',
      'verify',
      'lab down',
    ]);
    const converge = r.stdout.slice(r.stdout.indexOf('==> converge\n'), r.stdout.indexOf('==> converge again'));
    expect(converge).to.match(/TASK \[Admin user exists\]\nchanged: \[lab1\] create user [a-z_]+/);
    // Recaps: the first run changed something, the two after it nothing; verify ran its assertion.
    const recaps = [...r.stdout.matchAll(/^lab1 *: ok=(\d+) +changed=(\d+) +unreachable=0 +failed=0/gm)].map((m) => Number(m[2]));
    expect(recaps).to.have.length(4);
    expect(recaps[0]).to.be.above(0);
    expect(recaps.slice(1)).to.deep.equal([0, 0, 0]);
    expect(r.stdout).to.include('TASK [Admin user is in sudo]');
    expect(r.stdout).to.include('test passed: converge, idempotence, check mode, verify');
    expect(await labContainers(lab)).to.equal('');
    expect(existsSync(join(dir, '.tsplay', 'lab', lab, 'inventory.yml'))).to.equal(false);
  });

  it('a role that is not idempotent fails at "converge again" with exit code 12', async () => {
    const lab = `tclock-${process.pid}`;
    const dir = project(lab);
    mkdirSync(join(dir, 'roles', 'clock', 'tasks'), { recursive: true });
    writeFileSync(join(dir, 'roles', 'clock', 'tasks', 'main.yml'), '- name: read the clock\n  command: date\n');

    const r = await tsplay(['test', 'clock', '--name', lab], dir);
    console.log(`      [tsplay test clock: ${r.seconds.toFixed(1)} s]`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(12);
    expect(steps(r.stdout)).to.deep.equal([`lab up (${lab})`, 'converge', 'converge again (idempotence: changed must be 0)', 'lab down']);
    expect(r.stdout).to.include('idempotence: the second run changed something');
    expect(r.stdout).to.match(/TASK \[read the clock\]\nchanged: \[lab1\]/);
    expect(await labContainers(lab)).to.equal('');
  });
});
