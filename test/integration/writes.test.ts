/**
 * Writes that cannot lose someone else's change, against a real sshd on loopback: two tsplay
 * runs editing one file at the same time, and a line appended by someone else between the
 * moment a run read the file and the moment it writes it. Needs root; skipped otherwise.
 */
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inventoryYaml, runCli, runLib, sshdSuite, sshVars } from './harness.js';

describe('integration: writes keep concurrent and outside edits', function () {
  this.timeout(60_000);
  const suite = sshdSuite();
  const { target, project } = suite;
  const ownedFile = (path: string, text: string) => {
    writeFileSync(path, text);
    execFileSync('chown', [`${suite.server.user}:`, path]);
  };

  it('two runs adding 20 lines each to one file at the same time keep all 40', async () => {
    const dir = target();
    const file = join(dir, 'shared.conf');
    ownedFile(file, '');
    const adder = (who: string) =>
      project({
        playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: add lines
      lineinfile: { path: ${file}, line: "${who}-{{ item }}" }
      loop: ${JSON.stringify(Array.from({ length: 20 }, (_, i) => i + 1))}
`,
        inventory: inventoryYaml({ web1: sshVars(suite.server) }),
      });
    const [a, b] = [adder('a'), adder('b')];
    const runs = await Promise.all([a, b].map((p) => runCli(['run', p.playbook, '-i', p.inventory])));
    for (const r of runs) expect(r.code, r.stdout + r.stderr).to.equal(0);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const want = ['a', 'b'].flatMap((w) => Array.from({ length: 20 }, (_, i) => `${w}-${i + 1}`));
    expect(lines.length, `kept ${lines.length} of 40 lines`).to.equal(40);
    expect([...lines].sort()).to.deep.equal([...want].sort());
  });

  it('keeps a line appended by someone else after the run read the file', async () => {
    const dir = target();
    const file = join(dir, 'app.conf');
    ownedFile(file, 'first\n');
    // The section prefetch reads app.conf on web1 at its start; while web1 waits for the first
    // task to finish on `other`, another writer appends a line to the same file.
    const p = project({
      playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: someone else appends
      command: { cmd: "sh -c 'echo outside >> ${file}'" }
      when: "inventory_hostname === 'other'"
    - name: our line
      lineinfile: { path: ${file}, line: managed }
      when: "inventory_hostname === 'web1'"
`,
      inventory: inventoryYaml({ web1: sshVars(suite.server), other: sshVars(suite.server) }),
    });
    const r = await runLib(p);
    expect(r.statuses('our line')).to.deep.equal({ web1: 'changed', other: 'skipped' });
    expect(readFileSync(file, 'utf8')).to.equal('first\noutside\nmanaged\n');
    // The refused write cost one probe and one write more: web1's prefetch, the refused put,
    // the re-read, the put; other's prefetch and command.
    expect(r.summary.stats).to.include({ probeExecs: 3, stepExecs: 3 });
    const again = await runLib(p);
    expect(again.statuses('our line')).to.deep.equal({ web1: 'ok', other: 'skipped' });
    expect(readFileSync(file, 'utf8')).to.equal('first\noutside\nmanaged\noutside\n');
  });

  it('gives up clearly, writing nothing, when the file changes every time it is read', async () => {
    const dir = target();
    const file = join(dir, 'busy.log');
    ownedFile(file, '');
    const writer = spawn('sh', ['-c', `while :; do echo tick >> ${file}; sleep 0.002; done`], { stdio: 'ignore' });
    try {
      const p = project({
        playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: our line
      lineinfile: { path: ${file}, line: managed }
`,
        inventory: inventoryYaml({ web1: sshVars(suite.server) }),
      });
      const r = await runCli(['run', p.playbook, '-i', p.inventory]);
      expect(r.code, r.stdout + r.stderr).to.equal(2);
      expect(r.stdout).to.match(new RegExp(`${file} changed on the host each time tsplay read and wrote it \\(10 times in [\\d.]+ s\\); nothing was written`));
    } finally {
      writer.kill();
    }
    await new Promise((res) => setTimeout(res, 50));
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).to.not.include('managed');
    expect(new Set(lines)).to.deep.equal(new Set(['tick']));
  });
});
