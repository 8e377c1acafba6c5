/**
 * install-ufw's "never lock out" check: would ufw, with a given rule list and default incoming
 * policy, let a NEW TCP connection to the SSH port through? Walks the incoming rules the way
 * ufw's ufw-user-input chain does (first match wins, then the policy), conservatively:
 *
 * - an allow (or limit) rule counts only when it surely matches: any source (or one containing
 *   the controller's address, when known), no destination address, no interface, no source port
 *   — tsplay cannot tell which address or interface the connection arrives on;
 * - a deny or reject rule that might match blocks.
 */
import type { UfwPolicy, UfwRule } from '../../../facts/ufw.js';
import { cidrContains, parseCidr, type Cidr } from '../../lib/ip.js';
import { parsePort, portMatches } from '../../lib/validators.js';
import { describeRule, isAnywhere } from './ufw-rules.js';

export interface SshProbe {
  port: number;
  /** The controller's address as the host sees it; undefined when unknown (then: from anywhere). */
  controller?: Cidr;
}

export type Verdict =
  | { allowed: true; by: string }
  | { allowed: false; by: string; ignored: string[]; /** The deny or reject rule that blocks, if a rule does. */ rule?: UfwRule };

type Match = { m: 'never' } | { m: 'always' } | { m: 'maybe'; why: string };

/** How surely a rule matches a new SSH connection from the controller, and why only maybe. */
export function sshMatch(t: UfwRule, probe: SshProbe): Match {
  if (t.route || t.direction !== 'in') return { m: 'never' };
  if (t.proto !== 'tcp' && t.proto !== 'any') return { m: 'never' };
  if (t.dport !== 'any') {
    const spec = parsePort(t.dport);
    if (typeof spec === 'string' || !portMatches(spec, probe.port)) return { m: 'never' };
  }
  if (!isAnywhere(t.src)) {
    const net = parseCidr(t.src);
    if (typeof net === 'string') return { m: 'maybe', why: 'a source tsplay cannot read' };
    if (!probe.controller) return { m: 'maybe', why: "tsplay does not know the controller's address" };
    if (!cidrContains(net, probe.controller)) return { m: 'never' };
  }
  if (t.interfaceIn !== '') return { m: 'maybe', why: 'tsplay cannot tell which interface the connection arrives on' };
  if (!isAnywhere(t.dst)) return { m: 'maybe', why: 'tsplay cannot tell which address the connection is made to' };
  if (t.sport !== 'any') return { m: 'maybe', why: "the client's source port is not fixed" };
  return { m: 'always' };
}

/** The verdict for one IP family's rule list. */
export function sshVerdict(rules: UfwRule[], policy: UfwPolicy | '', probe: SshProbe): Verdict {
  const ignored: string[] = [];
  for (const t of rules) {
    const r = sshMatch(t, probe);
    if (r.m === 'never') continue;
    const text = describeRule([t], false);
    if (t.action === 'allow' || t.action === 'limit') {
      if (r.m === 'always') return { allowed: true, by: `rule "${text}"` };
      ignored.push(`"${text}" (${r.why})`);
    } else {
      return { allowed: false, by: `rule "${text}", which comes before any rule that surely allows SSH`, ignored, rule: t };
    }
  }
  if (policy === 'allow') return { allowed: true, by: 'the default incoming policy (allow)' };
  return { allowed: false, by: `the default incoming policy (${policy || 'unset'}), as no rule allows it`, ignored };
}

/** The rules that could decide the fate of an SSH connection, with the policy: equal means "SSH is treated the same". */
export function sshRelevant(rules: UfwRule[], policy: string, probe: SshProbe): string {
  return JSON.stringify([policy, rules.filter((t) => sshMatch(t, probe).m !== 'never')]);
}
