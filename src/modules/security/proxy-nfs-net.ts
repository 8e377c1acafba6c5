/**
 * Address checks shared by configure-squid-proxy and nfs-shares: IP addresses, CIDR networks
 * (host bits must be zero), domain and host names, ports and port ranges. Each is a pure
 * function returning an error message (or undefined), wrapped as zod schemas so a playbook
 * with a bad value fails at validation time with file:line:col.
 */
import { z } from 'zod';
import { canonicalCidr, cidrContains as contains, networkBytes, parseCidr, type Cidr } from './ip.js';

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
