/**
 * Does the firewall admit a port from outside? Two paths, because Docker-published ports never
 * reach ufw:
 *
 *   a socket of the host (and a `network_mode: host` container)   -> INPUT: ufw's rules, or the
 *                                                                    INPUT chain when ufw is off
 *   a port published by Docker (DNAT in nat/PREROUTING)           -> FORWARD: DOCKER-USER, then
 *                                                                    Docker's own ACCEPT
 *
 * ufw rules are evaluated the way ufw orders them (first match wins, then the default incoming
 * policy); ufw's before.rules (loopback, DHCP, ICMP, established) are not. DOCKER-USER rules are
 * read in the form docker-firewall writes them (`--ctorigdstport`, `-s`, `-i`, RETURN/DROP).
 * Pure functions, no I/O.
 */
import type { UfwRule } from '../facts/ufw.js';

/** yes: anyone outside can connect; restricted: some sources only; no: blocked; unknown: could not tell. */
export type Admission = 'yes' | 'restricted' | 'no' | 'unknown';

export interface Verdict {
  admits: Admission;
  /** Short reason: "ufw: allow 22/tcp", "ufw: default deny incoming", "DOCKER-USER: -j RETURN". */
  reason: string;
}

/** ufw's `dport` (`any`, `22`, `6000:6007`, `80,443`) contains `port`. */
export function portInList(list: string, port: number): boolean {
  if (list === 'any') return true;
  return list.split(',').some((item) => {
    const [lo, hi] = item.split(':').map(Number);
    return port >= lo! && port <= (hi ?? lo!);
  });
}

const anywhere = (a: string) => a === '0.0.0.0/0' || a === '::/0';

/** ufw's text for a rule: "allow 22/tcp", "allow 8080/tcp from 10.0.0.0/8". */
export function ufwRuleText(r: UfwRule): string {
  const port = r.dport === 'any' ? 'any port' : `${r.dport}${r.proto === 'any' ? '' : `/${r.proto}`}`;
  return `${r.action} ${port}${anywhere(r.src) ? '' : ` from ${r.src}`}${anywhere(r.dst) ? '' : ` to ${r.dst}`}`;
}

/**
 * The first incoming ufw rule that matches proto/port (on any interface, to any or this address),
 * as ufw would apply it; undefined when none does.
 */
export function matchUfw(rules: UfwRule[], proto: string, port: number, opts: { v6?: boolean; address?: string } = {}): UfwRule | undefined {
  for (const r of rules) {
    if (r.route || r.direction !== 'in' || r.interfaceIn !== '' || r.v6 !== (opts.v6 ?? false)) continue;
    if (r.proto !== 'any' && r.proto !== proto) continue;
    if (!portInList(r.dport, port)) continue;
    if (!anywhere(r.dst) && opts.address !== undefined && r.dst.replace(/\/(32|128)$/, '') !== opts.address) continue;
    if ((r.action === 'deny' || r.action === 'reject') && !anywhere(r.src)) continue; // blocks some sources only
    return r;
  }
  return undefined;
}

/** ufw's verdict for an incoming connection to proto/port. */
export function ufwVerdict(rules: UfwRule[], incoming: string, proto: string, port: number, opts: { v6?: boolean; address?: string } = {}): Verdict {
  const r = matchUfw(rules, proto, port, opts);
  if (r) {
    const ok = r.action === 'allow' || r.action === 'limit';
    return { admits: ok ? (anywhere(r.src) ? 'yes' : 'restricted') : 'no', reason: `ufw: ${ufwRuleText(r)}` };
  }
  return { admits: incoming === 'allow' ? 'yes' : incoming === '' ? 'unknown' : 'no', reason: `ufw: default ${incoming || '(unknown)'} incoming` };
}

/** Reads `-s`, `-i`, `-p`, `--ctorigdstport`/`--dport`, `--ctstate` and `-j` of an `iptables -S` line. */
function ruleWords(line: string): Record<string, string> {
  const w = line.trim().split(/\s+/);
  const out: Record<string, string> = {};
  for (let i = 0; i < w.length; i++) {
    const k = w[i]!;
    if (['-s', '-i', '-p', '--ctorigdstport', '--dport', '--ctstate', '-j', '--ctorigdst', '-d'].includes(k) && i + 1 < w.length) out[k] = w[++i]!;
  }
  return out;
}

/** DOCKER-USER's verdict for a connection to a published port (matched on the original destination port). */
export function dockerUserVerdict(rules: string[], proto: string, port: number): Verdict {
  for (const line of rules) {
    const r = ruleWords(line);
    if (r['--ctstate']) continue; // replies to connections already admitted
    if (r['-p'] && r['-p'] !== proto) continue;
    const p = r['--ctorigdstport'] ?? r['--dport'];
    if (p && !portInList(p, port)) continue;
    const text = `DOCKER-USER: ${line.replace(/^-A DOCKER-USER /, '')}`;
    const target = r['-j'] ?? '';
    if (target === 'RETURN' || target === 'ACCEPT') return { admits: r['-s'] || r['-i'] ? 'restricted' : 'yes', reason: text };
    if (target === 'DROP' || target === 'REJECT') {
      if (r['-s']) continue;
      return { admits: 'no', reason: text };
    }
    return { admits: 'unknown', reason: `${text} (not evaluated)` };
  }
  return { admits: 'yes', reason: 'DOCKER-USER: no rule matches (Docker accepts published ports)' };
}
