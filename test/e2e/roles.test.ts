/**
 * Every role shipped in roles/ passes `tsplay test ROLE` (converge, converge again with
 * changed=0, check mode with nothing pending, verify) on a lab of its own. roles/base is
 * covered step by step in tsplay-test.test.ts; this file holds the others to the same bar.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tryRun } from '../../src/lab/exec.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');

describe('every role in roles/ passes tsplay test', function () {
  this.timeout(20 * 60_000);
  before(async function () {
    if (process.getuid?.() !== 0 || !existsSync(CLI)) this.skip();
    const docker = await tryRun('docker', ['info']);
    if (docker.code !== 0) this.skip();
  });

  // A role that needs images in its lab host's engine lists them in its tests/lab.yml (`images:`).
  const roles = readdirSync(join(REPO, 'roles')).filter((r) => r !== 'base' && existsSync(join(REPO, 'roles', r, 'tasks', 'main.yml')));
  for (const role of roles) {
    it(role, () => {
      const name = `rt-${role.replace(/[^a-z0-9]/gi, '')}-${process.pid}`;
      const r = spawnSync(process.execPath, [CLI, 'test', role, '--name', name], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', CI: '1' },
      });
      const tail = `${r.stdout}\n${r.stderr}`.split('\n').slice(-40).join('\n');
      expect(r.status, `tsplay test ${role} failed:\n${tail}`).to.equal(0);
      expect(r.stdout).to.include('test passed: converge, idempotence, check mode, verify');
      expect(existsSync(join(REPO, 'roles', role, 'tasks', 'verify.yml')), `${role} has verify tasks`).to.equal(true);
    });
  }
});
