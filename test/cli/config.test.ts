/**
 * The project config: tsplay.config.yml in the current folder or a parent, else the [defaults]
 * of an ansible.cfg; flags win over it; bad settings are errors with file:line:col.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, countingListener, tsplayAsync } from '../helpers/cli.js';

const connectTraces = (out: string) =>
  Object.fromEntries(out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'trace' && e.kind === 'connect').map((e) => [e.host, e.msg as string]));

describe('project config (tsplay.config.yml, ansible.cfg)', function () {
  this.timeout(60000);
  let dir: string;
  let sub: string;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  before(function () {
    if (!existsSync(cli)) this.skip();
  });
  beforeEach(async () => {
    listener = await countingListener();
    dir = mkdtempSync(join(tmpdir(), 'tsplay-config-'));
    sub = join(dir, 'playbooks', 'deep');
    mkdirSync(sub, { recursive: true });
    mkdirSync(join(dir, 'inv'));
    mkdirSync(join(dir, 'shared', 'common', 'tasks'), { recursive: true });
    writeFileSync(join(dir, 'shared', 'common', 'tasks', 'main.yml'), '- name: common task\n  command: "true"\n');
    const inv = (name: string) => `all:\n  vars: { ansible_host: 127.0.0.1, ansible_port: ${listener.port}, connect_timeout: 2 }\n  hosts:\n    ${name}: {}\n`;
    writeFileSync(join(dir, 'inv', 'main.yml'), inv('fromconfig'));
    writeFileSync(join(dir, 'other.yml'), inv('fromflag'));
    writeFileSync(join(sub, 'site.yml'), '- hosts: all\n  gather_facts: false\n  roles: [common]\n');
  });
  afterEach(async () => {
    await listener.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tsplay.config.yml in a parent folder: inventory, roles_path, remote_user, private_key_file, host_key_checking', async () => {
    writeFileSync(
      join(dir, 'tsplay.config.yml'),
      'inventory: inv/main.yml\nroles_path: [shared]\nforks: 3\nremote_user: deploy\nprivate_key_file: keys/deploy\nhost_key_checking: accept-new\n',
    );
    const list = await tsplayAsync(['run', 'site.yml', '--list-hosts', '--list-tasks'], sub);
    expect(list.err).to.equal('');
    const validate = await tsplayAsync(['validate', 'site.yml'], sub);
    expect(validate.err).to.equal('');
    expect(validate.code).to.equal(0);
    expect(list.out).to.include('hosts (1):\n      fromconfig\n');
    expect(list.out).to.include('common : common task');
    const run = await tsplayAsync(['run', 'site.yml', '-vvv', '--json'], sub);
    expect(connectTraces(run.out).fromconfig).to.equal(`ssh deploy@127.0.0.1:${listener.port}, key ${join(dir, 'keys', 'deploy')}, password none, host key checking accept-new, timeout 2 s, become no`);
    // flags win over the config
    const flags = await tsplayAsync(['run', 'site.yml', '-i', '../../other.yml', '-u', 'me', '--private-key', '/k', '-vvv', '--json'], sub);
    expect(connectTraces(flags.out).fromflag).to.match(/^ssh me@127\.0\.0\.1:\d+, key \/k, /);
    expect(connectTraces(flags.out)).not.to.have.property('fromconfig');
  });

  it('ssh_config_file: that file instead of ~/.ssh/config (relative to the config); --ssh-config wins', async () => {
    writeFileSync(join(dir, 'tsplay.config.yml'), 'inventory: inv/main.yml\nroles_path: [shared]\nssh_config_file: ssh/config\n');
    mkdirSync(join(dir, 'ssh'));
    writeFileSync(join(dir, 'ssh', 'config'), 'Host 127.0.0.1\n  User from-ssh-config\n  IdentityFile /keys/from-ssh-config\n');
    writeFileSync(join(dir, 'flag_config'), 'Host *\n  User from-flag\n');
    const run = await tsplayAsync(['run', 'site.yml', '-vvv', '--json'], sub);
    expect(connectTraces(run.out).fromconfig).to.match(/^ssh from-ssh-config@127\.0\.0\.1:\d+, key \/keys\/from-ssh-config, /);
    const flag = await tsplayAsync(['run', 'site.yml', '--ssh-config', join(dir, 'flag_config'), '-vvv', '--json'], sub);
    expect(connectTraces(flag.out).fromconfig).to.match(/^ssh from-flag@127\.0\.0\.1:\d+, key \(agent\/default\), /);
  });

  it('errors point at the config: file:line:col, a one-line reason, no stack', async () => {
    writeFileSync(join(dir, 'tsplay.config.yml'), 'inventory: inv/main.yml\nforks: many\nremote_usr: x\n');
    const r = await tsplayAsync(['run', 'site.yml', '--list-hosts'], sub);
    expect(r.code).to.equal(1);
    expect(r.err).to.include(`${join(dir, 'tsplay.config.yml')}:2:8: error: tsplay.config.yml: forks: Invalid input: expected number, received string`);
    expect(r.err).to.include(`${join(dir, 'tsplay.config.yml')}:3:1: error: tsplay.config.yml: unknown key "remote_usr"; did you mean "remote_user"?`);
    expect(r.err).not.to.match(/\n\s+at /);
  });

  it('without tsplay.config.yml: the [defaults] of ansible.cfg', async () => {
    writeFileSync(
      join(dir, 'ansible.cfg'),
      '[defaults]\ninventory = inv/main.yml   ; the main one\nroles_path = shared:/nonexistent\nremote_user = ansible\nprivate_key_file = ~/.ssh/ansible_key\nhost_key_checking = False\nforks = 5\nstdout_callback = yaml\n\n[ssh_connection]\nremote_user = notthis\n',
    );
    const list = await tsplayAsync(['run', 'site.yml', '--list-tasks', '--list-hosts'], sub);
    expect(list.err).to.equal('');
    expect(list.out).to.include('fromconfig');
    expect(list.out).to.include('common : common task');
    const run = await tsplayAsync(['run', 'site.yml', '-vvv', '--json'], sub);
    expect(connectTraces(run.out).fromconfig).to.match(/^ssh ansible@127\.0\.0\.1:\d+, key \/.*\/\.ssh\/ansible_key, password none, host key checking off,/);
    // tsplay.config.yml wins over ansible.cfg
    writeFileSync(join(dir, 'tsplay.config.yml'), 'inventory: other.yml\nroles_path: shared\n');
    const own = await tsplayAsync(['run', 'site.yml', '--list-hosts'], sub);
    expect(own.out).to.include('fromflag');
  });

  it('a bad value in ansible.cfg: file:line:col', async () => {
    writeFileSync(join(dir, 'ansible.cfg'), '[defaults]\nforks = lots\n');
    const r = await tsplayAsync(['run', 'site.yml', '--list-hosts'], sub);
    expect(r.code).to.equal(1);
    expect(r.err).to.include(`${join(dir, 'ansible.cfg')}:2:9: error: ansible.cfg: forks: expected a positive whole number, got "lots"`);
  });
});
