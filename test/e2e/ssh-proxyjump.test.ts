/**
 * End to end: reaching a lab host only through another (ProxyJump), the way users set it up:
 * aliases in an ssh config file (read as --ssh-config gives it), and the Ansible inventory form
 * `ansible_ssh_common_args: -o ProxyCommand="ssh -W %h:%p ... bastion"`. The target's
 * SSH_CONNECTION shows the address the connection came from: the bastion's, not the
 * controller's. Host keys of both are checked against the lab's known_hosts (strict).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent, type TaskHostResult } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type SharedLab } from '../helpers/lab.js';

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: where from
      shell: printenv SSH_CONNECTION > /tmp/tsplay-proxyjump-from
`;

describe('ssh: ProxyJump through a lab host (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let dir: string;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    dir = mkdtempSync(join(tmpdir(), 'tsplay-proxyjump-'));
    writeFileSync(join(dir, 'playbook.yml'), PLAYBOOK);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the playbook with this inventory (and ssh config file): every task result, the warnings. */
  async function run(inventoryYaml: string, sshConfig?: string): Promise<{ results: TaskHostResult[]; warnings: string[]; unreachable: boolean }> {
    writeFileSync(join(dir, 'inventory.yml'), inventoryYaml);
    let sshConfigFile: string | undefined;
    if (sshConfig !== undefined) writeFileSync((sshConfigFile = join(dir, 'ssh_config')), sshConfig);
    const inventory = loadInventory([join(dir, 'inventory.yml')]);
    const { playbook, registry } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory });
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    bus.on((e) => events.push(e));
    const summary = await runPlaybook(playbook, { inventory, registry, bus, connectionDefaults: { sshConfigFile } });
    return {
      results: events.flatMap((e) => (e.type === 'task:host' ? [e.result] : [])),
      warnings: events.flatMap((e) => (e.type === 'warning' ? [e.msg] : [])),
      unreachable: summary.unreachable,
    };
  }

  /** The client address of the task's SSH_CONNECTION ("client port server port") on a lab host. */
  const clientOn = async (host: string) => (await lab.sh(host, 'cat /tmp/tsplay-proxyjump-from; rm -f /tmp/tsplay-proxyjump-from')).stdout.trim().split(' ')[0];

  /** Established connections to e2e1's sshd (the bastion), from /proc (no ss in the image needed). */
  const bastionSessions = async () =>
    Number((await lab.sh('e2e1', `awk '$2 ~ /:0016$/ && $4 == "01"' /proc/net/tcp /proc/net/tcp6 2>/dev/null | wc -l`)).stdout.trim());

  it('reaches the target by its alias through the bastion named in the ssh config; the target sees the bastion', async () => {
    const before = await bastionSessions();
    const config = `
Host lab-bastion
  HostName ${lab.ip('e2e1')}
  User root
  IdentityFile ${lab.keyPath}
  IdentitiesOnly yes
  ForwardAgent yes

Host lab-target
  HostName ${lab.ip('e2e2')}
  ProxyJump lab-bastion

Host lab-*
  User root
  IdentityFile ${lab.keyPath}
  IdentitiesOnly yes
  UserKnownHostsFile ${lab.knownHostsPath}
  StrictHostKeyChecking yes
`;
    const r = await run(`all:\n  hosts:\n    lab-target: {}\n    lab-bastion: {}\n`, config);
    const byHost = Object.fromEntries(r.results.map((x) => [x.host, x]));
    expect(byHost['lab-target']!.status, byHost['lab-target']!.msg).to.equal('changed');
    expect(await clientOn('e2e2')).to.equal(lab.ip('e2e1'));
    // Reached directly, the bastion sees the controller, not itself.
    expect(byHost['lab-bastion']!.status, byHost['lab-bastion']!.msg).to.equal('changed');
    expect(await clientOn('e2e1')).to.match(/^\d/).and.not.equal(lab.ip('e2e1'));
    // ForwardAgent applied to the bastion: one warning for the run.
    expect(r.warnings.filter((w) => /ForwardAgent is ignored/.test(w))).to.have.length(1);
    // The bastion's connection was closed with the target's.
    let after = await bastionSessions();
    for (let i = 0; i < 20 && after > before; i++) {
      await new Promise((res) => setTimeout(res, 100));
      after = await bastionSessions();
    }
    expect(after).to.equal(before);
  });

  it('reads the inventory form: ansible_ssh_common_args with ProxyCommand="ssh -W %h:%p ... bastion"', async () => {
    const r = await run(`
all:
  hosts:
    target:
      ansible_host: ${lab.ip('e2e2')}
      ansible_user: root
      ansible_ssh_private_key_file: ${lab.keyPath}
      known_hosts_file: ${lab.knownHostsPath}
      ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p -q -i ${lab.keyPath} root@${lab.ip('e2e1')}" -o ServerAliveInterval=30'
`);
    expect(r.results[0]!.status, r.results[0]!.msg).to.equal('changed');
    expect(await clientOn('e2e2')).to.equal(lab.ip('e2e1'));
    expect(r.warnings).to.deep.equal([]);
  });

  it('a bastion that cannot be reached makes the target unreachable, naming the bastion', async () => {
    const r = await run(`
all:
  hosts:
    target:
      ansible_host: ${lab.ip('e2e2')}
      ansible_user: root
      ansible_ssh_private_key_file: ${lab.keyPath}
      known_hosts_file: ${lab.knownHostsPath}
      ansible_ssh_common_args: -J root@${lab.ip('e2e1')}:2
`);
    expect(r.unreachable).to.equal(true);
    expect(r.results[0]!.status).to.equal('unreachable');
    expect(r.results[0]!.msg).to.match(new RegExp(`jump host root@${lab.ip('e2e1').replace(/\./g, '\\.')}:2 .*connection refused`));
  });

  it("checks the bastion's host key too", async () => {
    const empty = join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await run(`
all:
  hosts:
    target:
      ansible_host: ${lab.ip('e2e2')}
      ansible_user: root
      ansible_ssh_private_key_file: ${lab.keyPath}
      known_hosts_file: ${empty}
      ansible_ssh_common_args: '-o ProxyJump=root@${lab.ip('e2e1')}'
`);
    expect(r.results[0]!.status).to.equal('unreachable');
    expect(r.results[0]!.msg).to.match(/jump host .*host key for .* is not known/);
  });
});
