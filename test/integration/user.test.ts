/**
 * `user` and `group` on a real system: this machine, reached over the loopback sshd as the
 * NOPASSWD user with become. Creates a throwaway user and group and removes them after. Needs
 * root; skipped otherwise.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { canRunSshd, startSshd, type Sshd } from '../helpers/sshd.js';
import { inventoryYaml, makeProject, runLib, sshVars } from './harness.js';

const NAME = 'tsplay-it-grp1';

function removeAccount(): void {
  spawnSync('userdel', ['-r', NAME], { stdio: 'ignore' });
  spawnSync('groupdel', [NAME], { stdio: 'ignore' });
}

describe('integration: user and group on this machine', function () {
  this.timeout(30_000);
  let server: Sshd;
  const cleanup: string[] = [];

  before(async function () {
    if (!canRunSshd()) this.skip();
    removeAccount();
    server = await startSshd();
  });
  after(async () => {
    removeAccount();
    await server?.stop();
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });

  it('a user whose group was created first joins that group (no "group exists" error); the next run is changed=0', async () => {
    const p = makeProject({
      inventory: inventoryYaml({ web1: sshVars(server) }),
      playbook: `
- hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: the group first
      group: { name: ${NAME} }
    - name: then the user
      user: { name: ${NAME}, create_home: false, shell: /bin/sh }
`,
    });
    cleanup.push(p.dir);
    const first = await runLib(p);
    const created = first.results('then the user')[0]!;
    expect(created.status, created.msg).to.equal('changed');
    const gid = execFileSync('getent', ['group', NAME], { encoding: 'utf8' }).split(':')[2];
    expect(execFileSync('id', ['-gn', NAME], { encoding: 'utf8' }).trim()).to.equal(NAME);
    expect(execFileSync('id', ['-g', NAME], { encoding: 'utf8' }).trim()).to.equal(gid);

    const second = await runLib(p);
    expect(second.summary.hosts.web1).to.include({ changed: 0, ok: 2, failed: 0 });
  });
});
