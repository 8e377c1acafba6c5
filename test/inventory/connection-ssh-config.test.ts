/**
 * Connection variables with an ssh config and ssh args: Ansible's precedence (inventory
 * variables, then the command line's -u / --private-key, then ansible_ssh_common_args, then the
 * ssh config files, then the defaults), jump hosts resolved with their own config.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConfigFiles } from '../../src/connection/ssh-config.js';
import { UserError } from '../../src/core/errors.js';
import { connectionVars, type ConnectionVarsOptions } from '../../src/inventory/connection.js';

const CONFIG = `
Host bastion
  HostName 192.0.2.1
  User jumper
  Port 2022
  IdentityFile %d/.ssh/bastion_key

Host outer
  HostName 192.0.2.9
  User outer-user

Host inner
  HostName 192.0.2.2
  ProxyJump outer

Host web*
  HostName %h.internal.example
  User deploy
  Port 2222
  IdentityFile ~/.ssh/deploy_%r
  IdentitiesOnly yes
  ProxyJump bastion
  StrictHostKeyChecking accept-new
  ConnectTimeout 3

Host 10.0.0.*
  User by-address

Host legacy
  ProxyCommand ssh -W %h:%p -p 2200 ops@old-bastion

Host odd
  ProxyCommand /usr/local/bin/my-tunnel %h %p
  ForwardAgent yes
`;

describe('inventory: connection variables with ~/.ssh/config and ssh args', () => {
  let dir: string;
  let notes: string[];
  let opts: ConnectionVarsOptions;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-sshcfg-'));
    mkdirSync(join(dir, '.ssh'));
    writeFileSync(join(dir, '.ssh/config'), CONFIG);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    notes = [];
    opts = { ssh: { configs: new SshConfigFiles(undefined, dir), files: [{ path: join(dir, '.ssh/config') }], ignored: (n) => notes.push(...n.map((x) => `${x.keyword}@${x.pos.line}`)) } };
  });

  it('takes HostName (%h), User, Port, IdentityFile (~, %r, %d), IdentitiesOnly, host key settings from the config', () => {
    const c = connectionVars('web1', {}, opts);
    expect(c).to.deep.include({ address: 'web1.internal.example', port: 2222, user: 'deploy', identitiesOnly: true, hostKeyChecking: 'accept-new', connectTimeoutMs: 3000 });
    expect(c.identityFiles).to.deep.equal([join(homedir(), '.ssh/deploy_deploy')]);
  });

  it('resolves the jump host with its own config', () => {
    const c = connectionVars('web1', {}, opts);
    expect(c.jumps).to.deep.equal([{ label: 'bastion', address: '192.0.2.1', port: 2022, user: 'jumper', identityFiles: [join(homedir(), '.ssh/bastion_key')], identitiesOnly: false }]);
  });

  it('inventory variables win over the config; the config wins over the defaults', () => {
    const c = connectionVars('web1', { ansible_user: 'admin', ansible_port: 22, ansible_host_key_checking: true, ansible_ssh_timeout: 20 }, opts);
    expect(c).to.deep.include({ address: 'web1.internal.example', user: 'admin', port: 22, hostKeyChecking: 'strict', connectTimeoutMs: 20_000 });
    // IdentityFile's %r is the user that logs in.
    expect(c.identityFiles).to.deep.equal([join(homedir(), '.ssh/deploy_admin')]);
    expect(connectionVars('db1', {}, opts)).to.deep.include({ address: 'db1', port: 22, user: undefined, hostKeyChecking: 'strict', connectTimeoutMs: 10_000 });
  });

  it('looks the host up by ansible_host, as ssh is given it', () => {
    expect(connectionVars('db1', { ansible_host: '10.0.0.5' }, opts)).to.deep.include({ address: '10.0.0.5', user: 'by-address' });
    // An inventory alias with ansible_host set does not pick up `Host alias` blocks.
    expect(connectionVars('web1', { ansible_host: '10.0.0.6' }, opts)).to.deep.include({ address: '10.0.0.6', user: 'by-address', port: 22 });
  });

  it('-u / --private-key / host_key_checking from the command line: -u over the config; the config over host_key_checking', () => {
    const c = connectionVars('web1', {}, { ...opts, defaults: { user: 'cli-user', privateKeyFile: '/keys/cli', hostKeyChecking: 'off' } });
    expect(c).to.deep.include({ user: 'cli-user', privateKeyFile: '/keys/cli', hostKeyChecking: 'off' });
  });

  it('ansible_ssh_common_args win over the config and lose to variables', () => {
    const c = connectionVars(
      'web1',
      { ansible_ssh_common_args: '-o ProxyJump=ops@other:2200 -o User=from-args -p 2300 -o StrictHostKeyChecking=no -i /keys/args', ansible_port: 2400 },
      opts,
    );
    expect(c).to.deep.include({ user: 'from-args', port: 2400, hostKeyChecking: 'off' });
    expect(c.identityFiles).to.deep.equal(['/keys/args', join(homedir(), '.ssh/deploy_from-args')]);
    expect(c.jumps).to.deep.equal([{ label: 'ops@other:2200', address: 'other', port: 2200, user: 'ops', identityFiles: [], identitiesOnly: false }]);
    // common args come before extra args.
    expect(connectionVars('db1', { ansible_ssh_common_args: '-o User=a', ansible_ssh_extra_args: '-o User=b -o Port=2500' }, opts)).to.deep.include({ user: 'a', port: 2500 });
  });

  it('a chain a,b: each hop with its config; the first hop behind its own ProxyJump', () => {
    const c = connectionVars('db1', { ansible_ssh_common_args: '-J inner,root@bastion:22' }, opts);
    expect(c.jumps!.map((j) => `${j.label}=${j.user}@${j.address}:${j.port}`)).to.deep.equal(['outer=outer-user@192.0.2.9:22', 'inner=undefined@192.0.2.2:22', 'root@bastion:22=root@192.0.2.1:22']);
    expect(connectionVars('web1', { ansible_ssh_common_args: '-o ProxyJump=none' }, opts).jumps).to.equal(undefined);
  });

  it('reads ProxyCommand "ssh -W %h:%p bastion" as a jump host; notes any other ProxyCommand once per use', () => {
    expect(connectionVars('legacy', {}, opts).jumps).to.deep.equal([{ label: 'ops@old-bastion:2200', address: 'old-bastion', port: 2200, user: 'ops', identityFiles: [], identitiesOnly: false }]);
    expect(notes).to.deep.equal([]);
    const c = connectionVars('odd', {}, opts);
    expect(c.jumps).to.equal(undefined);
    expect(notes).to.deep.equal(['ForwardAgent@34', 'ProxyCommand /usr/local/bin/my-tunnel %h %p@33']);
  });

  it('ssh_config_file (or -F in the args) replaces ~/.ssh/config; a missing one is an error', () => {
    const other = join(dir, 'other-config');
    writeFileSync(other, 'Host web1\n  User from-other\n');
    expect(connectionVars('web1', { ssh_config_file: other }, opts)).to.deep.include({ user: 'from-other', address: 'web1', port: 22 });
    expect(connectionVars('web1', { ansible_ssh_common_args: `-F ${other}` }, opts)).to.deep.include({ user: 'from-other' });
    expect(() => connectionVars('web1', { ssh_config_file: join(dir, 'missing') }, opts)).to.throw(UserError, /missing does not exist/);
  });

  it('a bad value in the config is an error at its file:line', () => {
    const bad = join(dir, 'bad-config');
    writeFileSync(bad, 'Host *\n  Port twenty\n');
    try {
      connectionVars('web1', { ssh_config_file: bad }, opts);
      expect.fail('no error');
    } catch (e) {
      expect(e).to.be.instanceOf(UserError);
      expect((e as UserError).diagnostics[0]).to.deep.include({ message: 'invalid port "twenty" (expected a number from 1 to 65535)' });
      expect((e as UserError).diagnostics[0]!.pos).to.deep.include({ file: bad, line: 2 });
    }
  });

  it('a local connection reads no ssh config', () => {
    expect(connectionVars('web1', { ansible_connection: 'local' }, opts)).to.deep.include({ address: 'web1', user: undefined });
  });
});
