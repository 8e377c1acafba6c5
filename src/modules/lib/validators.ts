/**
 * Parameter checks shared by the module families, each a pure function (a parser, or one that
 * returns an error message) wrapped as a zod schema, so a playbook with a bad value fails at
 * validation time with file:line:col and a message that says what is wrong.
 *
 * - Firewall notation (install-ufw, docker-firewall): ports as ufw writes them (`22`,
 *   `"22/tcp"`, `"6000:6007/udp"`, `"80,443/tcp"`), addresses (`any`, an IPv4/IPv6 address or
 *   CIDR network) and interface names.
 * - Service configuration (configure-squid-proxy, nfs-shares): IP addresses, CIDR networks
 *   (host bits must be zero), domain and host names, ports and port ranges `"1025-65535"`,
 *   plain absolute paths.
 */
import { z } from 'zod';
import { canonicalCidr, cidrContains as contains, networkBytes, parseCidr, type Cidr } from './ip.js';

// ---- Firewall notation ----

export interface PortSpec {
  /** Canonical text as ufw stores it: `22`, `6000:6007`, `80,443` (sorted). */
  ports: string;
  /** Protocol given as a `/tcp` or `/udp` suffix. */
  proto?: 'tcp' | 'udp';
  /** A range or a list: ufw and iptables need tcp or udp for these. */
  multi: boolean;
  /** [low, high] pairs, for matching a port against the spec. */
  ranges: Array<[number, number]>;
}

const MAX_LIST = 15;

