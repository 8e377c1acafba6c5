/** `tsplay inventory --list / --graph / --host` views. */
import { expect } from 'chai';
import { loadInventory } from '../../src/inventory/model.js';
import { explainHost, graphInventory, listInventory } from '../../src/inventory/show.js';

const same = 'test/fixtures/inventory/same-model';
const fx = 'test/fixtures/inventory/precedence';

describe('inventory: show', () => {
  it('--graph draws the Ansible tree, children and hosts sorted, all without hosts', () => {
    expect(graphInventory(loadInventory([`${same}/hosts.yml`]))).to.equal(
      [
        '@all:',
        '  |--@prod:',
        '  |  |--@db:',
        '  |  |  |--db1',
        '  |  |--@web:',
        '  |  |  |--web01',
        '  |  |  |--web02',
        '  |  |  |--web03',
        '  |--@ungrouped:',
        '  |  |--bastion',
      ].join('\n'),
    );
  });

  it('--list gives the ansible-inventory JSON shape', () => {
    const list = listInventory(loadInventory([`${same}/hosts.ini`]));
    expect(Object.keys(list)).to.deep.equal(['_meta', 'all', 'db', 'prod', 'ungrouped', 'web']);
    expect(list.all).to.deep.equal({ children: ['prod', 'ungrouped'] });
    expect(list.prod).to.deep.equal({ children: ['db', 'web'] });
    expect(list.web).to.deep.equal({ hosts: ['web01', 'web02', 'web03'] });
    expect(list.ungrouped).to.deep.equal({ hosts: ['bastion'] });
    const hostvars = (list._meta as { hostvars: Record<string, Record<string, unknown>> }).hostvars;
    expect(Object.keys(hostvars)).to.deep.equal(['bastion', 'db1', 'web01', 'web02', 'web03']);
    expect(hostvars.web03).to.deep.equal({ ansible_host: '10.0.0.13', env: 'prod', http_port: 8080, ntp: 'pool.ntp.org', tls: true });
    expect(Object.keys(hostvars.web03!)).to.deep.equal(['ansible_host', 'env', 'http_port', 'ntp', 'tls']);
  });

  it('--list leaves out empty groups and masks secrets in JSON', () => {
    const inv = loadInventory([`${fx}/inventory/hosts.yml`]);
    const list = listInventory(inv);
    expect(list).to.not.have.property('ungrouped');
    expect((list.all as { children: string[] }).children).to.include('ungrouped');
    expect(JSON.stringify(list)).to.contain('"secret_token":"********"').and.not.contain('s3cr3t');
  });

  it('--host explains each value: final value, where it was set, what it overrode', () => {
    const text = explainHost(loadInventory([`${fx}/inventory/hosts.yml`], { playbookDir: `${fx}/playbook` }), 'web1');
    const lines = text.split('\n');
    expect(lines[0]).to.equal(`host web1  (${fx}/inventory/hosts.yml:15:13)`);
    expect(lines[1]).to.equal('groups: all, apple, blue, web, aa_high, web_eu');
    const line = (name: string) => lines.find((l) => l.trimStart().startsWith(`${name} `))!;
    expect(line('http_port')).to.match(
      new RegExp(
        `^  http_port += 82 +${esc(`${fx}/playbook/group_vars/web.yml:1:12 (group_vars web)  (overrides group_vars web: 81 at ${fx}/inventory/group_vars/web.yml:1:12; group web: 80 at ${fx}/inventory/hosts.yml:9:20)`)}$`,
      ),
    );
    expect(line('tie')).to.contain(`"blue"`).and.contain(`${fx}/inventory/hosts.yml:22:14 (group blue)  (overrides group apple: "apple" at ${fx}/inventory/hosts.yml:28:14)`);
    expect(line('ansible_host')).to.contain(`"10.0.0.1"`).and.contain(`${fx}/inventory/hosts.yml:16:29 (host web1)`).and.not.contain('overrides');
    expect(line('secret_token')).to.contain('= ********').and.not.contain('s3cr3t');
  });

  it('--host works for the implicit localhost', () => {
    expect(explainHost(loadInventory([]), 'localhost')).to.equal(
      ['host localhost  (implicit localhost)', 'groups: all', '  ansible_connection = "local"   implicit localhost'].join('\n'),
    );
  });

  it('--host of an unknown host is an error with a did-you-mean', () => {
    expect(() => explainHost(loadInventory([`${same}/hosts.yml`]), 'web3')).to.throw("unknown host 'web3' (did you mean 'web03'?)");
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
