import { expect } from 'chai';
import { buildScope, PRECEDENCE, rankOf, layerAt, type LevelId, type ScopeInput } from '../../src/vars/precedence.js';
import { evaluate, ExprError, render } from '../../src/vars/expr.js';
import { Scope } from '../../src/vars/scope.js';
import { secret } from '../../src/core/secret.js';

const magic = { inventory_hostname: 'web1', groups: { all: ['web1', 'db1'], web: ['web1'] } };

/**
 * Puts `vars` at one precedence level through buildScope's input. Facts, registered and magic
 * cannot hold an arbitrary name directly: facts are under `facts`, so the name used is `facts`
 * in that case (see `nameAt`).
 */
function inputWith(level: LevelId, vars: Record<string, unknown>, input: ScopeInput): void {
  const src = { vars };
  switch (level) {
    case 'roleDefaults': input.roleDefaults = src; break;
    case 'inventoryGroupVars': input.inventoryLayers = [...input.inventoryLayers, layerAt('inventoryGroupVars', src)]; break;
    case 'inventoryHostVars': input.inventoryLayers = [...input.inventoryLayers, layerAt('inventoryHostVars', src)]; break;
    case 'inventoryVarsFolders': input.inventoryLayers = [...input.inventoryLayers, layerAt('inventoryVarsFolders', src)]; break;
    case 'facts': input.facts = vars.facts as Record<string, unknown>; break;
    case 'playVars': input.playVars = src; break;
    case 'playVarsFiles': input.varsFiles = [src]; break;
    case 'roleVars': input.roleVars = src; break;
    case 'blockVars': input.blockVars = [src]; break;
    case 'taskVars': input.taskVars = src; break;
    case 'includeVars': input.includeVars = src; break;
    case 'params': input.roleParams = src; break;
    case 'registered': input.registered = vars; break;
    case 'extraVars': input.extraVars = src; break;
    case 'magic': input.magic = { ...input.magic, ...vars }; break;
  }
}

const levels = PRECEDENCE.map((l) => l.id);

