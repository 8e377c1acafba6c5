/**
 * install-ufw against the real ufw, in a throwaway network namespace (never the machine's own
 * firewall): what the plan predicts (`assume`) is what ufw then reports, rule order included,
 * and a second run changes nothing. Skipped without root, ufw or namespaces.
 */
import { expect } from 'chai';
import type { PlanChange } from '../../../src/core/module.js';
import { parseUfwState, ufwState, type UfwStateFact } from '../../../src/facts/ufw.js';
import installUfw from '../../../src/modules/ufw/install-ufw.js';
import { describeRule, groupTuples } from '../../../src/modules/ufw/lib/ufw-rules.js';
import { applyPlan, planOn } from '../../helpers/drive.js';
import { NetnsSandbox, unavailable } from '../../helpers/netns-sandbox.js';

const why = unavailable(['ufw', 'iptables']);

describe('install-ufw on a real ufw (network namespace)', function () {
  this.timeout(120_000);
  let box: NetnsSandbox;
  const run = (script: string, stdin?: string) => box.run(script, stdin);
  const state = (): UfwStateFact => parseUfwState(run(ufwState().command));
  const lines = (s: UfwStateFact) => groupTuples(s.rules).map((g) => describeRule(g));

  before(function () {
    if (why) this.skip();
    box = new NetnsSandbox();
    box.withUfwCopy().start();
  });
  after(() => box?.stop());

  /** Plans, applies, checks the prediction against ufw's files, and that a second plan is a noop. */
  function converge(params: Record<string, unknown>): PlanChange {
    const plan = planOn(installUfw, params, run);
    if ('failed' in plan) throw new Error(plan.msg);
    expect(plan.changed, 'first run changes something').to.equal(true);
    applyPlan(plan, run);
    const predicted = (plan as PlanChange).assume!['ufw:state'] as UfwStateFact;
    const actual = state();
    expect(lines(actual)).to.deep.equal(lines(predicted));
    expect(actual.rules).to.deep.equal(predicted.rules);
    expect(actual.policies).to.deep.equal(predicted.policies);
    expect(actual.logLevel).to.equal(predicted.logLevel);
    expect(actual.enabled).to.equal(predicted.enabled);
    expect(actual.active).to.equal(predicted.active);
    const again = planOn(installUfw, params, run);
    expect(again, 'second run').to.include({ changed: false });
    return plan as PlanChange;
  }

  const base = [
    { action: 'limit', port: '22/tcp', comment: "ssh: keep first" },
    { action: 'allow', port: '80,443/tcp' },
    { action: 'allow', port: 9100, proto: 'tcp', from: '10.20.1.1/16' },
    { action: 'allow', port: '6000:6007/udp' },
    { action: 'allow', route: true, interface_in: 'eth0', interface_out: 'docker0', to: '172.17.0.2', port: '80/tcp' },
    { action: 'deny', direction: 'out', port: 25 },
    { action: 'allow', interface: 'lo' },
  ];

  it('enables a fresh ufw with the declared rules, SSH first', () => {
    const plan = converge({ rules: base, exclusive: true });
    expect(plan.changes[0]).to.equal('add limit 22/tcp  # ssh: keep first');
    expect(plan.changes.at(-1)).to.equal('enable ufw');
    expect(state().active).to.equal(true);
    expect(run('iptables -S ufw-user-input').stdout).to.match(/--dport 22 .*ufw-user-limit/);
  });

  it('inserts new rules where they are declared (first match wins)', () => {
    const rules = [
      base[0],
      { action: 'deny', from: '203.0.113.0/24' },
      { action: 'reject', from: '2001:db8::/32', port: 443, proto: 'tcp' },
      ...base.slice(1, 3),
      { action: 'allow', port: 8443, proto: 'tcp', comment: 'both families, in the middle' },
      ...base.slice(3),
    ];
    const plan = converge({ rules, exclusive: true });
    expect(plan.steps.map((s) => (s.kind === 'exec' ? s.cmd : '')).join('\n')).to.include('ufw insert 2 deny');
    // ufw lists IPv4 rules, then IPv6 rules; declared order holds within each.
    const v4 = groupTuples(state().rules.filter((t) => !t.v6)).map((g) => describeRule(g, false));
    const v6 = groupTuples(state().rules.filter((t) => t.v6)).map((g) => describeRule(g, false));
    expect(v4.slice(0, 5)).to.deep.equal(['limit 22/tcp  # ssh: keep first', 'deny from 203.0.113.0/24', 'allow 80,443/tcp', 'allow 9100/tcp from 10.20.0.0/16', 'allow 8443/tcp  # both families, in the middle']);
    expect(v6.slice(0, 4)).to.deep.equal(['limit 22/tcp  # ssh: keep first', 'reject 443/tcp from 2001:db8::/32', 'allow 80,443/tcp', 'allow 8443/tcp  # both families, in the middle']);
  });

  it('updates a rule in place when only its action, logging or comment changes', () => {
    const rules = [base[0], { action: 'deny', port: '80,443/tcp', log: true }, ...base.slice(2)];
    const plan = converge({ rules, exclusive: true });
    expect(plan.changes).to.include('update allow 80,443/tcp -> deny 80,443/tcp log');
    expect(lines(state())[1]).to.equal('deny 80,443/tcp log');
  });

  it('removes undeclared rules, including ones added by hand and application rules', () => {
    expect(run("ufw allow 8080/tcp && ufw allow from 192.0.2.1 to any app OpenSSH && ufw route allow out on eth1").code).to.equal(0);
    const plan = converge({ rules: base.slice(0, 4), exclusive: true });
    expect(plan.changes).to.include.members(['remove allow 8080/tcp', 'remove allow app OpenSSH from 192.0.2.1', 'remove route allow out on eth1']);
    expect(lines(state())).to.deep.equal(["limit 22/tcp  # ssh: keep first", 'allow 80,443/tcp', 'allow 9100/tcp from 10.20.0.0/16', 'allow 6000:6007/udp']);
  });

  it('changes policies and logging on an active firewall', () => {
    const plan = converge({ rules: base.slice(0, 4), exclusive: true, default_outgoing: 'deny', default_routed: 'reject', logging: 'medium' });
    expect(plan.changes).to.deep.equal(['default outgoing: allow -> deny', 'default routed: deny -> reject', 'logging: low -> medium']);
    expect(run('iptables -S OUTPUT').stdout).to.include('-P OUTPUT DROP');
  });

  it('opens ESP (IP protocol 50, no ports) from a network, from anywhere and from an IPv6 network', () => {
    const rules = [base[0], { action: 'allow', proto: 'esp', from: '10.0.9.0/24', comment: 'swarm overlay' }, { action: 'allow', proto: 'esp', from: '2001:db8::/32' }, { action: 'deny', proto: 'esp' }];
    const plan = converge({ rules, exclusive: true });
    expect(plan.changes).to.include.members(['add allow proto esp from 10.0.9.0/24  # swarm overlay', 'add allow proto esp from 2001:db8::/32', 'add deny proto esp']);
    expect(run('iptables -S ufw-user-input').stdout).to.match(/-s 10\.0\.9\.0\/24 -p esp -j ACCEPT/);
    expect(run('ip6tables -S ufw6-user-input').stdout).to.match(/-s 2001:db8::\/32 -p esp -j ACCEPT/);
  });

  it('keeps undeclared rules without exclusive, and disables', () => {
    expect(run('ufw allow 5000/tcp').code).to.equal(0);
    converge({ rules: [base[0]], state: 'disabled' });
    expect(lines(state())).to.include('allow 5000/tcp');
    expect(state().active).to.equal(false);
  });

  it('predicts where ufw puts rules, for random declarations (seeded)', () => {
    const pool = [
      { action: 'allow', port: '80/tcp' },
      { action: 'deny', port: 23 },
      { action: 'allow', port: '8443/tcp', comment: 'alt https' },
      { action: 'reject', port: '3000:3010/udp' },
      { action: 'allow', from: '10.0.0.0/8', port: '9100/tcp' },
      { action: 'deny', from: '203.0.113.0/24' },
      { action: 'allow', to: '192.0.2.10', port: '80/tcp' },
      { action: 'allow', from: '2001:db8::/32', port: '9100/tcp' },
      { action: 'deny', from: '2001:db8:bad::/48' },
      { action: 'allow', route: true, interface_in: 'eth0', port: '8080/tcp' },
    ];
    let seed = 20240611;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let inserts = 0;
    for (let round = 0; round < 8; round++) {
      const picked = pool.filter(() => rand(3) > 0);
      for (let i = picked.length - 1; i > 0; i--) {
        const j = rand(i + 1);
        [picked[i], picked[j]] = [picked[j]!, picked[i]!];
      }
      const rules = [{ action: 'allow', port: '22/tcp' }, ...picked];
      const plan = planOn(installUfw, { rules, exclusive: rand(2) === 0 }, run);
      if ('failed' in plan) throw new Error(plan.msg);
      if (!plan.changed) continue;
      applyPlan(plan, run);
      const predicted = plan.assume!['ufw:state'] as UfwStateFact;
      expect(state().rules, `round ${round}: ${plan.changes.join('; ')}`).to.deep.equal(predicted.rules);
      expect(planOn(installUfw, { rules, exclusive: false }, run), `round ${round}, second run`).to.include({ changed: false });
      inserts += plan.steps.map((s) => (s.kind === 'exec' ? (s.cmd.match(/ufw (route )?insert/g) ?? []).length : 0)).reduce((a, b) => a + b, 0);
    }
    expect(inserts, 'the rounds exercised ufw insert').to.be.greaterThan(2);
  });

  it('places both halves of a new "any" rule before the next declared rule of each family', () => {
    const v6denies = ['2001:db8:bad::/48', '2001:db8:1::/48', '2001:db8:2::/48'].map((from) => ({ action: 'deny', from }));
    converge({ rules: [{ action: 'allow', port: '22/tcp' }, ...v6denies, { action: 'allow', port: '80/tcp' }], exclusive: true });
    // Inserting at the IPv4 position of "allow 80/tcp" would make ufw put the IPv6 half at IPv6
    // position 2 (its arithmetic subtracts the IPv4 count); the IPv6 position places both right.
    converge({ rules: [{ action: 'allow', port: '22/tcp' }, ...v6denies, { action: 'allow', port: '8443/tcp' }, { action: 'allow', port: '80/tcp' }], exclusive: true });
    const family = (v6: boolean) => groupTuples(state().rules.filter((t) => t.v6 === v6)).map((g) => describeRule(g, false));
    expect(family(false)).to.deep.equal(['allow 22/tcp', 'allow 8443/tcp', 'allow 80/tcp']);
    expect(family(true)).to.deep.equal(['allow 22/tcp', 'deny from 2001:db8:bad::/48', 'deny from 2001:db8:1::/48', 'deny from 2001:db8:2::/48', 'allow 8443/tcp', 'allow 80/tcp']);
  });
});