/** Parses a port spec; returns an error message for a bad one. */
export function parsePort(input: number | string): PortSpec | string {
  let text = String(input).trim();
  let proto: PortSpec['proto'];
  const m = /^(.*)\/(tcp|udp)$/i.exec(text);
  if (m) {
    text = m[1]!;
    proto = m[2]!.toLowerCase() as 'tcp' | 'udp';
  } else if (text.includes('/')) {
    return `port "${input}": the protocol suffix must be /tcp or /udp`;
  }
  const ranges: Array<[number, number]> = [];
  const num = (s: string): number | undefined => (/^[0-9]{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined);
  for (const item of text.split(',')) {
    const r = /^([^:]+):([^:]+)$/.exec(item);
    if (r) {
      const lo = num(r[1]!);
      const hi = num(r[2]!);
      if (lo === undefined || hi === undefined) return `port range "${item}": both ends must be numbers from 1 to 65535`;
      if (lo >= hi) return `port range "${item}": the first port must be lower than the second`;
      ranges.push([lo, hi]);
    } else {
      const p = num(item);
      if (p === undefined) return `port "${item}" is not a number from 1 to 65535 (a range is written 6000:6007)`;
      ranges.push([p, p]);
    }
  }
  const weight = ranges.reduce((n, [lo, hi]) => n + (lo === hi ? 1 : 2), 0);
  if (weight > MAX_LIST) return `port list "${input}" is too long: at most ${MAX_LIST} ports (a range counts as two)`;
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const ports = ranges.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}:${hi}`)).join(',');
  return { ports, proto, multi: ranges.length > 1 || ranges[0]![0] !== ranges[0]![1], ranges };
}

export function portMatches(spec: Pick<PortSpec, 'ranges'>, port: number): boolean {
  return spec.ranges.some(([lo, hi]) => port >= lo && port <= hi);
}

/** A port, range or list, with an optional /tcp or /udp suffix. */
export const portParam = z
  .union([z.number().int(), z.string()])
  .superRefine((v, ctx) => {
    const r = parsePort(v);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  });

/** `any`, or an IPv4/IPv6 address or network in CIDR notation. */
export const addressParam = z.string().superRefine((v, ctx) => {
  if (v === 'any') return;
  const r = parseCidr(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

/** Parses an address param (already validated): undefined for `any`. */
export function parseAddress(v: string | undefined): Cidr | undefined {
  if (v === undefined || v === 'any') return undefined;
  const r = parseCidr(v);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

/** Linux interface names: 1-15 characters, no `/`, `:` or whitespace. `wildcard` allows a trailing `+` (iptables). */
export function interfaceError(name: string, opts: { wildcard?: boolean } = {}): string | undefined {
  const body = opts.wildcard && name.endsWith('+') ? name.slice(0, -1) : name;
  if (body === '' && !(opts.wildcard && name === '+')) return `interface name "${name}" is empty`;
  if (name.length > 15) return `interface name "${name}" is longer than 15 characters`;
  if (body === '.' || body === '..' || !/^[A-Za-z0-9_.-]*$/.test(body)) {
    return `"${name}" is not a valid interface name (letters, digits, ".", "_", "-"${opts.wildcard ? '; a trailing "+" matches a prefix' : ''})`;
  }
  return undefined;
}

export const interfaceParam = (opts: { wildcard?: boolean } = {}) =>
  z.string().superRefine((v, ctx) => {
    const e = interfaceError(v, opts);
    if (e) ctx.addIssue({ code: 'custom', message: e });
  });

// ---- Service configuration ----

export function isIp(text: string): boolean {
  const c = parseCidr(text);
  return typeof c !== 'string' && !c.hasPrefix;
}

/** Checks "10.0.0.0/8", "fd00::/64" or a bare address; the message says what is wrong. */
export function cidrError(text: string): string | undefined {
  const c = parseCidr(text);
  if (typeof c === 'string') return c.startsWith(`"${text}": `) ? c : `"${text}" is not an IP address or network (CIDR like 192.168.1.0/24 or fd00::/64)`;
  const net = networkBytes(c.bytes, c.prefix);
  if (net.some((b, i) => b !== c.bytes[i])) return `"${text}" has host bits set: the network is ${canonicalCidr({ ...c, bytes: net }, { keepHostPrefix: true })}`;
  return undefined;
}

/** Whether network `outer` contains `inner` (both valid CIDRs or addresses, same family). */
export function cidrContains(outer: string, inner: string): boolean {
  return contains(parseCidr(outer) as Cidr, parseCidr(inner) as Cidr);
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** A DNS name: letters, digits and inner dashes per label, at most 253 characters. */
export function isDomainName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  return text.split('.').every((l) => LABEL.test(l));
}

/** Checks a port number or a range "1025-65535". */
export function portError(value: number | string): string | undefined {
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (typeof value === 'number') return ok(value) ? undefined : `port ${value} is out of range (1-65535)`;
  const m = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (!m) return `"${value}" is not a port or a port range like "1025-65535"`;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (!ok(lo) || !ok(hi)) return `"${value}": ports must be in 1-65535`;
  if (lo > hi) return `"${value}": the range is reversed (write "${hi}-${lo}")`;
  return undefined;
}

/** zod: an IP network or address (CIDR). */
export const cidr = z.string().superRefine((v, ctx) => {
  const err = cidrError(v);
  if (err) ctx.addIssue({ code: 'custom', message: err });
});

/** zod: one IP address. */
export const ipAddress = z.string().refine(isIp, { error: (iss) => `"${String(iss.input)}" is not an IPv4 or IPv6 address` });

/** zod: a port (number) or a range (string "lo-hi"). */
export const portOrRange = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  const err = portError(v);
  if (err) ctx.addIssue({ code: 'custom', message: err });
});

/** zod: a TCP port. */
export const port = z
  .number()
  .int({ message: 'a port is a whole number' })
  .min(1, { message: 'a port is 1-65535' })
  .max(65535, { message: 'a port is 1-65535' });

/** zod: an absolute path without whitespace (squid.conf, exports and fstab split fields on blanks). */
export const plainAbsPath = z.string().superRefine((v, ctx) => {
  if (!v.startsWith('/')) ctx.addIssue({ code: 'custom', message: `"${v}" is not an absolute path (it must start with /)` });
  else if (/\s/.test(v)) ctx.addIssue({ code: 'custom', message: `"${v}" contains whitespace, which this file format cannot hold` });
  else if (v.split('/').includes('..')) ctx.addIssue({ code: 'custom', message: `"${v}" contains "..": give the real path` });
});