describe('vars/precedence', () => {
  it('documents the order the README copies', () => {
    expect(PRECEDENCE.map((l) => l.label)).to.deep.equal([
      'role defaults',
      'inventory group vars (all, then parents before children)',
      'inventory host vars',
      'group_vars/host_vars folders',
      'facts',
      'play vars',
      'play vars_files',
      'role vars',
      'block vars',
      'task vars (incl. loop item)',
      'include_vars',
      'include params / role params',
      'registered vars and set_fact',
      'extra vars (-e)',
      'magic variables',
    ]);
    expect(rankOf('roleDefaults')).to.equal(0);
    expect(rankOf('extraVars')).to.be.greaterThan(rankOf('registered'));
  });

  // Every pair of levels: the later one wins, whichever order the layers are given in.
  for (let i = 0; i < levels.length; i++) {
    for (let j = i + 1; j < levels.length; j++) {
      const low = levels[i]!;
      const high = levels[j]!;
      it(`${high} overrides ${low}`, () => {
        // facts can only hold the name `facts`; use that name everywhere for pairs with facts.
        const name = low === 'facts' || high === 'facts' ? 'facts' : 'v';
        const value = (tag: string) => (name === 'facts' ? { facts: { from: tag } } : { v: tag });
        const input: ScopeInput = { inventoryLayers: [], magic };
        inputWith(high, value(high), input);
        inputWith(low, value(low), input);
        const got = buildScope(input).get(name);
        expect(name === 'facts' ? (got as { from: string }).from : got).to.equal(high);
        const explained = buildScope(input).explain(name);
        expect(explained[0]!.won).to.equal(true);
        expect(explained.map((e) => e.won)).to.deep.equal([true, false]);
      });
    }
  }

  it('keeps the given order of inventory layers (all, parents, children, host)', () => {
    const s = buildScope({
      inventoryLayers: [
        layerAt('inventoryGroupVars', { vars: { a: 'all', b: 'all', c: 'all' }, label: 'group all' }),
        layerAt('inventoryGroupVars', { vars: { b: 'parent', c: 'parent' }, label: 'group parent' }),
        { label: 'group child', kind: 'template', vars: { c: 'child' } }, // no rank: put at group vars
      ],
      magic,
    });
    expect([s.get('a'), s.get('b'), s.get('c')]).to.deep.equal(['all', 'parent', 'child']);
  });

  it('lets the loop variable (data) win over task vars, and never renders it', () => {
    const s = buildScope({
      inventoryLayers: [],
      taskVars: { vars: { item: 'task', pkg: '{{ item }}-dev' } },
      loopVars: { item: '{{ boom }}' },
      magic,
    });
    expect(s.get('item')).to.equal('{{ boom }}');
    expect(s.get('pkg')).to.equal('{{ boom }}-dev');
  });

  it('a child layer with a rank sits at its precedence level, below extra vars', () => {
    const base = buildScope({ inventoryLayers: [], extraVars: { vars: { x: 'extra' } }, magic });
    const child = base.child(layerAt('taskVars', { vars: { x: 'task', y: 'task' } }));
    expect(child.get('x')).to.equal('extra');
    expect(child.get('y')).to.equal('task');
  });

  it('renders template levels lazily across levels (role default uses an inventory var)', () => {
    const s = buildScope({
      roleDefaults: { vars: { url: 'http://{{ ansible_host }}:{{ port }}', port: 80 } },
      inventoryLayers: [layerAt('inventoryHostVars', { vars: { ansible_host: '10.0.0.5' } })],
      extraVars: { vars: { port: '8080' } },
      magic,
    });
    expect(s.get('url')).to.equal('http://10.0.0.5:8080');
  });

  it('exposes facts as facts.x, never rendered', () => {
    const s = buildScope({ inventoryLayers: [], facts: { os: 'debian', motd: '{{ x }}' }, magic });
    expect(evaluate('facts.os', s)).to.equal('debian');
    expect(render('{{ facts.motd }}', s)).to.equal('{{ x }}');
  });

  it("exposes Ansible's fact names and values as ansible_facts.x and ansible_x", () => {
    const facts = {
      hostname: 'web1.example.org', fqdn: 'web1.example.org', os_id: 'debian', os_version: '12', os_codename: 'bookworm', debian_version: '12.11', os_family: 'debian',
      architecture: 'x86_64', kernel: '6.1.0-18-amd64', cpus: 2, memtotal_mb: 1000, memtotal_kb: 1024511, user_id: 'root', pkg_mgr: 'apt', init: 'systemd',
      default_ipv4: { address: '10.1.2.3', interface: 'eth0', gateway: '10.1.2.1' }, interfaces: [{ name: 'eth0', address: '10.1.2.3', prefix: 24 }],
      all_ipv4_addresses: ['10.1.2.3'],
    };
    const s = buildScope({ inventoryLayers: [], facts, magic });
    expect(evaluate("ansible_facts['os_family']", s)).to.equal('Debian');
    expect(evaluate("[ansible_os_family, ansible_distribution, ansible_distribution_release, ansible_distribution_major_version]", s)).to.deep.equal(['Debian', 'Debian', 'bookworm', '12']);
    expect(evaluate('[ansible_distribution_version, ansible_distribution_minor_version]', s), 'from /etc/debian_version, as Ansible').to.deep.equal(['12.11', '11']);
    expect(evaluate('[ansible_hostname, ansible_fqdn, ansible_architecture, ansible_user_id, ansible_memtotal_mb]', s)).to.deep.equal(['web1', 'web1.example.org', 'x86_64', 'root', 1000]);
    expect(evaluate('ansible_default_ipv4', s)).to.deep.equal({ address: '10.1.2.3', interface: 'eth0', alias: 'eth0', gateway: '10.1.2.1', prefix: '24', netmask: '255.255.255.0', network: '10.1.2.0' });
    expect(evaluate('facts.os_family', s), "tsplay's own fact is unchanged").to.equal('debian');
    const rhel = buildScope({ inventoryLayers: [], facts: { ...facts, os_id: 'rocky', os_family: 'redhat', os_version: '9.3', os_codename: '', debian_version: 'bookworm/sid' }, magic });
    expect(evaluate('[ansible_os_family, ansible_distribution, ansible_distribution_major_version, ansible_distribution_release]', rhel)).to.deep.equal(['RedHat', 'Rocky', '9', 'NA']);
    expect(evaluate('[ansible_distribution_version, ansible_distribution_minor_version]', rhel), 'debian_version is only read on Debian').to.deep.equal(['9.3', '3']);
  });

  it('registered results are data: a stdout of {{ process.exit(1) }} stays a literal string', () => {
    const s = buildScope({
      inventoryLayers: [],
      playVars: { vars: { echoed: 'out: {{ result.stdout }}' } },
      registered: { result: { stdout: '{{ process.exit(1) }}', rc: 0 } },
      magic,
    });
    expect(s.get('echoed')).to.equal('out: {{ process.exit(1) }}');
    expect(render({ cmd: 'echo {{ quote(result.stdout) }}' }, s)).to.deep.equal({ cmd: "echo '{{ process.exit(1) }}'" });
  });

  it('provides magic variables that user vars cannot override', () => {
    const s = buildScope({
      inventoryLayers: [],
      extraVars: { vars: { inventory_hostname: 'evil' } },
      magic: { ...magic, play_hosts: ['web1'], ansible_check_mode: true },
    });
    expect(s.get('inventory_hostname')).to.equal('web1');
    expect(evaluate('groups.web.includes(inventory_hostname) && ansible_check_mode && play_hosts.length', s)).to.equal(1);
  });

  describe('hostvars', () => {
    function cluster() {
      const built: string[] = [];
      const hostScope = (host: string): Scope | undefined => {
        if (!magic.groups.all.includes(host)) return undefined;
        built.push(host);
        return buildScope({
          inventoryLayers: [layerAt('inventoryHostVars', { vars: { ip: host === 'db1' ? '10.0.0.9' : '10.0.0.5', dsn: 'pg://{{ ip }}', pw: secret(`pw-${host}`) } })],
          magic: { ...magic, inventory_hostname: host, hostvars: hostScope },
        });
      };
      return { built, scope: hostScope('web1')!, hostScope };
    }

    it('builds another host\'s scope only when it is read, and renders in that host\'s scope', () => {
      const { built, scope } = cluster();
      expect(built).to.deep.equal(['web1']);
      expect(evaluate('hostvars.db1.dsn', scope)).to.equal('pg://10.0.0.9');
      expect(built).to.deep.equal(['web1', 'db1']);
      evaluate("hostvars['db1'].ip", scope);
      expect(built).to.deep.equal(['web1', 'db1']); // cached
      expect(evaluate("Object.keys(hostvars)", scope)).to.deep.equal(['web1', 'db1']);
      expect(evaluate("'db1' in hostvars && !('x' in hostvars)", scope)).to.equal(true);
    });

    it('reports an unknown host with a suggestion', () => {
      const { scope } = cluster();
      expect(() => evaluate('hostvars.db2.ip', scope)).to.throw(ExprError, "hostvars: no host named 'db2'");
    });

    it('stops a cycle through hostvars with an error naming the hosts', () => {
      const hostScope = (host: string): Scope =>
        buildScope({
          inventoryLayers: [layerAt('inventoryHostVars', { vars: { x: `{{ hostvars.${host === 'web1' ? 'db1' : 'web1'}.x }}` } })],
          magic: { ...magic, inventory_hostname: host, hostvars: hostScope },
        });
      expect(() => hostScope('web1').get('x')).to.throw(ExprError, /cycle: hostvars\.web1\.x -> hostvars\.db1\.x -> .* -> \.\.\./);
    });

    it('records secrets read through hostvars in the reading scope', () => {
      const { scope } = cluster();
      expect(render('{{ hostvars.db1.pw }}', scope)).to.equal('pw-db1');
      expect(scope.secretsUsed.has('pw-db1')).to.equal(true);
    });
  });
});
