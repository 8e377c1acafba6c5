import { expect } from 'chai';
import { parse } from 'yaml';
import { renderInventory, renderKnownHosts } from '../../src/lab/inventory-file.js';
import { validateLabSpec } from '../../src/lab/spec.js';

describe('lab inventory file', () => {
  const spec = validateLabSpec({ name: 'demo', hosts: [{ name: 'web1', groups: ['web', 'lab'] }, { name: 'db1', groups: ['db', 'web'] }] });
  const hosts = [
    { name: 'web1', ip: '172.30.0.2', hostKey: 'ssh-ed25519 AAAAweb root@web1\n' },
    { name: 'db1', ip: '172.30.0.3', hostKey: 'ssh-ed25519 AAAAdb root@db1' },
  ];

  it('writes one known_hosts line per host address, without the key comment', () => {
    expect(renderKnownHosts(hosts)).to.equal('172.30.0.2 ssh-ed25519 AAAAweb\n172.30.0.3 ssh-ed25519 AAAAdb\n');
  });

  it('gives each host its address, user, key and strict host key checking, and groups them', () => {
    const inv = parse(renderInventory(spec, hosts, { keyPath: '/s/id_ed25519', knownHostsPath: '/s/known_hosts' }));
    expect(inv.all.hosts.db1).to.deep.equal({
      ansible_host: '172.30.0.3',
      ansible_user: 'root',
      ansible_ssh_private_key_file: '/s/id_ed25519',
      known_hosts_file: '/s/known_hosts',
      host_key_checking: 'strict',
    });
    expect(Object.keys(inv.all.children)).to.deep.equal(['lab', 'web', 'db']);
    expect(Object.keys(inv.all.children.lab.hosts)).to.deep.equal(['web1', 'db1']);
    expect(Object.keys(inv.all.children.web.hosts)).to.deep.equal(['web1', 'db1']);
    expect(Object.keys(inv.all.children.db.hosts)).to.deep.equal(['db1']);
  });
});
