/**
 * The inventory other parts of tsplay use: hosts, groups, each host's merged inventory
 * variables (with where every value came from), host patterns and the `groups` variable.
 *
 * Variable precedence, lowest first, as Ansible's VariableManager does it:
 *   1. group `all` inline vars         2. other groups' inline vars (parents before children)
 *   3. group_vars/all: beside the inventory, then beside the playbook
 *   4. group_vars/<group>: beside the inventory (groups in order), then beside the playbook
 *   5. host inline vars                6. host_vars/<host>: beside the inventory, then the playbook
 * Groups are ordered by depth below `all`, then `ansible_group_priority` (default 1), then name.
 * Merging replaces top-level keys (Ansible's default hash_behaviour=replace).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { Diagnostics, didYouMean, formatPos, UserError, type Diagnostic, type SourcePos } from '../core/errors.js';
import { InventoryBuilder, type HostDraft, type VarEntry } from './builder.js';
import { selectHosts, type PatternTarget } from './patterns.js';
import { readSource } from './sources.js';
import { checkVarsDirNames, LOCALHOST_NAMES, loadVarsDir, type VarsDir, type VarsFile } from './vars-dirs.js';

export interface VarSource {
  value: unknown;
  /** Human-readable: "inventory/prod.yml:12:7 (group web)". */
  source: string;
  layer: 'group' | 'host' | 'group_vars' | 'host_vars';
  pos?: SourcePos;
}

export interface InvHost {
  name: string;
  /** Every group the host is in, with ancestors and `all`, parents before children. */
  groups: string[];
  pos?: SourcePos;
  /** The implicit localhost: not in the inventory, selectable by name only. */
  implicit?: boolean;
}

export interface InvGroup {
  name: string;
  /** Direct hosts. */
  hosts: string[];
  children: string[];
  parents: string[];
  /** Inline vars (from the inventory file, not group_vars/). */
  vars: Record<string, unknown>;
  pos?: SourcePos;
  /** Longest distance below `all` (all = 0). */
  depth: number;
  /** `ansible_group_priority`, default 1. */
  priority: number;
}

/** One contribution to a host's variables, in precedence order (later wins). */
export interface VarLayer {
  label: string;
  layer: VarSource['layer'];
  vars: Record<string, unknown>;
  file?: string;
  pos?(key: string): SourcePos | undefined;
}

export interface HostVars {
  vars: Record<string, unknown>;
  layers: VarLayer[];
}

export interface LoadInventoryOptions {
  /** Folder of the playbook: its group_vars/ and host_vars/ apply over the inventory's. */
  playbookDir?: string;
  /** Collect errors here instead of throwing. */
  diags?: Diagnostics;
}

export function loadInventory(paths: string[], opts: LoadInventoryOptions = {}): Inventory {
  const diags = opts.diags ?? new Diagnostics();
  const b = new InventoryBuilder(diags);
  const baseDirs: string[] = [];
  for (const p of paths) {
    const dir = readSource(p, b);
    if (dir !== undefined && !baseDirs.some((d) => resolve(d) === resolve(dir))) baseDirs.push(dir);
  }
  b.finish();
  const varsDirs = baseDirs.map((d) => loadVarsDir(d, 'inventory', diags));
  const pb = opts.playbookDir === undefined ? undefined : shortPath(opts.playbookDir);
  if (pb !== undefined && !baseDirs.some((d) => resolve(d) === resolve(pb))) varsDirs.push(loadVarsDir(pb, 'playbook', diags));
  for (const vd of varsDirs) checkVarsDirNames(vd, b.groups.keys(), b.hosts.keys(), diags);
  const inv = new Inventory(b, varsDirs, paths);
  if (!opts.diags) diags.throwIfErrors();
  return inv;
}

export class Inventory {
  readonly hosts = new Map<string, InvHost>();
  readonly groups = new Map<string, InvGroup>();
  /** Warnings (and, with opts.diags, errors) found while loading. */
  readonly diagnostics: Diagnostic[];
  private readonly drafts: Map<string, HostDraft>;
  private readonly groupVarEntries = new Map<string, Map<string, VarEntry>>();
  private readonly order = new Map<string, number>();
  private readonly hostVarsCache = new Map<string, HostVars>();
  /** groupsVar() and groupNames(): the groups never change once loaded, so they are computed once. */
  private groupsVarCache?: Record<string, string[]>;
  private readonly groupNamesCache = new Map<string, string[]>();

