/**
 * Parsing: YAML and INI inventories give the same model; nested groups, hosts in several
 * groups, ranges, host:port, INI value types, inventory folders, host lists, implicit localhost.
 */
import { expect } from 'chai';
import { Diagnostics } from '../../src/core/errors.js';
import { InventoryBuilder } from '../../src/inventory/builder.js';
import { parseIniInventory } from '../../src/inventory/ini.js';
import { parseIniValue } from '../../src/inventory/ini-values.js';
import { expandRanges, parseHostPattern } from '../../src/inventory/hostpattern.js';
import { loadInventory, type Inventory } from '../../src/inventory/model.js';
import { detectFormat } from '../../src/inventory/sources.js';

const fx = 'test/fixtures/inventory';

/** Everything observable about an inventory, in a form independent of definition order. */
function shape(inv: Inventory) {
  return {
    groups: Object.fromEntries(
      [...inv.groups.values()].map((g) => [g.name, { children: [...g.children].sort(), parents: [...g.parents].sort(), depth: g.depth }]),
    ),
    members: inv.groupsVar(),
    hosts: Object.fromEntries([...inv.hosts.values()].map((h) => [h.name, { groups: h.groups, vars: inv.hostVars(h.name).vars }])),
  };
}

function ini(text: string, file = 'x.ini') {
  const diags = new Diagnostics();
  const b = new InventoryBuilder(diags);
  parseIniInventory(text, file, b);
  b.finish();
  return { b, diags };
}

