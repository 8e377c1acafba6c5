/**
 * Parameter types shared by the firewall modules: ports (`22`, `"22/tcp"`, `"6000:6007/udp"`,
 * `"80,443/tcp"`), addresses (`any`, an IPv4/IPv6 address or CIDR network) and interface
 * names. Each is a zod schema that rejects bad values at validation time with a message that
 * says what is wrong, plus the pure parser behind it.
 */
import { z } from 'zod';
import { parseCidr, type Cidr } from './ip.js';

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
