/** Connection variables: both naming schemes, defaults, precedence between them, bad values. */
import { homedir } from 'node:os';
import { expect } from 'chai';
import { formatDiagnosticLine, UserError } from '../../src/core/errors.js';
import { CONNECTION_VAR_NAMES, connectionVars } from '../../src/inventory/connection.js';
import { loadInventory } from '../../src/inventory/model.js';
import { secret } from '../../src/core/secret.js';

function errorOf(vars: Record<string, unknown>): string {
  try {
    connectionVars('web1', vars);
  } catch (e) {
    expect(e).to.be.instanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error('did not fail');
}

describe('inventory: connection variables', () => {
  it('has defaults: ssh to the host name on port 22, no become, strict host keys, 10 s timeout', () => {
    expect(connectionVars('web1', {})).to.deep.equal({
      name: 'web1',
      address: 'web1',
      port: 22,
      user: undefined,
      privateKeyFile: undefined,
      password: undefined,
      become: false,
      becomeUser: 'root',
      becomeMethod: undefined,
      becomePassword: undefined,
      connection: 'ssh',
      hostKeyChecking: 'strict',
      knownHostsFile: undefined,
      connectTimeoutMs: 10_000,
    });
  });

  it("reads Ansible's names", () => {
    const c = connectionVars('web1', {
      ansible_host: '10.0.0.5',
      ansible_port: '2222',
      ansible_user: 'deploy',
      ansible_ssh_private_key_file: '~/.ssh/id_ed25519',
      ansible_ssh_pass: secret('pw'),
      ansible_become: 'yes',
      ansible_become_user: 'postgres',
      ansible_become_pass: 'sudo-pw',
      ansible_connection: 'paramiko',
      ansible_host_key_checking: false,
      ansible_ssh_timeout: 3,
      ansible_ssh_common_args: '-o ProxyJump=bastion',
    });
    expect(c).to.deep.include({
      address: '10.0.0.5',
      port: 2222,
      user: 'deploy',
      privateKeyFile: `${homedir()}/.ssh/id_ed25519`,
      password: 'pw',
      become: true,
      becomeUser: 'postgres',
      becomePassword: 'sudo-pw',
      connection: 'ssh',
      hostKeyChecking: 'off',
      connectTimeoutMs: 3000,
    });
  });

  it("reads tsplay's names, which win over Ansible's", () => {
    const c = connectionVars('web1', {
      ssh_host: '10.0.0.6',
      ansible_host: '10.0.0.5',
      ssh_port: 2200,
      ansible_port: 22,
      ssh_user: 'me',
      ansible_user: 'deploy',
      ssh_private_key_file: '/keys/k',
      ssh_password: 'a',
      ansible_password: 'b',
      become: true,
      ansible_become: false,
      become_user: 'app',
      become_password: secret('x'),
      ansible_become_password: 'y',
      connection: 'local',
      ansible_connection: 'ssh',
      host_key_checking: 'accept-new',
      known_hosts_file: '/tmp/kh',
      connect_timeout: '1.5',
    });
    expect(c).to.deep.include({
      address: '10.0.0.6',
      port: 2200,
      user: 'me',
      privateKeyFile: '/keys/k',
      password: 'a',
      become: true,
      becomeUser: 'app',
      becomePassword: 'x',
      connection: 'local',
      hostKeyChecking: 'accept-new',
      knownHostsFile: '/tmp/kh',
      connectTimeoutMs: 1500,
    });
  });

  it('localhost from the inventory uses ssh; the implicit localhost is local', () => {
    expect(connectionVars('localhost', {}).connection).to.equal('ssh');
    expect(connectionVars('127.0.0.1', { ansible_host: '127.0.0.1' }).connection).to.equal('ssh');
    const inv = loadInventory([]);
    expect(connectionVars('localhost', inv.hostVars('localhost').vars).connection).to.equal('local');
  });

  it('maps host_key_checking true/false to strict/off', () => {
    expect(connectionVars('h', { host_key_checking: true }).hostKeyChecking).to.equal('strict');
    expect(connectionVars('h', { host_key_checking: 'false' }).hostKeyChecking).to.equal('off');
  });

  it('rejects bad values, naming the host and the variable', () => {
    expect(errorOf({ ansible_port: 'abc' })).to.equal('error: host web1: ansible_port: invalid port "abc" (expected a number from 1 to 65535)');
    expect(errorOf({ ssh_port: 70000 })).to.contain('ssh_port: invalid port 70000');
    expect(errorOf({ ansible_port: 22.5 })).to.contain('invalid port 22.5');
    expect(errorOf({ ansible_connection: 'docker' })).to.equal(
      'error: host web1: ansible_connection: unknown connection type "docker" (tsplay supports ssh and local)',
    );
    expect(errorOf({ become: 'maybe' })).to.contain('become: expected true or false, got "maybe"');
    expect(errorOf({ host_key_checking: 'ask' })).to.contain('expected strict, accept-new or off');
    expect(errorOf({ connect_timeout: 0 })).to.contain('connect_timeout: expected a number of seconds');
    expect(errorOf({ ansible_become_method: 'doas' })).to.equal('error: host web1: ansible_become_method: become method "doas" is not supported (tsplay runs sudo and su)');
    expect(errorOf({ become_method: 'pbrun' })).to.contain('become method "pbrun" is not supported');
    expect(connectionVars('web1', { ansible_become_method: 'su' }).becomeMethod).to.equal('su');
    expect(errorOf({ ansible_user: ['a'] })).to.contain('ansible_user: expected a string');
  });

  it('points an error at the variable when given positions', () => {
    const pos = (key: string) => (key === 'ansible_port' ? { file: 'f.yml', line: 2, col: 3 } : undefined);
    try {
      connectionVars('web03', { ansible_port: 'x' }, { pos });
      expect.fail('did not throw');
    } catch (e) {
      expect(formatDiagnosticLine((e as UserError).diagnostics[0]!)).to.equal(
        'f.yml:2:3: error: host web03: ansible_port: invalid port "x" (expected a number from 1 to 65535)',
      );
    }
  });

  it('exports every recognised name', () => {
    for (const n of ['ansible_host', 'ssh_host', 'become_password', 'ansible_become_pass', 'connect_timeout', 'ansible_ssh_common_args']) {
      expect(CONNECTION_VAR_NAMES).to.include(n);
    }
  });
});