describe('inventory: parsing', () => {
  it('reads the YAML and the INI version of an inventory into the same model', () => {
    const y = shape(loadInventory([`${fx}/same-model/hosts.yml`]));
    const i = shape(loadInventory([`${fx}/same-model/hosts.ini`]));
    expect(i).to.deep.equal(y);
    // and the model is what both files say
    expect(y.members.web).to.deep.equal(['web01', 'web02', 'web03']);
    expect(y.members.prod).to.deep.equal(['web01', 'web02', 'web03', 'db1']);
    expect(y.members.ungrouped).to.deep.equal(['bastion']);
    expect(y.groups.all!.children).to.deep.equal(['prod', 'ungrouped']);
    expect(y.groups.web).to.deep.equal({ children: [], parents: ['prod'], depth: 2 });
    expect(y.hosts.web03!.groups).to.deep.equal(['all', 'prod', 'web']);
    expect(y.hosts.web03!.vars).to.deep.equal({ ntp: 'pool.ntp.org', env: 'prod', http_port: 8080, tls: true, ansible_host: '10.0.0.13' });
    expect(y.hosts.db1!.vars).to.deep.equal({ ntp: 'pool.ntp.org', env: 'prod', ansible_port: 2222, ansible_user: 'admin', replicas: ['a', 'b'] });
    expect(y.hosts.bastion!.groups).to.deep.equal(['all', 'ungrouped']);
  });

  it('puts a host in every group that lists it, with the ancestors of each', () => {
    const inv = loadInventory([`${fx}/precedence/inventory/hosts.yml`]);
    expect(inv.hosts.get('web1')!.groups).to.deep.equal(['all', 'apple', 'blue', 'web', 'aa_high', 'web_eu']);
    expect(inv.hosts.get('web2')!.groups).to.deep.equal(['all', 'web', 'web_eu']);
    expect(inv.groups.get('web_eu')!.parents).to.deep.equal(['web']);
    expect(inv.groups.get('web')!.children).to.deep.equal(['web_eu']);
    expect(inv.groups.get('aa_high')!.priority).to.equal(10);
    expect(inv.groups.get('blue')!.hosts).to.deep.equal(['web1']);
    expect(inv.hosts.get('web1')!.pos).to.deep.include({ line: 15, col: 13 });
  });

  it('a top-level YAML key other than all is a group under all', () => {
    const inv = loadInventory([`${fx}/folder/10-web.yml`]);
    expect(inv.groups.get('web')!.parents).to.deep.equal(['all']);
    expect(inv.groups.get('all')!.children).to.include('web');
  });

  it('loads every inventory file of a folder, with its group_vars/ and host_vars/', () => {
    const inv = loadInventory([`${fx}/folder`]);
    expect([...inv.hosts.keys()]).to.deep.equal(['web1', 'db1']);
    expect(inv.groupsVar().prod).to.deep.equal(['web1', 'db1']);
    expect(inv.groupsVar().ungrouped).to.deep.equal([]);
    expect(inv.hostVars('db1').vars).to.deep.equal({ role: 'database', ansible_port: 2200, ansible_host: '192.0.2.10' });
    expect(inv.hostVars('web1').vars).to.deep.equal({ role: 'frontend' });
    expect(inv.diagnostics).to.deep.equal([]); // README.md is not read
  });

  it('merges several -i sources: groups and hosts add up, later vars win', () => {
    const inv = loadInventory([`${fx}/same-model/hosts.ini`, `${fx}/folder`]);
    expect(inv.groupsVar().web).to.deep.equal(['web01', 'web02', 'web03', 'web1']);
    expect(inv.groupsVar().db).to.deep.equal(['db1']);
    expect(inv.hostVars('db1').vars.ansible_port).to.equal(2200);
    expect(inv.hostVars('db1').vars.ansible_user).to.equal('admin');
  });

  it('reads a comma-separated host list', () => {
    const inv = loadInventory(['web1,web2:2200,']);
    expect(inv.groupsVar().ungrouped).to.deep.equal(['web1', 'web2']);
    expect(inv.hostVars('web2').vars).to.deep.equal({ ansible_port: 2200 });
  });

  it('without inventory, only the implicit localhost exists: local, selectable by name, not in all', () => {
    const inv = loadInventory([]);
    expect(inv.select('all')).to.deep.equal([]);
    expect(inv.select('localhost')).to.deep.equal(['localhost']);
    expect(inv.hostVars('localhost').vars).to.deep.equal({ ansible_connection: 'local' });
    expect(inv.groupsVar().all).to.deep.equal([]);
  });

  it('a localhost listed in the inventory is an ordinary host (no implicit connection: local)', () => {
    const inv = loadInventory(['localhost,']);
    expect(inv.hostVars('localhost').vars).to.deep.equal({});
    expect(inv.hosts.get('localhost')!.implicit).to.equal(undefined);
    expect(inv.select('all')).to.deep.equal(['localhost']);
  });

  it('the implicit localhost comes after the inventory hosts in a selection', () => {
    const inv = loadInventory([`${fx}/patterns/hosts.ini`]);
    expect(inv.select('localhost:web')).to.deep.equal(['web1.example.com', 'web2.example.com', 'web3.example.org', 'localhost']);
    expect(inv.hosts.get('localhost')!.implicit).to.equal(true);
    expect(inv.select('all')).to.not.include('localhost');
  });

  describe('INI details', () => {
    it('parses inline values like Ansible: shell-split first, then read as Python literals', () => {
      const { b, diags } = ini(
        `h1 a=1 b=1.5 c=True d=false e='8080' s="'8080'" f="two words" g="[1, 'x']" u=[1,'x'] h="{'k': 'v'}" i=010 j=plain k="" l=a=b # comment\n`,
      );
      expect(diags.items).to.deep.equal([]);
      const vars = Object.fromEntries([...b.hosts.get('h1')!.vars].map(([k, v]) => [k, v.value]));
      expect(vars).to.deep.equal({
        a: 1,
        b: 1.5,
        c: true,
        d: false,
        e: 8080, // the shell quotes are gone before the value is read, as in Ansible
        s: '8080',
        f: 'two words',
        g: [1, 'x'],
        u: '[1,x]', // Ansible too: the inner quotes were shell quotes
        h: { k: 'v' },
        i: '010',
        j: 'plain',
        k: '',
        l: 'a=b',
      });
    });

    it('parses [group:vars] values as whole-line literals', () => {
      const { b } = ini(`[web]\nw\n[web:vars]\nport = 80\nname = 'a # b'\nmotd = hello world\nlist = ['a', 'b']\nempty =\n`);
      const vars = Object.fromEntries([...b.groups.get('web')!.vars].map(([k, v]) => [k, v.value]));
      expect(vars).to.deep.equal({ port: 80, name: 'a # b', motd: 'hello world', list: ['a', 'b'], empty: '' });
    });

    it('records positions of hosts and values', () => {
      const { b } = ini(`[web]\n  web1   http_port=8080\n[web:vars]\nx =   5\n`, 'inv.ini');
      expect(b.hosts.get('web1')!.pos).to.deep.equal({ file: 'inv.ini', line: 2, col: 3 });
      expect(b.hosts.get('web1')!.vars.get('http_port')!.pos).to.deep.equal({ file: 'inv.ini', line: 2, col: 20 });
      expect(b.groups.get('web')!.vars.get('x')!.pos).to.deep.equal({ file: 'inv.ini', line: 4, col: 7 });
    });

    it('skips # and ; comment lines and accepts a comment after a section header', () => {
      const { b, diags } = ini(`# c\n; c\n[web] # the web tier\n  # indented comment\nweb1\n`);
      expect(diags.items).to.deep.equal([]);
      expect(b.groups.get('web')!.hosts).to.deep.equal(['web1']);
    });

    it('lets [group:vars] come before the group and children name a group declared later', () => {
      const { b, diags } = ini(`[web:vars]\nx=1\n[prod:children]\nweb\n[web]\nweb1\n`);
      expect(diags.items).to.deep.equal([]);
      expect(b.groups.get('prod')!.children).to.deep.equal(['web']);
    });
  });

  describe('host ranges and ports', () => {
    it('expands numeric (zero-padded), letter and stepped ranges, several per name', () => {
      expect(expandRanges('web[01:03]')).to.deep.equal(['web01', 'web02', 'web03']);
      expect(expandRanges('web[8:10]')).to.deep.equal(['web8', 'web9', 'web10']);
      expect(expandRanges('db-[a:c].local')).to.deep.equal(['db-a.local', 'db-b.local', 'db-c.local']);
      expect(expandRanges('n[0:10:5]')).to.deep.equal(['n0', 'n5', 'n10']);
      expect(expandRanges('r[1:2]u[a:b]')).to.deep.equal(['r1ua', 'r1ub', 'r2ua', 'r2ub']);
    });

    it('splits host:port but not IPv6 addresses', () => {
      expect(parseHostPattern('web1:2222')).to.deep.equal({ names: ['web1'], port: 2222 });
      expect(parseHostPattern('web[1:2]:22')).to.deep.equal({ names: ['web1', 'web2'], port: 22 });
      expect(parseHostPattern('fe80::1')).to.deep.equal({ names: ['fe80::1'], port: undefined });
      expect(parseHostPattern('[2001:db8::1]:2200')).to.deep.equal({ names: ['2001:db8::1'], port: 2200 });
    });

    it('rejects bad ranges with a reason', () => {
      expect(() => expandRanges('web[3:1]')).to.throw('host range [3:1] is empty');
      expect(() => expandRanges('web[1:2:0]')).to.throw('step must be a positive number');
      expect(() => expandRanges('web[1:2')).to.throw("unmatched '['");
      expect(() => parseHostPattern('web:ssh')).to.throw("invalid port 'ssh'");
    });
  });

  it('detects the format: by extension, else by the first meaningful line', () => {
    expect(detectFormat('hosts.yaml', '[web]')).to.equal('yaml');
    expect(detectFormat('hosts', '# c\n\n[web]\nweb1\n')).to.equal('ini');
    expect(detectFormat('hosts', 'web1\nweb2\n')).to.equal('ini');
    expect(detectFormat('hosts', 'web1:2222\n')).to.equal('ini');
    expect(detectFormat('hosts', 'web1 ansible_host=a:b\n')).to.equal('ini');
    expect(detectFormat('hosts', '---\nall:\n')).to.equal('yaml');
    expect(detectFormat('hosts', 'all:\n  hosts:\n')).to.equal('yaml');
    expect(detectFormat('hosts', '{"all": {}}')).to.equal('yaml');
  });

  it('parses INI value literals', () => {
    expect(parseIniValue('0x1F')).to.equal(31);
    expect(parseIniValue('-3')).to.equal(-3);
    expect(parseIniValue('None')).to.equal(null);
    expect(parseIniValue('(1, 2)')).to.deep.equal([1, 2]);
    expect(parseIniValue('1.2.3')).to.equal('1.2.3');
    expect(parseIniValue('99999999999999999999')).to.equal('99999999999999999999');
    expect(parseIniValue("'unterminated")).to.equal("'unterminated");
  });
});
