/**
 * IPv4/IPv6 addresses and CIDR networks, without dependencies: parse (strictly, like
 * inet_pton), print in canonical form (like glibc's inet_ntop, which is what ufw uses to
 * normalize what it stores) and test containment. Used to validate firewall parameters, to
 * compare declared rules with the rules a host reports, and by install-ufw's SSH check.
 */

export interface Cidr {
  family: 4 | 6;
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  bytes: number[];
  /** Prefix length; 32 or 128 for a single address. */
  prefix: number;
  /** True when the text had an explicit `/prefix`. */
  hasPrefix: boolean;
}

/** Parses a dotted quad; undefined when it is not exactly four decimal octets without leading zeros. */
export function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Parses an IPv6 address (with `::` and an optional embedded IPv4 tail) into 16 bytes. */
export function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * Parses `ADDRESS` or `ADDRESS/PREFIX` (IPv4 or IPv6). Returns an error message instead of
 * throwing, so schema checks can report it.
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const pfx = slash < 0 ? undefined : text.slice(slash + 1);
  const v4 = parseIpv4(addr);
  const v6 = v4 ? undefined : parseIpv6(addr);
  if (!v4 && !v6) {
    return addr.includes(':') ? `"${text}" is not a valid IPv6 address or network` : `"${text}" is not a valid IPv4/IPv6 address or network (like 10.0.0.0/8 or 2001:db8::/32)`;
  }
  const family = v4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (pfx !== undefined) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(pfx)) return `"${text}": write the netmask as a prefix length (e.g. /24), not ${pfx}`;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(pfx) || Number(pfx) > max) return `"${text}": the prefix length must be 0-${max}`;
    prefix = Number(pfx);
  }
  return { family, bytes: (v4 ?? v6)!, prefix, hasPrefix: pfx !== undefined };
}

/** IPv4 dotted quad. */
export function formatIpv4(bytes: number[]): string {
  return bytes.join('.');
}

/**
 * IPv6 text as glibc's inet_ntop prints it: lowercase, no leading zeros, the first longest
 * run of two or more zero groups as `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible
 * and IPv4-mapped addresses.
 */
export function formatIpv6(bytes: number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
    } else if (cur.base !== -1) {
      if (best.base === -1 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base !== -1 && (best.base === -1 || cur.len > best.len)) best = cur;
  if (best.base !== -1 && best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += formatIpv4(bytes.slice(12));
      break;
    }
    out += words[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

export function formatAddress(c: Pick<Cidr, 'family' | 'bytes'>): string {
  return c.family === 4 ? formatIpv4(c.bytes) : formatIpv6(c.bytes);
}

/** The bytes with every bit after `prefix` cleared. */
export function networkBytes(bytes: number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** Whether `addr` (a single address or a network) lies inside `net`. */
export function cidrContains(net: Cidr, addr: Cidr): boolean {
  if (net.family !== addr.family || addr.prefix < net.prefix) return false;
  const a = networkBytes(net.bytes, net.prefix);
  const b = networkBytes(addr.bytes, net.prefix);
  return a.every((x, i) => x === b[i]);
}

/** `10.1.2.3/8` -> `10.0.0.0/8`; `1.2.3.4/32` -> `1.2.3.4`. */
export function canonicalCidr(c: Cidr, opts: { keepHostPrefix?: boolean; zeroHostBits?: boolean } = {}): string {
  const max = c.family === 4 ? 32 : 128;
  const bytes = opts.zeroHostBits ? networkBytes(c.bytes, c.prefix) : c.bytes;
  const addr = formatAddress({ family: c.family, bytes });
  return c.prefix === max && !opts.keepHostPrefix ? addr : `${addr}/${c.prefix}`;
}
