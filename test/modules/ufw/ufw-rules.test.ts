/**
 * install-ufw's pure pieces, case by case: how declared rules become ufw's tuples and commands,
 * and how the SSH check reads a rule list. (Whole plans are in the install-ufw fixtures; the
 * commands are checked against the real ufw in ufw-real.test.ts.)
 */
import { expect } from 'chai';
import { parseTuple, type UfwRule } from '../../../src/facts/ufw.js';
import { parseCidr, type Cidr } from '../../../src/modules/lib/ip.js';
import { sshVerdict } from '../../../src/modules/ufw/lib/ufw-lockout.js';
import { describeRule, groupTuples, ruleSchema, ruleTuples, ufwCommand } from '../../../src/modules/ufw/lib/ufw-rules.js';

const rule = (r: unknown) => ruleTuples(ruleSchema.parse(r), true);
const tuple = (line: string, v6 = false): UfwRule => {
  const t = parseTuple(`### tuple ### ${line}`, v6);
  if (typeof t === 'string') throw new Error(t);
  return t;
};
const addr = (s: string) => parseCidr(s) as Cidr;

describe('install-ufw rules', () => {
  it('stores an "any" rule for both families and an addressed rule for its own', () => {
    expect(rule({ action: 'allow', port: '22/tcp' }).map((t) => [t.v6, t.src])).to.deep.equal([
      [false, '0.0.0.0/0'],
      [true, '::/0'],
    ]);
    expect(rule({ action: 'allow', from: '10.1.2.3/8' }).map((t) => [t.v6, t.src])).to.deep.equal([[false, '10.0.0.0/8']]);
    expect(rule({ action: 'allow', to: '2001:DB8::5' }).map((t) => [t.v6, t.dst])).to.deep.equal([[true, '2001:db8::5']]);
    // As in ufw, 0.0.0.0/0 written out pins the rule to IPv4.
    expect(rule({ action: 'allow', from: '0.0.0.0/0', port: 53, proto: 'udp' }).map((t) => t.v6)).to.deep.equal([false]);
    expect(ruleTuples(ruleSchema.parse({ action: 'allow', port: 22 }), false)).to.have.length(1);
  });

  it('reads the same as the tuple ufw writes for it', () => {
    expect(rule({ action: 'limit', port: 22, proto: 'tcp', comment: 'ssh' })[0]).to.deep.equal(tuple('limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368'));
    expect(rule({ action: 'deny', direction: 'out', port: 25 })[1]).to.deep.equal(tuple('deny any 25 ::/0 any ::/0 out', true));
    expect(rule({ action: 'allow', route: true, interface_in: 'eth0', interface_out: 'docker0', to: '172.17.0.2', port: '80/tcp' })[0]).to.deep.equal(
      tuple('route:allow tcp 80 172.17.0.2 any 0.0.0.0/0 in_eth0!out_docker0'),
    );
    expect(rule({ action: 'allow', route: true, interface_out: 'eth1', log: 'all' })[0]).to.deep.equal(tuple('route:allow_log-all any any 0.0.0.0/0 any 0.0.0.0/0 out_eth1'));
    expect(rule({ action: 'reject', interface: 'eth0', from: '2001:db8::/32' })[0]).to.deep.equal(tuple('reject any any ::/0 any 2001:db8::/32 in_eth0', true));
  });

  it('describes rules the way check mode lists them', () => {
    const d = (r: unknown) => describeRule(rule(r));
    expect(d({ action: 'allow', port: 80, proto: 'tcp', from: '10.0.0.0/8' })).to.equal('allow 80/tcp from 10.0.0.0/8');
    expect(d({ action: 'deny', direction: 'out', port: 25 })).to.equal('deny out 25');
    expect(d({ action: 'allow', interface: 'lo' })).to.equal('allow on lo');
    expect(d({ action: 'allow' })).to.equal('allow all');
    expect(d({ action: 'allow', proto: 'udp', from_port: 53 })).to.equal('allow proto udp from any port 53');
    expect(d({ action: 'limit', port: '22/tcp', comment: 'ssh' })).to.equal('limit 22/tcp  # ssh');
    expect(describeRule([tuple('allow udp 53 0.0.0.0/0 any 0.0.0.0/0 in')])).to.equal('allow 53/udp (IPv4 only)');
  });

  it('writes ufw commands that act on the right families', () => {
    expect(ufwCommand(rule({ action: 'allow', port: '22/tcp' }), { kind: 'add' })).to.equal('ufw allow in proto tcp from any to any port 22');
    expect(ufwCommand(rule({ action: 'allow', port: '22/tcp' }).slice(0, 1), { kind: 'delete' })).to.equal('ufw delete allow in proto tcp from 0.0.0.0/0 to 0.0.0.0/0 port 22');
    expect(ufwCommand(rule({ action: 'deny', from: '203.0.113.0/24' }), { kind: 'insert', position: 2 })).to.equal('ufw insert 2 deny in from 203.0.113.0/24 to 0.0.0.0/0');
    expect(ufwCommand(rule({ action: 'allow', port: 22, proto: 'tcp', comment: 'ops; rm -rf /' }), { kind: 'add' })).to.equal(
      "ufw allow in proto tcp from any to any port 22 comment 'ops; rm -rf /'",
    );
  });

  it('groups the IPv4 and IPv6 halves of a rule found on the host', () => {
    const groups = groupTuples([
      tuple('allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in'),
      tuple('allow tcp 80 0.0.0.0/0 any 10.0.0.0/8 in'),
      tuple('allow tcp 22 ::/0 any ::/0 in', true),
      tuple('allow tcp 22 ::/0 any ::/0 in comment=78', true),
    ]);
    expect(groups.map((g) => g.tuples.length)).to.deep.equal([2, 1, 1]);
  });
});

