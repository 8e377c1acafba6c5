/**
 * Driving a lab from the command line: `lab ssh HOST [COMMAND...]` (exit code and output passed
 * through, a terminal only when interactive), which lab a command means without --name, `lab run`
 * taking every `run` option, and `lab prune` (images of old recipes go, used ones stay).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tryRun } from '../../src/lab/exec.js';
import { resolveLabName } from '../../src/lab/lab.js';
import { labPrune } from '../../src/lab/prune.js';
import { cli } from '../helpers/cli.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type SharedLab } from '../helpers/lab.js';

const dockerUp = () => spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;

describe('lab from the command line', function () {
  describe('which lab a command means', () => {
    it('the one lab that is up; with several, an error that lists them; with none, how to start one', async () => {
      expect(await resolveLabName(undefined, ['only'])).to.equal('only');
      expect(await resolveLabName('given', ['a', 'b'])).to.equal('given');
      let err = '';
      await resolveLabName(undefined, ['demo', 'e2e-1']).catch((e: Error) => (err = e.message));
      expect(err).to.include('2 labs are up: demo, e2e-1; say which with --name');
      await resolveLabName(undefined, []).catch((e: Error) => (err = e.message));
      expect(err).to.include('no lab is up (start one with `tsplay lab up`)');
    });
  });

  describe('lab run', () => {
    it('takes every option of run', function () {
      if (!existsSync(cli)) this.skip();
      const flags = (args: string[]) => [...spawnSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8' }).stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
      const run = flags(['run']);
      expect(run).to.include.members(['--json', '--limit', '--tags', '--extra-vars', '--verbose', '--fail-on-change', '--junit', '--list-tasks']);
      expect(flags(['lab', 'run'])).to.include.members(run);
    });
  });

  describe('lab prune', function () {
    this.timeout(60_000);
    // A repository of this test's own: the real tsplay-lab images (other runs use them) are not touched.
    const repo = `tsplay-prune-test-${process.pid}`;
    const container = `tsplay-prune-test-${process.pid}`;
    before(function () {
      if (!dockerUp()) this.skip();
    });
    after(async () => {
      await tryRun('docker', ['rm', '-f', container]);
      for (const t of ['old', 'current', 'inuse']) await tryRun('docker', ['rmi', `${repo}:${t}`]);
    });

    it('removes the images of old recipes, keeps the current ones and those a container uses', async () => {
      // Three distinct tiny images (each an import of a one-file tar with other content).
      for (const t of ['old', 'current', 'inuse']) {
        const r = spawnSync('sh', ['-c', `d=$(mktemp -d) && echo ${t} > $d/${t} && tar -C $d -c . | docker import - ${repo}:${t} && rm -rf $d`], { encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
      }
      expect((await tryRun('docker', ['create', '--name', container, `${repo}:inuse`, '/x'])).code).to.equal(0);
      const dry = await labPrune({ repo, current: [`${repo}:current`], dryRun: true });
      expect(dry.removed).to.deep.equal([`${repo}:old`]);
      expect((await tryRun('docker', ['image', 'inspect', `${repo}:old`])).code, 'dry run removed nothing').to.equal(0);
      const r = await labPrune({ repo, current: [`${repo}:current`] });
      expect(r.removed).to.deep.equal([`${repo}:old`]);
      expect(r.kept).to.deep.equal([
        { tag: `${repo}:current`, why: 'current recipe' },
        { tag: `${repo}:inuse`, why: `used by container ${container}` },
      ]);
      expect((await tryRun('docker', ['image', 'inspect', `${repo}:old`])).code).not.to.equal(0);
      expect((await tryRun('docker', ['image', 'inspect', `${repo}:inuse`])).code).to.equal(0);
    });

    it('the command keeps the current recipes (dry run on the real images)', function () {
      if (!existsSync(cli)) this.skip();
      const r = spawnSync(process.execPath, [cli, 'lab', 'prune', '--dry-run'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, r.stderr).to.equal(0);
      for (const line of r.stdout.trim().split('\n')) expect(line).to.match(/^(would remove tsplay-lab:\S+|kept tsplay-lab:\S+ \(.+\)|nothing to remove)$/);
    });
  });

  describe('lab ssh (shared lab)', function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    let lab: SharedLab;
    let cwd: string;
    before(async function () {
      if (!dockerUp() || !existsSync(cli)) this.skip();
      lab = await sharedLab();
      // The CLI finds a lab's key in .tsplay/lab/NAME under its working folder.
      cwd = mkdtempSync(join(tmpdir(), 'tsplay-labssh-'));
      mkdirSync(join(cwd, '.tsplay', 'lab'), { recursive: true });
      symlinkSync(dirname(lab.keyPath), join(cwd, '.tsplay', 'lab', lab.name));
    });
    after(() => cwd && rmSync(cwd, { recursive: true, force: true }));
    const ssh = (...args: string[]) => spawnSync(process.execPath, [cli, 'lab', 'ssh', '--name', lab.name, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

    it('runs a command: its output and exit code pass through, its options are its own', () => {
      const r = ssh('e2e1', 'sh', '-c', 'echo out; echo err >&2; exit 7');
      expect(r.stdout).to.equal('out\n');
      expect(r.stderr).to.equal('err\n');
      expect(r.status).to.equal(7);
      const one = ssh('e2e1', 'echo "$(hostname)" | tr a-z A-Z');
      expect(one.stdout).to.equal('E2E1\n');
      expect(one.status).to.equal(0);
      expect(ssh('e2e1', 'uname', '-s').stdout).to.equal('Linux\n');
    });

    it('a terminal only when interactive', function () {
      expect(ssh('e2e1', 'tty').stdout).to.equal('not a tty\n');
      if (spawnSync('script', ['--version']).status !== 0) this.skip();
      const r = spawnSync('script', ['-qec', `node ${cli} lab ssh --name ${lab.name} e2e1 tty`, '/dev/null'], { cwd, encoding: 'utf8' });
      expect(r.stdout).to.match(/\/dev\/pts\/\d+/);
    });

    it('an unknown host names the lab\'s hosts', () => {
      const r = ssh('e2e9', 'true');
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/lab "e2e-\d+" has no host "e2e9"; did you mean "e2e\d"\?/);
    });
  });
});
