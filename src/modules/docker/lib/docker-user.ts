/**
 * docker-firewall's content: the DOCKER-USER rules (written exactly as `iptables -S` prints
 * them, so the chain on the host compares line by line), the script that loads them and the
 * systemd unit that runs the script.
 *
 * Why DOCKER-USER: Docker publishes a port with a DNAT rule in nat/PREROUTING and accepts the
 * forwarded packet in its own FORWARD chains; the packet never reaches INPUT, where ufw's rules
 * are. The FORWARD chain jumps to DOCKER-USER first, and Docker never touches that chain's
 * rules. By then the destination is already the container's address and port, so published
 * ports are matched on the connection's ORIGINAL destination (`-m conntrack --ctorigdstport`).
 * "Allow" is RETURN, not ACCEPT: the packet goes back to Docker's own rules, which still
 * enforce network isolation.
 */
import { canonicalCidr, parseCidr } from '../../lib/ip.js';
import { parsePort } from '../../lib/validators.js';

export const SCRIPT_PATH = '/usr/local/sbin/tsplay-docker-user';
export const UNIT_NAME = 'tsplay-docker-user.service';
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;
export const CHAIN = 'DOCKER-USER';

export interface AllowEntry {
  port?: number | string;
  proto?: 'tcp' | 'udp';
  from?: string | string[];
  to?: string;
  comment?: string;
}

export interface ChainSpec {
  allow: AllowEntry[];
  externalInterface: string;
  policy: 'drop' | 'reject';
}

export interface ChainRule {
  /** As `iptables -S` prints it. */
  line: string;
  /** Comment written above the rule in the script. */
  note: string;
}

/** The address as iptables prints it after `-s`: network bits only, always with a prefix. */
function sourceText(text: string): string {
  const c = parseCidr(text);
  if (typeof c === 'string') throw new Error(c);
  return canonicalCidr(c, { zeroHostBits: true, keepHostPrefix: true });
}

/** The address as iptables prints it after `--ctorigdst`: no /32 for a single address. */
function conntrackAddress(text: string): string {
  const c = parseCidr(text);
  if (typeof c === 'string') throw new Error(c);
  return canonicalCidr(c, { zeroHostBits: true });
}

export const RETURN_ALL = `-A ${CHAIN} -j RETURN`;

/** The chain, in order: replies, declared ports, the drop on the external interface, RETURN. */
export function chainRules(spec: ChainSpec): ChainRule[] {
  const rules: ChainRule[] = [
    { line: `-A ${CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`, note: 'let replies to connections already allowed through' },
  ];
  for (const a of spec.allow) {
    const sources = a.from === undefined ? [undefined] : (Array.isArray(a.from) ? a.from : [a.from]).map((f) => (f === 'any' ? undefined : f));
    const port = a.port === undefined ? undefined : parsePort(a.port);
    if (typeof port === 'string') throw new Error(port);
    const proto = a.proto ?? port?.proto ?? 'tcp';
    const ranges = port ? port.ports.split(',') : [undefined];
    for (const src of sources) {
      for (const r of ranges) {
        const words = [`-A ${CHAIN}`];
        if (src) words.push(`-s ${sourceText(src)}`);
        if (r !== undefined) {
          words.push(`-p ${proto} -m conntrack`);
          if (a.to) words.push(`--ctorigdst ${conntrackAddress(a.to)}`);
          words.push(`--ctorigdstport ${r}`);
        } else if (a.to) words.push(`-m conntrack --ctorigdst ${conntrackAddress(a.to)}`);
        words.push('-j RETURN');
        const what = r !== undefined ? `port ${r}/${proto}` : 'every port';
        const note = `allow ${what}${a.to ? ` on ${a.to}` : ''} from ${src ?? 'anywhere'}${a.comment ? ` (${a.comment})` : ''}`;
        rules.push({ line: words.join(' '), note });
      }
    }
  }
  const target = spec.policy === 'reject' ? 'REJECT --reject-with icmp-port-unreachable' : 'DROP';
  rules.push({ line: `-A ${CHAIN} -i ${spec.externalInterface} -j ${target}`, note: `${spec.policy} everything else arriving on ${spec.externalInterface} for a container` });
  rules.push({ line: RETURN_ALL, note: "hand other traffic (containers' own, internal interfaces) back to Docker's rules" });
  return rules;
}

/**
 * Compares rule lines as iptables means them: addresses normalized (`1.2.3.4/32` and
 * `1.2.3.4` are the same source), blanks collapsed.
 */
export function normalizeLine(line: string): string {
  const words = line.trim().split(/\s+/);
  return words
    .map((w, i) => {
      const opt = words[i - 1];
      if (opt === '-s' || opt === '-d' || opt === '--ctorigdst' || opt === '--ctorigsrc') {
        const c = parseCidr(w);
        return typeof c === 'string' ? w : canonicalCidr(c, { zeroHostBits: true });
      }
      return w;
    })
    .join(' ');
}

export function sameRules(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((l, i) => normalizeLine(l) === normalizeLine(b[i]!));
}

/** iptables-restore input that replaces only DOCKER-USER (in one transaction). */
export function restoreInput(rules: ChainRule[]): string {
  const body = rules.flatMap((r) => (r.note ? [`# ${r.note}`, r.line] : [r.line]));
  return ['*filter', `:${CHAIN} - [0:0]`, ...body, 'COMMIT', ''].join('\n');
}

/** The script the unit runs: rebuilds DOCKER-USER atomically. */
export function renderScript(rules: ChainRule[]): string {
  return [
    '#!/bin/sh',
    '# Managed by tsplay (docker-firewall): do not edit; change the playbook and run it again.',
    '#',
    '# Rebuilds the DOCKER-USER chain in ONE iptables-restore transaction: --noflush keeps every',
    '# other chain (Docker\'s, ufw\'s), and the ":DOCKER-USER" line empties only this chain inside',
    '# the same transaction, so there is never a moment where the chain is empty and published',
    '# ports are open.',
    'set -eu',
    "iptables-restore -w 10 --noflush <<'TSPLAY_RULES'",
    restoreInput(rules).trimEnd(),
    'TSPLAY_RULES',
    '',
  ].join('\n');
}

/**
 * The unit. Ordered Before=docker.service so that at boot the chain is filled before dockerd
 * publishes any port (dockerd keeps an existing DOCKER-USER chain and its rules; it only adds
 * the FORWARD jump). PartOf=docker.service restarts it, re-applying the rules, whenever Docker
 * is restarted. WantedBy=docker.service pulls it in whenever Docker starts, also when Docker is
 * installed after this unit.
 */
export function renderUnit(): string {
  return [
    '# Managed by tsplay (docker-firewall): do not edit.',
    '[Unit]',
    'Description=Firewall for Docker-published ports (DOCKER-USER chain, managed by tsplay)',
    'Documentation=https://docs.docker.com/engine/network/packet-filtering-firewalls/',
    'Before=docker.service',
    'PartOf=docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${SCRIPT_PATH}`,
    '',
    '[Install]',
    'WantedBy=docker.service multi-user.target',
    '',
  ].join('\n');
}