  /** Built by loadInventory. */
  constructor(
    b: InventoryBuilder,
    private readonly varsDirs: VarsDir[],
    readonly sources: string[],
  ) {
    this.diagnostics = b.diags.items;
    this.drafts = b.hosts;
    for (const g of b.groups.values()) {
      // Like Ansible, ansible_group_priority sets the group's priority and is not a variable.
      const entries = new Map(g.vars);
      entries.delete('ansible_group_priority');
      this.groupVarEntries.set(g.name, entries);
      this.groups.set(g.name, {
        name: g.name,
        hosts: g.hosts,
        children: g.children,
        parents: [],
        vars: valuesOf(entries),
        pos: g.pos,
        depth: 0,
        priority: groupPriority(g.name, g.vars.get('ansible_group_priority'), b.diags),
      });
    }
    for (const g of this.groups.values()) for (const kid of g.children) this.groups.get(kid)!.parents.push(g.name);
    this.computeDepths();
    const direct = new Map<string, string[]>();
    for (const g of this.groups.values()) for (const h of g.hosts) direct.set(h, [...(direct.get(h) ?? []), g.name]);
    for (const h of b.hosts.values()) {
      this.order.set(h.name, this.order.size);
      this.hosts.set(h.name, { name: h.name, groups: this.withAncestors(direct.get(h.name) ?? []), pos: h.pos });
    }
  }

  /** A host by name; the implicit localhost is created on first use. Throws UserError if unknown. */
  host(name: string, pos?: SourcePos): InvHost {
    const h = this.hosts.get(name) ?? this.implicitLocalhost(name);
    if (h) return h;
    const guess = didYouMean(name, this.hosts.keys());
    throw new UserError({ severity: 'error', message: `unknown host '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}`, pos });
  }

  /** Host pattern -> host names, in inventory order. Throws UserError for unknown names / syntax errors. */
  select(pattern: string, pos?: SourcePos): string[] {
    const target: PatternTarget = {
      hostNames: () => [...this.hosts.values()].filter((h) => !h.implicit).map((h) => h.name),
      groupNames: () => [...this.groups.keys()],
      groupHosts: (g) => this.groupHosts(g),
      implicitHost: (name) => this.implicitLocalhost(name) !== undefined,
    };
    return selectHosts(target, pattern, pos);
  }

  /**
   * The `groups` variable: group name -> host names (descendants included). Computed once and
   * frozen (a run reads it for every host and task; expressions get copies of it anyway).
   */
  groupsVar(): Record<string, string[]> {
    this.groupsVarCache ??= Object.freeze(Object.fromEntries([...this.groups.keys()].map((g) => [g, Object.freeze(this.groupHosts(g)) as string[]])));
    return this.groupsVarCache;
  }

  /** The `group_names` variable of a run: the host's groups but `all` and `ungrouped`, in inventory order (computed once per host). */
  groupNames(host: string): string[] {
    let names = this.groupNamesCache.get(host);
    if (!names) {
      names = Object.freeze(Object.entries(this.groupsVar()).filter(([g, hs]) => g !== 'all' && g !== 'ungrouped' && hs.includes(host)).map(([g]) => g)) as string[];
      this.groupNamesCache.set(host, names);
    }
    return names;
  }

  /** Ansible's per-host magic variables that come from the inventory. */
  magicVars(name: string): { inventory_hostname: string; inventory_hostname_short: string; group_names: string[] } {
    const h = this.host(name);
    return {
      inventory_hostname: h.name,
      inventory_hostname_short: h.name.split('.')[0]!,
      group_names: h.groups.filter((g) => g !== 'all').sort(),
    };
  }

  /** Hosts of a group and its descendants, in inventory order. */
  groupHosts(group: string): string[] {
    if (group === 'all') return [...this.hosts.values()].filter((h) => !h.implicit).map((h) => h.name);
    const seen = new Set<string>();
    const visit = (g: string) => {
      const grp = this.groups.get(g);
      if (!grp) return;
      for (const h of grp.hosts) seen.add(h);
      for (const kid of grp.children) visit(kid);
    };
    visit(group);
    return [...seen].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }

  /** Inventory variables of a host after merging, plus every contribution in precedence order. */
  hostVars(name: string): HostVars {
    let result = this.hostVarsCache.get(name);
    if (!result) {
      const layers = this.layersOf(this.host(name));
      const vars: Record<string, unknown> = {};
      for (const l of layers) Object.assign(vars, l.vars);
      result = { vars, layers };
      this.hostVarsCache.set(name, result);
    }
    return { vars: { ...result.vars }, layers: result.layers };
  }

  /** Every value each variable of a host took, lowest precedence first (the last one wins). */
  varSources(name: string): Map<string, VarSource[]> {
    const out = new Map<string, VarSource[]>();
    for (const l of this.hostVars(name).layers) {
      for (const [key, value] of Object.entries(l.vars)) {
        const pos = l.pos?.(key);
        const list = out.get(key) ?? [];
        list.push({ value, layer: l.layer, pos, source: pos ? `${formatPos(pos)} (${l.label})` : l.label });
        out.set(key, list);
      }
    }
    return out;
  }

