/**
 * Variable precedence of inventory sources, the way Ansible orders them:
 * all < groups (depth, then ansible_group_priority, then name) < group_vars/all (inventory, then
 * playbook) < group_vars/<group> (inventory, then playbook) < host inline < host_vars (inventory,
 * then playbook). Fixture: test/fixtures/inventory/precedence/{inventory,playbook}.
 */
import { expect } from 'chai';
import { Diagnostics } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { isSecret } from '../../src/core/secret.js';

const fx = 'test/fixtures/inventory/precedence';
const load = (withPlaybook = true) =>
  loadInventory([`${fx}/inventory/hosts.yml`], withPlaybook ? { playbookDir: `${fx}/playbook` } : {});

describe('inventory: variable precedence', () => {
  const vars = load().hostVars('web1').vars;

  it('a child group overrides its parent, which overrides all', () => {
    expect(load(false).hostVars('web2').vars.level).to.equal('web_eu-inline');
  });

  it('groups at the same depth apply in name order (blue over apple)', () => {
    expect(vars.tie).to.equal('blue');
  });

  it('ansible_group_priority moves a group later among its depth (aa_high over apple), and is not a variable', () => {
    expect(vars.ranked).to.equal('aa_high');
    expect(vars).to.not.have.property('ansible_group_priority');
  });

  it('group_vars files override inline group vars, inventory-adjacent first, then playbook-adjacent', () => {
    expect(load(false).hostVars('web2').vars.http_port).to.equal(81);
    expect(vars.http_port).to.equal(82);
  });

  it('group_vars/all of the playbook is still below any inventory group_vars/<group> (Ansible order)', () => {
    expect(vars.gv_all).to.equal('playbook');
    expect(vars.over_all).to.equal('inventory-web');
  });

  it('a group_vars folder merges its files in name order, ignoring other extensions', () => {
    expect(vars.eu).to.equal('base');
    expect(vars.eu2).to.equal('more');
    expect(vars).to.not.have.property('ignored');
  });

  it('host inline vars override every group source; host_vars override those, playbook-adjacent last', () => {
    expect(vars.level).to.equal('host_vars-inventory');
    expect(vars.hv).to.equal('playbook');
    expect(vars.ansible_host).to.equal('10.0.0.1');
  });

  it('keeps !secret values as Secrets', () => {
    expect(isSecret(vars.secret_token)).to.equal(true);
  });

  it('lists every layer in precedence order, with files and positions', () => {
    const { layers } = load().hostVars('web1');
    expect(layers.map((l) => l.label)).to.deep.equal([
      'group all',
      'group apple',
      'group blue',
      'group web',
      'group aa_high',
      'group web_eu',
      'group_vars all',
      'group_vars all',
      'group_vars web',
      'group_vars web_eu',
      'group_vars web_eu',
      'group_vars web',
      'host web1',
      'host_vars web1',
      'host_vars web1',
    ]);
    const pbWeb = layers[11]!;
    expect(pbWeb.file).to.equal(`${fx}/playbook/group_vars/web.yml`);
    expect(pbWeb.pos!('http_port')).to.deep.equal({ file: pbWeb.file, line: 1, col: 12 });
    expect(layers[0]!.pos!('a_all')).to.deep.equal({ file: `${fx}/inventory/hosts.yml`, line: 4, col: 12 });
  });

  it('varSource names the winning file and position', () => {
    const s = load().varSource('web1', 'http_port')!;
    expect(s).to.deep.include({ value: 82, layer: 'group_vars' });
    expect(s.source).to.equal(`${fx}/playbook/group_vars/web.yml:1:12 (group_vars web)`);
  });

  it('warns (does not fail) about group_vars for a group that does not exist, with a did-you-mean', () => {
    const diags = new Diagnostics();
    loadInventory([`${fx}/inventory/hosts.yml`], { playbookDir: `${fx}/playbook`, diags });
    expect(diags.errors).to.deep.equal([]);
    expect(diags.warnings.map((w) => w.message)).to.deep.equal([
      "group_vars for group 'webb', which is not in the inventory (did you mean 'web'?); the file is ignored",
    ]);
    expect(diags.warnings[0]!.pos!.file).to.equal(`${fx}/playbook/group_vars/webb.yml`);
  });

  it('returns a copy of the variables: callers cannot change the inventory', () => {
    const inv = load();
    inv.hostVars('web1').vars.http_port = 1;
    expect(inv.hostVars('web1').vars.http_port).to.equal(82);
  });
});

describe('inventory: playbook folder given as an absolute path', () => {
  it('names its files relative to the current folder', () => {
    const inv = loadInventory([`${fx}/inventory/hosts.yml`], { playbookDir: `${process.cwd()}/${fx}/playbook` });
    expect(inv.varSource('web1', 'hv')!.source).to.equal(`${fx}/playbook/host_vars/web1.yml:1:5 (host_vars web1)`);
  });

  it('is read once when it is also the inventory folder', () => {
    const inv = loadInventory([`${fx}/inventory/hosts.yml`], { playbookDir: `${process.cwd()}/${fx}/inventory` });
    expect(inv.hostVars('web1').layers.filter((l) => l.label === 'host_vars web1')).to.have.length(1);
  });
});
