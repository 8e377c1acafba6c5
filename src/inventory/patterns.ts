/**
 * Host patterns, for a play's `hosts:` and for `--limit`, evaluated like Ansible:
 *
 *   all  *            every host in the inventory
 *   web  web1         a group (with its descendants' hosts) or a host
 *   web*  *.example.com  db[0-9]   shell wildcards over group and host names
 *   ~web\d+           a regular expression (anchored at the start, like Ansible)
 *   web[0]  web[1:3]  web[-1]   hosts of a match by index (end inclusive)
 *   a:b  a,b          union         a:&b   intersection         a:!b   exclusion
 *
 * Unions are applied first, then intersections, then exclusions, whatever their order in the
 * pattern; a pattern with only `&`/`!` parts starts from `all`. Unlike Ansible, a name that
 * matches nothing is an error (with a did-you-mean), not a warning: a typo in `!prod` must not
 * silently run on prod. The result is in inventory order.
 */
import { globToRegex } from '../core/glob.js';
import { didYouMean, UserError, type SourcePos } from '../core/errors.js';

/** What pattern evaluation needs to know about an inventory. */
export interface PatternTarget {
  /** Every host, in inventory order (not the implicit localhost). */
  hostNames(): string[];
  groupNames(): string[];
  /** Hosts of a group and of its descendants, in inventory order. */
  groupHosts(group: string): string[];
  /** A name that is not in the inventory but still selectable (the implicit localhost). */
  implicitHost(name: string): boolean;
}

export function selectHosts(target: PatternTarget, pattern: string, pos?: SourcePos): string[] {
  const fail = (message: string): never => {
    throw new UserError({ severity: 'error', message: `host pattern '${pattern}': ${message}`, pos });
  };
  const parts = splitPattern(pattern);
  if (parts.length === 0) fail('empty pattern (use "all" for every host)');

  const unions = parts.filter((p) => !p.startsWith('&') && !p.startsWith('!'));
  const intersections = parts.filter((p) => p.startsWith('&'));
  const exclusions = parts.filter((p) => p.startsWith('!'));
  if (unions.length === 0) unions.push('all');

  let hosts: string[] = [];
  for (const p of unions) {
    for (const h of matchOne(target, p, fail)) if (!hosts.includes(h)) hosts.push(h);
  }
  for (const p of intersections) {
    const keep = new Set(matchOne(target, p.slice(1), fail));
    hosts = hosts.filter((h) => keep.has(h));
  }
  for (const p of exclusions) {
    const drop = new Set(matchOne(target, p.slice(1), fail));
    hosts = hosts.filter((h) => !drop.has(h));
  }
  const order = new Map(target.hostNames().map((h, i) => [h, i]));
  return hosts.sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
}

/**
 * Splits on `,` and on `:` outside brackets, keeping an IPv6 address (`fe80::1`) whole.
 * Ansible splits on `,` only when there is one; tsplay accepts both separators together.
 */
export function splitPattern(pattern: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  const flush = () => {
    if (cur.trim()) out.push(cur.trim());
    cur = '';
  };
  for (const piece of pattern.split(',')) {
    if (isIpv6(piece.trim())) {
      out.push(piece.trim());
      continue;
    }
    for (const c of piece) {
      if (c === '[') depth++;
      if (c === ']') depth = Math.max(0, depth - 1);
      if (c === ':' && depth === 0) flush();
      else cur += c;
    }
    flush();
  }
  return out;
}

/** `fe80::1`, `::1`, `2001:db8:0:0:0:0:0:1`: colons that are not separators. */
function isIpv6(s: string): boolean {
  const compressed = s.includes('::') && /^[0-9a-fA-F:.]+$/.test(s);
  return compressed || /^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$/.test(s);
}

const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/;

/** One pattern term (without its `&`/`!` prefix) -> hosts, in the order found. */
function matchOne(target: PatternTarget, term: string, fail: (m: string) => never): string[] {
  if (!term) fail('empty name after & or !');
  const hostNames = target.hostNames();
  if (hostNames.includes(term)) return [term];
  if (term === 'all' || term === '*') return hostNames;

  let name = term;
  let subscript: { start: number; end?: number } | undefined;
  const m = term.startsWith('~') ? null : SUBSCRIPT.exec(term);
  if (m) {
    name = m[1]!;
    subscript = m[2] !== undefined ? { start: Number(m[2]) } : { start: Number(m[3]), end: m[4] ? Number(m[4]) : -1 };
  }

  const isRegex = name.startsWith('~');
  const isWildcard = isRegex || /[*?[]/.test(name);
  const matcher = isRegex ? regexMatcher(name.slice(1), fail) : globMatcher(name);
  const groups = target.groupNames().filter(matcher);
  const found: string[] = [];
  const add = (h: string) => {
    if (!found.includes(h)) found.push(h);
  };
  for (const g of groups) target.groupHosts(g).forEach(add);
  // Like Ansible: hosts are searched when no group matched, or when the term looks like a wildcard or an address.
  if (groups.length === 0 || isWildcard || name.includes('.')) hostNames.filter(matcher).forEach(add);

  if (found.length === 0 && groups.length === 0) {
    if (!isWildcard && target.implicitHost(name)) return [name];
    if (isWildcard) fail(`${isRegex ? 'regular expression' : 'wildcard'} '${name}' matches no host or group`);
    const guess = didYouMean(name, [...target.groupNames(), ...hostNames]);
    fail(`no host or group named '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}`);
  }
  return subscript ? applySubscript(found, subscript, term, fail) : found;
}

/** Ansible's subscripts: `[i]` one host (negative counts from the end), `[a:b]` inclusive, `[a:]` to the end. */
function applySubscript(hosts: string[], s: { start: number; end?: number }, term: string, fail: (m: string) => never): string[] {
  const n = hosts.length;
  if (s.end === undefined) {
    const i = s.start < 0 ? n + s.start : s.start;
    if (i < 0 || i >= n) fail(`subscript in '${term}' is out of range (${n} host${n === 1 ? '' : 's'} matched)`);
    return [hosts[i]!];
  }
  const end = s.end === -1 ? n - 1 : s.end;
  if (s.start >= n) fail(`subscript in '${term}' is out of range (${n} host${n === 1 ? '' : 's'} matched)`);
  return hosts.slice(s.start, end + 1);
}

function regexMatcher(source: string, fail: (m: string) => never): (s: string) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})`);
  } catch (e) {
    return fail(`invalid regular expression '~${source}': ${(e as Error).message}`);
  }
  return (s) => re.test(s);
}

/** fnmatch: `*`, `?`, `[abc]`, `[!abc]`; everything else literal; case-sensitive. */
export function globMatcher(glob: string): (s: string) => boolean {
  const compiled = globToRegex(glob);
  return (s) => compiled.test(s);
}
