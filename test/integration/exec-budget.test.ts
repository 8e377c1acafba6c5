/**
 * The exec budget against a real sshd (test/helpers/sshd.ts): a converged run of file, copy,
 * lineinfile and command tasks reads each host's facts in ONE exec, whatever the order of the
 * tasks (a read-only `command` first, in the middle, in a loop); and a task still sees what an
 * earlier task changed in the same run. Counts execs, not time. Needs root; skipped otherwise.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { inventoryYaml, runLib, sshdSuite, sshVars } from './harness.js';

const dirTask = `    - name: conf folder\n      file: { path: "{{ dir }}/conf", state: directory, mode: "0750" }\n`;
const copyTask = `    - name: motd\n      copy: { dest: "{{ dir }}/motd", content: "hello {{ inventory_hostname }}\\n", mode: "0640" }\n`;
const lineTask = `    - name: settings\n      lineinfile: { path: "{{ dir }}/settings", line: "managed=yes", create: true }\n`;
const loopTask = `    - name: snippets\n      copy: { dest: "{{ dir }}/conf/{{ item }}.conf", content: "{{ item }}\\n" }\n      loop: [a, b, c]\n`;
const cmdTask = (name: string) => `    - name: ${name}\n      command: ls {{ dir }}\n      changed_when: false\n`;
const cmdLoop = `    - name: looped command\n      command: echo {{ item }}\n      changed_when: false\n      loop: [x, y]\n`;
const guardTask = `    - name: once\n      command: { cmd: "touch {{ dir }}/initialised", creates: "{{ dir }}/initialised" }\n`;

describe('integration: exec budget against a real sshd', function () {
  this.timeout(60_000);
  const suite = sshdSuite();

  const project = (tasks: string[]) => {
    const hosts = Object.fromEntries(['web1', 'web2'].map((h) => [h, sshVars(suite.server, { dir: suite.target() })]));
    return suite.project({ playbook: `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.join('')}`, inventory: inventoryYaml(hosts) });
  };

  const orders: Record<string, string[]> = {
    'command first': [cmdTask('read motd'), dirTask, copyTask, lineTask, loopTask, guardTask],
    'commands in the middle and in a loop': [dirTask, copyTask, cmdTask('read motd'), loopTask, cmdLoop, lineTask, guardTask],
    'command last': [dirTask, loopTask, copyTask, lineTask, guardTask, cmdTask('read motd')],
  };
  for (const [order, tasks] of Object.entries(orders)) {
    it(`a converged run reads each host's facts in one exec: ${order}`, async () => {
      const p = project(tasks);
      const first = await runLib(p);
      expect(first.summary.failed, JSON.stringify(first.summary.hosts)).to.equal(false);
      const again = await runLib(p);
      expect(again.summary.changed).to.equal(false);
      expect(again.summary.stats.probeExecs, 'probe execs for 2 hosts').to.equal(2);
      // The only other execs are the read-only commands themselves.
      const commands = tasks.filter((t) => t.includes('changed_when')).reduce((n, t) => n + (t.includes('loop:') ? 2 : 1), 0);
      expect(again.summary.stats.stepExecs).to.equal(2 * commands);
    });
  }

  it('a task sees what an earlier task changed in the same run (lineinfile, then file and copy on that file)', async () => {
    const p = project([
      `    - name: add line\n      lineinfile: { path: "{{ dir }}/app.conf", line: "port=80", create: true }\n`,
      `    - name: must exist\n      file: { path: "{{ dir }}/app.conf", state: file, mode: "0600" }\n`,
      `    - name: same content\n      copy: { dest: "{{ dir }}/app.conf", content: "port=80\\n", mode: "0600" }\n`,
    ]);
    const r = await runLib(p);
    expect(r.statuses('add line')).to.deep.equal({ web1: 'changed', web2: 'changed' });
    // Read before the line was added, the file was absent: `state: file` would fail.
    expect(r.statuses('must exist')).to.deep.equal({ web1: 'changed', web2: 'changed' });
    expect(r.statuses('same content')).to.deep.equal({ web1: 'ok', web2: 'ok' });
    const inv = JSON.parse(readFileSync(p.inventory, 'utf8')) as { all: { hosts: Record<string, { dir: string }> } };
    expect(readFileSync(`${inv.all.hosts.web1!.dir}/app.conf`, 'utf8')).to.equal('port=80\n');
  });

  it('a command that may change anything (no changed_when) makes the next tasks read again, in one exec', async () => {
    const p = project([dirTask, copyTask, lineTask]);
    await runLib(p);
    const inv = JSON.parse(readFileSync(p.inventory, 'utf8')) as { all: { hosts: Record<string, { dir: string }> } };
    const dir = inv.all.hosts.web1!.dir;
    const q = suite.project({
      playbook: `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: overwrite\n      command: { argv: [sh, -c, "echo other > {{ dir }}/motd"] }\n${dirTask}${copyTask}${lineTask}`,
      inventory: readFileSync(p.inventory, 'utf8'),
    });
    const r = await runLib(q);
    expect(r.statuses('motd')).to.deep.equal({ web1: 'changed', web2: 'changed' });
    expect(readFileSync(`${dir}/motd`, 'utf8')).to.equal('hello web1\n');
    // The section read, then one re-read after the command; copy's write drops only motd's facts.
    expect(r.summary.stats.probeExecs).to.equal(4);
  });
});