  /** Where the winning value of a host variable was set. */
  varSource(host: string, key: string): VarSource | undefined {
    return this.varSources(host).get(key)?.at(-1);
  }

  private layersOf(host: InvHost): VarLayer[] {
    const layers: VarLayer[] = [];
    const push = (l: VarLayer) => {
      if (Object.keys(l.vars).length > 0) layers.push(l);
    };
    const groups = host.groups.filter((g) => g !== 'all');
    push(this.groupLayer('all'));
    for (const g of groups) push(this.groupLayer(g));
    const inv = this.varsDirs.filter((d) => d.scope === 'inventory');
    const pb = this.varsDirs.filter((d) => d.scope === 'playbook');
    const files = (dirs: VarsDir[], kind: 'groupVars' | 'hostVars', names: string[]) => {
      for (const d of dirs) for (const n of names) for (const f of d[kind].get(n) ?? []) push(fileLayer(f, kind));
    };
    files(inv, 'groupVars', ['all']);
    files(pb, 'groupVars', ['all']);
    files(inv, 'groupVars', groups);
    files(pb, 'groupVars', groups);
    if (host.implicit) {
      push({ label: 'implicit localhost', layer: 'host', vars: { ansible_connection: 'local' } });
    } else {
      const entries = this.drafts.get(host.name)!.vars;
      push({ label: `host ${host.name}`, layer: 'host', vars: valuesOf(entries), pos: (k) => entries.get(k)?.pos ?? host.pos });
    }
    files(inv, 'hostVars', [host.name]);
    files(pb, 'hostVars', [host.name]);
    return layers;
  }

  private groupLayer(name: string): VarLayer {
    const entries = this.groupVarEntries.get(name) ?? new Map<string, VarEntry>();
    return { label: `group ${name}`, layer: 'group', vars: valuesOf(entries), pos: (k) => entries.get(k)?.pos };
  }

  private implicitLocalhost(name: string): InvHost | undefined {
    if (!LOCALHOST_NAMES.includes(name)) return undefined;
    const existing = this.hosts.get(name);
    if (existing) return existing.implicit ? existing : undefined;
    const h: InvHost = { name, groups: ['all'], implicit: true };
    this.hosts.set(name, h);
    this.order.set(name, Number.MAX_SAFE_INTEGER);
    return h;
  }

  /** Depth = longest path below `all`; groups are a DAG (the builder rejected cycles). */
  private computeDepths(): void {
    const memo = new Map<string, number>();
    const depth = (name: string): number => {
      if (name === 'all') return 0;
      let d = memo.get(name);
      if (d === undefined) {
        d = Math.max(0, ...this.groups.get(name)!.parents.map((p) => depth(p) + 1));
        memo.set(name, d);
      }
      return d;
    };
    for (const g of this.groups.values()) g.depth = depth(g.name);
  }

  /** Groups with their ancestors and `all`, sorted like Ansible's sort_groups. */
  private withAncestors(groups: string[]): string[] {
    const found = new Set<string>(['all']);
    const up = (g: string) => {
      if (found.has(g)) return;
      found.add(g);
      for (const p of this.groups.get(g)?.parents ?? []) up(p);
    };
    groups.forEach(up);
    return [...found].map((n) => this.groups.get(n)!).sort(compareGroups).map((g) => g.name);
  }
}

export function compareGroups(a: InvGroup, b: InvGroup): number {
  return a.depth - b.depth || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function groupPriority(group: string, entry: VarEntry | undefined, diags: Diagnostics): number {
  if (entry === undefined) return 1;
  const n = typeof entry.value === 'string' ? Number(entry.value.trim()) : entry.value;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  diags.error(`ansible_group_priority of group '${group}' must be an integer, got ${JSON.stringify(entry.value)}`, entry.pos);
  return 1;
}

/** An absolute folder under the current one, as a relative path: messages name `group_vars/web.yml`, not /home/... */
function shortPath(dir: string): string {
  if (!isAbsolute(dir)) return dir;
  const rel = relative(process.cwd(), dir);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
}

function valuesOf(entries: Map<string, VarEntry>): Record<string, unknown> {
  return Object.fromEntries([...entries].map(([k, v]) => [k, v.value]));
}

function fileLayer(f: VarsFile, kind: 'groupVars' | 'hostVars'): VarLayer {
  const layer = kind === 'groupVars' ? 'group_vars' : 'host_vars';
  return { label: `${layer} ${f.entity}`, layer, vars: f.vars, file: f.file, pos: (k) => f.pos(k) };
}
