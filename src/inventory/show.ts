/**
 * `tsplay inventory` views:
 *   --list   listInventory: Ansible's `ansible-inventory --list` JSON (groups + `_meta.hostvars`)
 *   --graph  graphInventory: Ansible's tree (`@all:` / `  |--@web:` / `  |  |--web1`)
 *   --host   explainHost: every variable of a host, its value, where it was set and what it overrode
 * Secrets print as ********.
 */
import { formatPos } from '../core/errors.js';
import { isSecret } from '../core/secret.js';
import type { Inventory, VarSource } from './model.js';

/** `ansible-inventory --list`: groups with sorted hosts/children (empty keys and groups left out), `_meta.hostvars`. */
export function listInventory(inv: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const visit = (name: string) => {
    const g = inv.groups.get(name)!;
    const entry: Record<string, unknown> = {};
    const children = [...g.children].sort(byName);
    if (children.length) entry.children = children;
    const hosts = name === 'all' ? [] : [...g.hosts].sort(byName);
    if (hosts.length) entry.hosts = hosts;
    if (Object.keys(entry).length) out[name] = entry;
    for (const kid of children) visit(kid);
  };
  visit('all');
  const hostvars: Record<string, unknown> = {};
  for (const h of inv.hosts.values()) {
    if (h.implicit) continue;
    const vars = inv.hostVars(h.name).vars;
    if (Object.keys(vars).length) hostvars[h.name] = sortKeys(vars);
  }
  out._meta = { hostvars: sortKeys(hostvars) };
  return sortKeys(out) as Record<string, unknown>;
}

/** `ansible-inventory --graph`: children and hosts sorted by name; `all` shows no hosts of its own. */
export function graphInventory(inv: Inventory, start = 'all'): string {
  const lines: string[] = [];
  const line = (text: string, depth: number) => lines.push(depth ? `${'  |'.repeat(depth)}--${text}` : text);
  const visit = (name: string, depth: number) => {
    const g = inv.groups.get(name)!;
    line(`@${name}:`, depth);
    for (const kid of [...g.children].sort(byName)) visit(kid, depth + 1);
    if (name !== 'all') for (const h of [...g.hosts].sort(byName)) line(h, depth + 1);
  };
  visit(start, 0);
  return lines.join('\n');
}

/**
 * Every inventory variable of a host, one per line:
 *   http_port = 8080   host_vars/web1.yml:2:12 (host_vars web1)  (overrides group web: 80 at inventory/prod.yml:9:17)
 */
export function explainHost(inv: Inventory, name: string): string {
  const host = inv.host(name);
  const sources = [...inv.varSources(name)].sort(([a], [b]) => byName(a, b));
  const out = [`host ${host.name}${host.pos ? `  (${formatPos(host.pos)})` : host.implicit ? '  (implicit localhost)' : ''}`];
  out.push(`groups: ${host.groups.join(', ')}`);
  if (sources.length === 0) {
    out.push('no inventory variables');
    return out.join('\n');
  }
  const rows = sources.map(([key, list]) => {
    const winner = list.at(-1)!;
    const overridden = list.slice(0, -1).reverse();
    const over = overridden.length
      ? `  (overrides ${overridden.map((s) => `${labelOf(s)}: ${showValue(s.value)}${s.pos ? ` at ${formatPos(s.pos)}` : ''}`).join('; ')})`
      : '';
    return { key, value: showValue(winner.value), where: winner.source, over };
  });
  const keyWidth = Math.max(...rows.map((r) => r.key.length));
  const valueWidth = Math.min(40, Math.max(...rows.map((r) => r.value.length)));
  for (const r of rows) out.push(`  ${r.key.padEnd(keyWidth)} = ${r.value.padEnd(valueWidth)}   ${r.where}${r.over}`);
  return out.join('\n');
}

/** The part in parentheses of VarSource.source: "group web", "host_vars web1", ... */
function labelOf(s: VarSource): string {
  const m = /\(([^()]*)\)$/.exec(s.source);
  return m ? m[1]! : s.source;
}

/** JSON for everything (so "80" and 80 differ), secrets masked, long values cut. */
export function showValue(v: unknown): string {
  if (isSecret(v)) return '********';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Copy with keys sorted at every level (Ansible dumps with sort_keys=True). Secrets stay as they are. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const src = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(src).sort(byName).map((k) => [k, sortKeys(src[k])]));
  }
  return v;
}
