/**
 * Host names as written in inventory files, expanded the way Ansible does:
 *   web[01:03]      -> web01 web02 web03      (zero padding kept; begin and end must have equal width)
 *   db-[a:c]        -> db-a db-b db-c         (letter ranges)
 *   node[0:10:5]    -> node0 node5 node10     (optional step)
 *   web1:2222       -> web1, port 2222        ([::1]:2222 for IPv6; a bare IPv6 address has no port)
 * Errors are thrown as HostPatternError (a plain message); the caller attaches the position.
 */

export class HostPatternError extends Error {}

export interface HostPattern {
  names: string[];
  port?: number;
}

const MAX_HOSTS_PER_RANGE = 100_000;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function parseHostPattern(text: string): HostPattern {
  const { host, port } = splitPort(text.trim());
  if (!host) throw new HostPatternError(`empty host name in '${text}'`);
  return { names: expandRanges(host), port };
}

/** `name:port` -> name + port. Only a colon outside brackets counts; IPv6 addresses keep their colons. */
function splitPort(text: string): { host: string; port?: number } {
  const v6 = /^\[([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: v6[2] === undefined ? undefined : toPort(v6[2], text) };
  const colons = colonsOutsideBrackets(text);
  if (colons.length !== 1) return { host: text };
  const at = colons[0]!;
  const suffix = text.slice(at + 1);
  if (!/^\d+$/.test(suffix)) throw new HostPatternError(`invalid port '${suffix}' in host '${text}'`);
  return { host: text.slice(0, at), port: toPort(suffix, text) };
}

function toPort(digits: string, text: string): number {
  const port = Number(digits);
  if (port < 1 || port > 65535) throw new HostPatternError(`port ${digits} out of range (1-65535) in host '${text}'`);
  return port;
}

function colonsOutsideBrackets(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ':' && depth === 0) out.push(i);
  }
  return out;
}

/** Expands the first `[begin:end(:step)]`, then recurses for the next one (Ansible's expand_hostname_range). */
export function expandRanges(name: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) {
    if (name.includes(']')) throw new HostPatternError(`unmatched ']' in host '${name}'`);
    return [name];
  }
  const close = name.indexOf(']', open);
  if (close < 0) throw new HostPatternError(`unmatched '[' in host '${name}'`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    throw new HostPatternError(`host range must be [begin:end] or [begin:end:step] in '${name}'`);
  }
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new HostPatternError(`host range must specify an end value in '${name}'`);
  if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
    throw new HostPatternError(`host range step must be a positive number in '${name}'`);
  }
  const step = Number(stepText);
  const items = rangeItems(beg, end, step, name);
  if (items.length === 0) throw new HostPatternError(`host range [${beg}:${end}] is empty in '${name}'`);
  if (items.length > MAX_HOSTS_PER_RANGE) throw new HostPatternError(`host range in '${name}' expands to more than ${MAX_HOSTS_PER_RANGE} hosts`);
  return items.flatMap((item) => expandRanges(head + item + tail));
}

function rangeItems(beg: string, end: string, step: number, name: string): string[] {
  if (/^[a-zA-Z]$/.test(beg) && /^[a-zA-Z]$/.test(end)) {
    const from = LETTERS.indexOf(beg);
    const to = LETTERS.indexOf(end);
    if (from > to) throw new HostPatternError(`host range must have begin <= end in '${name}'`);
    const out: string[] = [];
    for (let i = from; i <= to; i += step) out.push(LETTERS[i]!);
    return out;
  }
  if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) {
    throw new HostPatternError(`host range bounds must both be numbers or single letters in '${name}'`);
  }
  const padded = beg.length > 1 && beg.startsWith('0');
  if (padded && beg.length !== end.length) {
    throw new HostPatternError(`host range must use equal-width begin and end ('${beg}' vs '${end}') in '${name}'`);
  }
  const from = Number(beg);
  const to = Number(end);
  if ((to - from) / step > MAX_HOSTS_PER_RANGE) {
    throw new HostPatternError(`host range in '${name}' expands to more than ${MAX_HOSTS_PER_RANGE} hosts`);
  }
  const out: string[] = [];
  for (let i = from; i <= to; i += step) out.push(padded ? String(i).padStart(beg.length, '0') : String(i));
  return out;
}
