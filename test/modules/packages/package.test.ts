/**
 * `package` on a host that is not Debian, for real: the module's probe runs under dash with a
 * PATH that has a `dnf` and no dpkg-query/apt-get (as on Fedora). The apt facts read "no dpkg"
 * instead of failing, and the plan fails naming dnf, before anything is changed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import packageModule from '../../../src/modules/packages/package.js';
import { planOn, type Run } from '../../helpers/drive.js';

describe('package on a host without apt (dash, real probe)', () => {
  let bin: string;
  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'tsplay-no-apt-'));
    for (const tool of ['cat', 'sed', 'grep', 'ls', 'stat', 'date']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    writeFileSync(join(bin, 'dnf'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'dnf'), 0o755);
  });
  after(() => rmSync(bin, { recursive: true, force: true }));

  const onFedoraLike: Run = (script) => {
    const r = spawnSync('/bin/dash', ['-c', script], { encoding: 'utf8', env: { PATH: bin } });
    return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
  };

  it('fails naming dnf, for present, latest and absent', () => {
    for (const state of ['present', 'latest', 'absent']) {
      const plan = planOn(packageModule, { name: ['curl', 'rsync'], state }, onFedoraLike);
      expect(plan, state).to.deep.equal({
        failed: true,
        msg: "package: this host's package manager is dnf; tsplay's package module drives apt only — use command/shell with dnf for now",
      });
    }
  });

  it('on this Debian machine the same probe reads dpkg and plans like apt', () => {
    const here: Run = (script) => {
      const r = spawnSync('/bin/dash', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
    };
    const plan = planOn(packageModule, { name: 'dash' }, here);
    expect(plan).to.deep.include({ changed: false });
    expect((plan as { reason: string }).reason).to.match(/^dash is installed \(/);
  });
});
