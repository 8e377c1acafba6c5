/**
 * install-ufw's rules: the declared rule (zod schema), its normal form (one `UfwRule` per IP
 * family, exactly what ufw writes as a `### tuple ###` line, so declared and reported rules
 * compare with ===), how a rule reads in check mode (`allow 80/tcp from 10.0.0.0/8`) and the
 * ufw command that adds, inserts or deletes it.
 */
import { z } from 'zod';
import type { UfwRule } from '../../../facts/ufw.js';
import { quote } from '../../../core/quote.js';
import { canonicalCidr, parseCidr, type Cidr } from '../../lib/ip.js';
import { addressParam, interfaceParam, parsePort, portParam } from '../../lib/validators.js';

export const ruleSchema = z
  .object({
    action: z.enum(['allow', 'deny', 'reject', 'limit']).describe('allow, deny (drop silently), reject (answer with an error) or limit (allow, but refuse an address that opens 6+ connections in 30 s)'),
    port: portParam
      .optional()
      .describe('Destination port, range or list, optionally with the protocol: 22, "22/tcp", "6000:6007/udp", "80,443/tcp". Omitted: every port'),
    proto: z
      .enum(['tcp', 'udp', 'esp', 'any'])
      .optional()
      .describe('Protocol; a range or list of ports needs tcp or udp; esp (IPsec ESP, IP protocol 50, used by encrypted Docker overlay networks) has no ports. Default: the /tcp or /udp suffix of port, else any'),
    from: addressParam.optional().describe('Source address or CIDR network (IPv4 or IPv6), or "any" (default)'),
    from_port: portParam.optional().describe('Source port, range or list (rarely needed)'),
    to: addressParam.optional().describe('Destination address or network, or "any" (default)'),
    direction: z.enum(['in', 'out']).optional().describe('Incoming (default) or outgoing traffic; not for route rules'),
    interface: interfaceParam().optional().describe('Only traffic arriving on (direction in) or leaving by (direction out) this interface: ufw\'s "on IFACE"'),
    route: z.boolean().default(false).describe('A routed (forwarded) traffic rule, `ufw route ...`, instead of traffic to this host'),
    interface_in: interfaceParam().optional().describe('Route rules: the interface routed traffic arrives on'),
    interface_out: interfaceParam().optional().describe('Route rules: the interface routed traffic leaves by'),
    log: z.union([z.boolean(), z.literal('all')]).default(false).describe('Log new connections matching the rule (true), or every packet ("all")'),
    comment: z
      .string()
      .regex(/^[^\x00-\x1f\x7f]*$/, 'a comment must be one line without control characters')
      .refine((c) => !c.includes("'"), { message: "ufw does not accept ' in comments" })
      .optional()
      .describe('Comment stored with the rule (shown by `ufw status`)'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const issue = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    const dport = r.port === undefined ? undefined : parsePort(r.port);
    const sport = r.from_port === undefined ? undefined : parsePort(r.from_port);
    if (typeof dport === 'string' || typeof sport === 'string') return; // reported by the field
    const suffixes = [dport?.proto, sport?.proto].filter((p): p is 'tcp' | 'udp' => p !== undefined);
    if (suffixes.length === 2 && suffixes[0] !== suffixes[1]) issue(`port says /${suffixes[0]} but from_port says /${suffixes[1]}`, 'from_port');
    if (r.proto === 'esp') {
      if (r.port !== undefined) issue('ESP has no ports (it is IP protocol 50, not TCP or UDP): remove port', 'port');
      if (r.from_port !== undefined) issue('ESP has no ports (it is IP protocol 50, not TCP or UDP): remove from_port', 'from_port');
    } else if (r.proto !== undefined && suffixes.some((s) => s !== r.proto)) {
      issue(`proto is ${r.proto} but the port says /${suffixes[0]}: give the protocol once`, 'proto');
    }
    const proto = r.proto ?? suffixes[0] ?? 'any';
    if (proto === 'any' && (dport?.multi || sport?.multi)) {
      issue(`a port range or list needs the protocol: write "${String(r.port ?? r.from_port)}/tcp" or set proto: tcp (or udp)`, dport?.multi ? 'port' : 'from_port');
    }
    const fam = (v: string | undefined) => (v === undefined || v === 'any' ? undefined : (parseCidr(v) as Cidr).family);
    const from = fam(r.from);
    const to = fam(r.to);
    if (from !== undefined && to !== undefined && from !== to) issue(`from is IPv${from} but to is IPv${to}: a rule is for one IP version`, 'to');
    if (r.route) {
      if (r.direction !== undefined) issue('route rules have no direction: use interface_in and/or interface_out', 'direction');
      if (r.interface !== undefined) issue('route rules use interface_in and/or interface_out, not interface', 'interface');
    } else {
      if (r.interface_in !== undefined) issue('interface_in is for route rules (route: true); use interface with direction in', 'interface_in');
      if (r.interface_out !== undefined) issue('interface_out is for route rules (route: true); use interface with direction out', 'interface_out');
    }
  });

export type RuleParams = z.output<typeof ruleSchema>;

/** One declared rule (or a rule found on the host) with its tuples, one per IP family. */
export interface RuleGroup {
  tuples: UfwRule[];
  /** Position in the declaration (-1 for rules found on the host). */
  index: number;
}

const ANY4 = '0.0.0.0/0';
const ANY6 = '::/0';
export const anywhere = (v6: boolean): string => (v6 ? ANY6 : ANY4);
export const isAnywhere = (addr: string): boolean => addr === ANY4 || addr === ANY6;

/** An address as ufw stores it: IPv4 networks with host bits cleared, no /32 or /128 for hosts. */
export function ufwAddress(text: string): { family: 4 | 6; text: string } {
  const c = parseCidr(text);
  if (typeof c === 'string') throw new Error(c);
  return { family: c.family, text: canonicalCidr(c, { zeroHostBits: c.family === 4 }) };
}

/**
 * The tuples ufw stores for a declared rule: one for IPv4 and, when IPv6 is on and no address
 * pins the rule to IPv4, one for IPv6. `from: 0.0.0.0/0` pins a rule to IPv4, as in ufw.
 */
export function ruleTuples(r: RuleParams, ipv6: boolean): UfwRule[] {
  const dport = r.port === undefined ? undefined : parsePort(r.port);
  const sport = r.from_port === undefined ? undefined : parsePort(r.from_port);
  if (typeof dport === 'string' || typeof sport === 'string') throw new Error('unvalidated port');
  const proto = r.proto ?? dport?.proto ?? sport?.proto ?? 'any';
  const src = r.from === undefined || r.from === 'any' ? undefined : ufwAddress(r.from);
  const dst = r.to === undefined || r.to === 'any' ? undefined : ufwAddress(r.to);
  const pinned = src?.family ?? dst?.family;
  const families = pinned ? [pinned === 6] : ipv6 ? [false, true] : [false];
  const direction = r.route ? (r.interface_in === undefined && r.interface_out !== undefined ? 'out' : 'in') : (r.direction ?? 'in');
  return families.map((v6) => ({
    action: r.action,
    log: r.log === 'all' ? 'log-all' : r.log ? 'log' : '',
    route: r.route,
    direction,
    interfaceIn: r.route ? (r.interface_in ?? '') : direction === 'in' ? (r.interface ?? '') : '',
    interfaceOut: r.route ? (r.interface_out ?? '') : direction === 'out' ? (r.interface ?? '') : '',
    proto,
    dport: dport?.ports ?? 'any',
    dst: dst?.text ?? anywhere(v6),
    sport: sport?.ports ?? 'any',
    src: src?.text ?? anywhere(v6),
    dapp: '',
    sapp: '',
    comment: r.comment ?? '',
    v6,
  }));
}

/** What ufw compares to find "the same rule" (all but action, logging and comment). */
export function matchKey(t: UfwRule): string {
  return [t.v6 ? 6 : 4, t.route ? 'route' : '', t.direction, t.interfaceIn, t.interfaceOut, t.proto, t.dport, t.dst, t.sport, t.src, t.dapp, t.sapp].join('|');
}

/** Everything that makes two tuples identical. */
export function fullKey(t: UfwRule): string {
  return `${matchKey(t)}|${t.action}|${t.log}|${t.comment}`;
}

/** The same rule for the other IP family (for "any" rules, which ufw stores twice). */
export function isCounterpart(a: UfwRule, b: UfwRule): boolean {
  return (
    a.v6 !== b.v6 &&
    isAnywhere(a.src) &&
    isAnywhere(a.dst) &&
    isAnywhere(b.src) &&
    isAnywhere(b.dst) &&
    fullKey({ ...a, v6: false, src: ANY4, dst: ANY4 }) === fullKey({ ...b, v6: false, src: ANY4, dst: ANY4 })
  );
}

/** Groups tuples found on the host: an IPv4 "any" rule and its IPv6 twin read as one rule. */
export function groupTuples(tuples: UfwRule[]): RuleGroup[] {
  const groups: RuleGroup[] = [];
  const used = new Set<UfwRule>();
  for (const t of tuples) {
    if (used.has(t)) continue;
    used.add(t);
    const twin = !t.v6 ? tuples.find((u) => !used.has(u) && isCounterpart(t, u)) : undefined;
    if (twin) used.add(twin);
    groups.push({ tuples: twin ? [t, twin] : [t], index: -1 });
  }
  return groups;
}

function portText(ports: string, proto: string): string {
  return proto === 'tcp' || proto === 'udp' ? `${ports}/${proto}` : ports;
}

/**
 * How a rule reads in check mode and diffs: `allow 22/tcp`, `allow 80/tcp from 10.0.0.0/8`,
 * `route allow 80/tcp to 172.17.0.2 in on eth0 out on docker0`, `deny out 25  # no mail`.
 */
export function describeRule(group: RuleGroup | UfwRule[], ipv6 = true): string {
  const tuples = Array.isArray(group) ? group : group.tuples;
  const t = tuples[0]!;
  const head: string[] = [];
  if (t.route) head.push('route');
  head.push(t.action);
  if (!t.route && t.direction === 'out') head.push('out');
  const details: string[] = [];
  if (t.dapp) details.push(`app ${quoteApp(t.dapp)}`);
  else if (t.dport !== 'any') details.push(portText(t.dport, t.proto));
  else if (t.proto !== 'any') details.push(`proto ${t.proto}`);
  if (!isAnywhere(t.src) || t.sport !== 'any' || t.sapp) {
    let from = `from ${isAnywhere(t.src) ? 'any' : t.src}`;
    if (t.sapp) from += ` app ${quoteApp(t.sapp)}`;
    else if (t.sport !== 'any') from += ` port ${t.sport}`;
    details.push(from);
  }
  if (!isAnywhere(t.dst)) details.push(`to ${t.dst}`);
  if (t.route) {
    if (t.interfaceIn) details.push(`in on ${t.interfaceIn}`);
    if (t.interfaceOut) details.push(`out on ${t.interfaceOut}`);
  } else if (t.interfaceIn || t.interfaceOut) details.push(`on ${t.interfaceIn || t.interfaceOut}`);
  if (details.length === 0) details.push('all');
  if (t.log) details.push(t.log);
  if (ipv6 && tuples.length === 1 && isAnywhere(t.src) && isAnywhere(t.dst)) details.push(t.v6 ? '(IPv6 only)' : '(IPv4 only)');
  let text = [...head, ...details].join(' ');
  if (t.comment) text += `  # ${t.comment}`;
  return text;
}

const quoteApp = (name: string) => (/\s/.test(name) ? `'${name}'` : name);

/**
 * The ufw command for a rule: `ufw [route] [delete] [insert N] ACTION [in|out] [on IFACE]
 * [log] [proto P] from SRC [port P | app A] to DST [port P | app A] [comment C]`. A rule
 * stored for both families is written with `any`, which makes ufw act on both; a rule for one
 * family spells its "anywhere" address so ufw acts on that family only.
 */
export function ufwCommand(tuples: UfwRule[], op: { kind: 'add' } | { kind: 'insert'; position: number } | { kind: 'delete' }): string {
  const t = tuples[0]!;
  const both = tuples.length === 2;
  const w: string[] = ['ufw'];
  if (t.route) w.push('route');
  if (op.kind === 'delete') w.push('delete');
  if (op.kind === 'insert') w.push('insert', String(op.position));
  w.push(t.action);
  if (t.route) {
    if (t.interfaceIn) w.push('in', 'on', quote(t.interfaceIn));
    if (t.interfaceOut) w.push('out', 'on', quote(t.interfaceOut));
  } else {
    w.push(t.direction);
    const iface = t.interfaceIn || t.interfaceOut;
    if (iface) w.push('on', quote(iface));
  }
  if (t.log) w.push(t.log);
  // An application rule's protocol comes from its profile.
  if (t.proto !== 'any' && !t.dapp && !t.sapp) w.push('proto', quote(t.proto));
  const addr = (a: string) => (both && isAnywhere(a) ? 'any' : quote(a));
  w.push('from', addr(t.src));
  if (t.sapp) w.push('app', quote(t.sapp));
  else if (t.sport !== 'any') w.push('port', quote(t.sport));
  w.push('to', addr(t.dst));
  if (t.dapp) w.push('app', quote(t.dapp));
  else if (t.dport !== 'any') w.push('port', quote(t.dport));
  // Deleting without the comment matches the rule whatever its comment is.
  if (t.comment && op.kind !== 'delete') w.push('comment', quote(t.comment));
  return w.join(' ');
}