describe('install-ufw SSH check', () => {
  const rules = (...lines: string[]) => lines.map((l) => tuple(l));
  const probe = { port: 22 };

  it('counts the first sure match; limit allows', () => {
    expect(sshVerdict(rules('limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in'), 'deny', probe)).to.deep.include({ allowed: true });
    expect(sshVerdict(rules('allow tcp 20:30 0.0.0.0/0 any 0.0.0.0/0 in'), 'deny', probe)).to.deep.include({ allowed: true });
    expect(sshVerdict(rules('allow any any 0.0.0.0/0 any 0.0.0.0/0 in'), 'deny', probe)).to.deep.include({ allowed: true });
    expect(sshVerdict([], 'allow', probe)).to.deep.include({ allowed: true });
  });

  it('ignores rules that cannot match SSH', () => {
    const v = sshVerdict(rules('deny udp 22 0.0.0.0/0 any 0.0.0.0/0 in', 'deny tcp 23 0.0.0.0/0 any 0.0.0.0/0 in', 'deny any 22 0.0.0.0/0 any 0.0.0.0/0 out', 'route:deny any any 0.0.0.0/0 any 0.0.0.0/0 in', 'allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in'), 'deny', probe);
    expect(v).to.deep.include({ allowed: true });
  });

  it('uses the controller address when it is known', () => {
    const list = rules('deny any any 0.0.0.0/0 any 203.0.113.0/24 in', 'allow tcp 22 0.0.0.0/0 any 10.0.0.0/8 in');
    expect(sshVerdict(list, 'deny', { port: 22, controller: addr('10.9.9.9') })).to.deep.include({ allowed: true });
    expect(sshVerdict(list, 'deny', { port: 22, controller: addr('203.0.113.9') })).to.deep.include({ allowed: false });
    expect(sshVerdict(list, 'deny', { port: 22 })).to.deep.include({ allowed: false });
  });

  it('does not count allows it cannot be sure of, and says why', () => {
    const v = sshVerdict(rules('allow tcp 22 10.0.0.1 any 0.0.0.0/0 in', 'allow tcp 22 0.0.0.0/0 1024:65535 0.0.0.0/0 in'), 'deny', probe);
    expect(v.allowed).to.equal(false);
    if (v.allowed) return;
    expect(v.ignored).to.deep.equal([
      '"allow 22/tcp to 10.0.0.1" (tsplay cannot tell which address the connection is made to)',
      '"allow 22/tcp from any port 1024:65535" (the client\'s source port is not fixed)',
    ]);
  });
});
