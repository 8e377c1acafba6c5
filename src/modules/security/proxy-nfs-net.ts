/**
 * Address checks shared by configure-squid-proxy and nfs-shares: IP addresses, CIDR networks
 * (host bits must be zero), domain and host names, ports and port ranges. Each is a pure
 * function returning an error message (or undefined), wrapped as zod schemas so a playbook
 * with a bad value fails at validation time with file:line:col.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';

/** The address as a bigint and its width in bits; undefined when it is not an IP address. */
function ipBits(addr: string): { value: bigint; width: 32 | 128 } | undefined {
  if (isIPv4(addr)) {
    return { value: addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n), width: 32 };
  }
  if (!isIPv6(addr)) return undefined;
  let text = addr;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = ipBits(quad[1]!)!.value;
    text = text.slice(0, quad.index) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), width: 128 };
}

export function isIp(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

/** Checks "10.0.0.0/8", "fd00::/64" or a bare address; the message says what is wrong. */
export function cidrError(text: string): string | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bits = addr.includes('%') ? undefined : ipBits(addr);
  if (!bits) return `"${text}" is not an IP address or network (CIDR like 192.168.1.0/24 or fd00::/64)`;
  if (slash < 0) return undefined;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits.width) {
    return `"${text}": the prefix length must be 0-${bits.width}`;
  }
  const prefix = BigInt(prefixText);
  const hostMask = (1n << (BigInt(bits.width) - prefix)) - 1n;
  if ((bits.value & hostMask) !== 0n) {
    return `"${text}" has host bits set: the network is ${networkOf(bits.value & ~hostMask, bits.width)}/${prefixText}`;
  }
  return undefined;
}

function networkOf(value: bigint, width: 32 | 128): string {
  if (width === 32) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // Shorten the longest run of zero groups to "::" (RFC 5952 style).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/** Whether network `outer` contains `inner` (both valid CIDRs or addresses, same family). */
export function cidrContains(outer: string, inner: string): boolean {
  const parse = (t: string) => {
    const [addr, prefix] = t.split('/') as [string, string | undefined];
    const bits = ipBits(addr)!;
    return { ...bits, prefix: prefix === undefined ? bits.width : Number(prefix) };
  };
  const a = parse(outer);
  const b = parse(inner);
  if (a.width !== b.width || a.prefix > b.prefix) return false;
  const shift = BigInt(a.width - a.prefix);
  return a.value >> shift === b.value >> shift;
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
