/**
 * End to end: delegate_to, local_action and become_method su on the shared lab, through the
 * real engine and SSH. A task for e2e1 delegated to e2e2 writes on e2e2 (over e2e2's own
 * connection) with e2e1's variables; local_action writes on the controller; su becomes a user
 * whose password the test sets with chpasswd, logged in as another unprivileged user.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const DIR = '/tmp/tsplay-delegate-e2e';

describe('delegate_to, local_action, become_method su (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
  });

  const statuses = (r: LabRun, task: string) => Object.fromEntries(r.results(task).map((x) => [`${x.host}${x.delegate ? ` -> ${x.delegate}` : ''}`, x.status === 'failed' ? `failed: ${x.msg}` : x.status]));

  describe('delegate_to another lab host', () => {
    const cleanup = async () => {
      for (const h of ['e2e1', 'e2e2']) await lab.sh(h, `rm -rf ${DIR}`);
    };
    before(cleanup);
    after(cleanup);

    const playbook = `
- hosts: e2e1
  gather_facts: false
  tasks:
    - name: dir on e2e2
      file: {path: ${DIR}, state: directory}
      delegate_to: e2e2
    - name: note on e2e2
      copy: {dest: ${DIR}/from, content: "written for {{ inventory_hostname }}\\n"}
      delegate_to: e2e2
    - name: where it ran
      command: cat /etc/hostname
      delegate_to: e2e2
      register: where
      changed_when: false
    - name: dir here
      file: {path: ${DIR}, state: directory}
    - name: back home
      copy: {dest: ${DIR}/where, content: "{{ where.stdout }}\\n"}
`;

    it('check mode plans on e2e2 and writes nothing; the run writes on e2e2 only; the second run changes nothing', async () => {
      const check = await lab.run(playbook, { check: true, diff: true });
      expect(statuses(check, 'note on e2e2')).to.deep.equal({ 'e2e1 -> e2e2': 'changed' });
      expect((await lab.sh('e2e2', `test -e ${DIR}; echo $?`)).stdout.trim()).to.equal('1');

      const first = await lab.run(playbook);
      expect(statuses(first, 'dir on e2e2')).to.deep.equal({ 'e2e1 -> e2e2': 'changed' });
      expect(statuses(first, 'note on e2e2')).to.deep.equal({ 'e2e1 -> e2e2': 'changed' });
      expect((await lab.sh('e2e2', `cat ${DIR}/from`)).stdout).to.equal('written for e2e1\n');
      expect((await lab.sh('e2e1', `test -e ${DIR}/from; echo $?`)).stdout.trim(), 'nothing written on e2e1').to.equal('1');
      // register stays on e2e1: the command ran on e2e2 and e2e1 wrote what it said.
      const e2e2Name = (await lab.sh('e2e2', 'cat /etc/hostname')).stdout.trim();
      expect((await lab.sh('e2e1', `cat ${DIR}/where`)).stdout).to.equal(`${e2e2Name}\n`);
      expect(first.summary.hosts.e2e1).to.include({ failed: 0, unreachable: 0 });

      const second = await lab.run(playbook);
      expect(statuses(second, 'note on e2e2')).to.deep.equal({ 'e2e1 -> e2e2': 'ok' });
      expect(second.summary.hosts.e2e1).to.include({ changed: 0, failed: 0 });
    });
  });

  describe('local_action', () => {
    let out: string;
    before(() => {
      out = mkdtempSync(join(tmpdir(), 'tsplay-local-action-'));
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    it('writes on the controller, once per play host, with that host’s variables', async () => {
      const playbook = `
- hosts: e2e
  gather_facts: false
  tasks:
    - name: on the controller
      local_action: {module: copy, dest: "${out}/from-{{ inventory_hostname }}", content: "{{ inventory_hostname }}\\n"}
    - name: read it back
      local_action: command cat ${out}/from-{{ inventory_hostname }}
      register: back
      changed_when: false
    - name: compare
      assert: {that: ["back.stdout === inventory_hostname"]}
`;
      const r = await lab.run(playbook);
      expect(statuses(r, 'on the controller')).to.deep.equal({ 'e2e1 -> localhost': 'changed', 'e2e2 -> localhost': 'changed' });
      expect(statuses(r, 'compare')).to.deep.equal({ e2e1: 'ok', e2e2: 'ok' });
      expect(readFileSync(join(out, 'from-e2e1'), 'utf8')).to.equal('e2e1\n');
      expect(readFileSync(join(out, 'from-e2e2'), 'utf8')).to.equal('e2e2\n');
      for (const h of ['e2e1', 'e2e2']) expect((await lab.sh(h, `test -e ${out}; echo $?`)).stdout.trim(), h).to.equal('1');
      const again = await lab.run(playbook);
      expect(statuses(again, 'on the controller')).to.deep.equal({ 'e2e1 -> localhost': 'ok', 'e2e2 -> localhost': 'ok' });
      expect(existsSync(join(out, 'from-e2e1'))).to.equal(true);
    });
  });

  describe('become_method: su', () => {
    const login = 'tsplay-dlg-bob';
    const target = 'tsplay-dlg-alice';
    const password = `Su-${process.pid}-pw!`;

    before(async () => {
      const r = await lab.sh(
        'e2e1',
        [
          `id ${login} >/dev/null 2>&1 || useradd -m -s /bin/sh ${login}`,
          `id ${target} >/dev/null 2>&1 || useradd -m -s /bin/sh ${target}`,
          `mkdir -p /home/${login}/.ssh && cp /root/.ssh/authorized_keys /home/${login}/.ssh/ && chown -R ${login}: /home/${login}/.ssh && chmod 700 /home/${login}/.ssh`,
        ].join(' && '),
      );
      expect(r.code, r.stderr).to.equal(0);
      // The password, set in the test (chpasswd reads it from stdin).
      expect((await lab.sh('e2e1', 'chpasswd', { input: `${target}:${password}\n` })).code).to.equal(0);
    });
    after(async () => {
      await lab.sh('e2e1', `userdel -r ${login} 2>/dev/null; userdel -r ${target} 2>/dev/null; true`);
    });

    const playbook = (pw: string) => `
- hosts: e2e1
  gather_facts: false
  vars:
    ansible_user: ${login}
    ansible_become_password: "${pw}"
  tasks:
    - name: who
      command: id -un
      become: true
      become_user: ${target}
      become_method: su
      register: who
      changed_when: false
    - name: a file as the su user
      copy: {dest: /home/${target}/by-su, content: "hello\\n", mode: "0600"}
      become: true
      become_user: ${target}
      become_method: su
    - name: say
      debug: {msg: "{{ who.stdout }} with {{ ansible_become_password }}"}
`;

    it('runs commands and writes files as the su user; the password is masked', async () => {
      const r = await lab.run(playbook(password));
      expect(statuses(r, 'who')).to.deep.equal({ e2e1: 'ok' });
      expect(statuses(r, 'a file as the su user')).to.deep.equal({ e2e1: 'changed' });
      expect((await lab.sh('e2e1', `stat -c '%U %a' /home/${target}/by-su && cat /home/${target}/by-su`)).stdout).to.equal(`${target} 600\nhello\n`);
      const said = r.result('say', 'e2e1').msg ?? '';
      expect(said).to.match(new RegExp(`^${target} with `));
      expect(JSON.stringify(r.events)).to.not.contain(password);
      const again = await lab.run(playbook(password));
      expect(statuses(again, 'a file as the su user')).to.deep.equal({ e2e1: 'ok' });
    });

    it('fails the task clearly with a wrong password', async () => {
      const r = await lab.run(playbook('not-the-password'));
      expect(statuses(r, 'who')).to.deep.equal({ e2e1: `failed: become failed on e2e1: su rejected the become password (become_password) for becoming ${target}` });
    });
  });
});
