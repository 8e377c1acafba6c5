/**
 * The inventory being assembled from one or more sources (Ansible's InventoryData). Parsers
 * declare groups and hosts, link children and set variables here; `finish()` then applies
 * Ansible's rules: every group without a parent goes under `all`, a host in no group goes
 * to `ungrouped`. Unlike Ansible it rejects, with positions, links that make a group its own
 * ancestor and references to groups that were never defined (Ansible silently creates them).
 */
import { Diagnostics, didYouMean, type SourcePos } from '../core/errors.js';

export interface VarEntry {
  value: unknown;
  pos?: SourcePos;
}

export interface GroupDraft {
  name: string;
  /** Where the group was first declared. */
  pos?: SourcePos;
  declared: boolean;
  /** Direct hosts, in the order they were added. */
  hosts: string[];
  /** Direct children, after finish(): only links that passed the checks. */
  children: string[];
  vars: Map<string, VarEntry>;
}

export interface HostDraft {
  name: string;
  /** Where the host was first defined. */
  pos?: SourcePos;
  vars: Map<string, VarEntry>;
}

interface ChildLink {
  parent: string;
  child: string;
  pos?: SourcePos;
}

interface GroupRef {
  name: string;
  pos?: SourcePos;
  message: string;
}

/** Characters that make a group unusable in host patterns (`web:db`, `web,db`, `!web`, `&web`, wildcards). */
const PATTERN_CHARS = /[\s:,!&[\]*?~]/;

export class InventoryBuilder {
  readonly groups = new Map<string, GroupDraft>();
  readonly hosts = new Map<string, HostDraft>();
  private readonly links: ChildLink[] = [];
  private readonly refs: GroupRef[] = [];

  constructor(readonly diags: Diagnostics) {
    this.declareGroup('all');
    this.declareGroup('ungrouped');
  }

  /** Declares a group (idempotent); the first declaration's position is kept. */
  declareGroup(name: string, pos?: SourcePos): GroupDraft {
    const g = this.draft(name);
    if (!g.declared) {
      g.declared = true;
      if (PATTERN_CHARS.test(name)) {
        this.diags.warning(`group name '${name}' contains characters that cannot be used in host patterns`, pos);
      }
    }
    g.pos ??= pos;
    return g;
  }

  /** Adds a host (created on first sight) to a group. The group must be declared by the caller. */
  addHost(group: string, name: string, pos?: SourcePos): HostDraft {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, pos, vars: new Map() };
      this.hosts.set(name, h);
    }
    const g = this.draft(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    return h;
  }

  setHostVar(host: string, key: string, value: unknown, pos?: SourcePos): void {
    this.hosts.get(host)?.vars.set(key, { value, pos });
  }

  setGroupVar(group: string, key: string, value: unknown, pos?: SourcePos): void {
    this.draft(group).vars.set(key, { value, pos });
  }

  /** Records `child` as a child of `parent`; checked in finish() (child defined, no cycle). */
  addChild(parent: string, child: string, pos?: SourcePos): void {
    this.links.push({ parent, child, pos });
  }

  /** Notes that `name` must be defined somewhere in the inventory (e.g. `[name:vars]`). */
  requireGroup(name: string, pos: SourcePos | undefined, message: string): void {
    this.refs.push({ name, pos, message });
  }

  /** Checks references and links, then reconciles `all` and `ungrouped`. Call once, after every source. */
  finish(): void {
    const known = () => [...this.groups.values()].filter((g) => g.declared).map((g) => g.name);
    for (const ref of this.refs) {
      if (this.groups.get(ref.name)?.declared) continue;
      this.diags.error(withSuggestion(ref.message, ref.name, known()), ref.pos);
    }
    for (const link of this.links) this.link(link, known);
    for (const [name, g] of this.groups) {
      if (!g.declared) this.groups.delete(name);
    }
    this.reconcile();
  }

  private link({ parent, child, pos }: ChildLink, known: () => string[]): void {
    if (!this.groups.get(child)?.declared) {
      this.diags.error(
        withSuggestion(`unknown group in children of '${parent}': '${child}' is not defined in the inventory`, child, known()),
        pos,
        `declare it with [${child}] (or a ${child}: entry in YAML); Ansible would silently create it empty`,
      );
      return;
    }
    if (child === 'all') {
      this.diags.error(`group 'all' cannot be a child of '${parent}': every group is already under all`, pos);
      return;
    }
    const back = this.pathBetween(child, parent);
    if (back) {
      this.diags.error(`group '${parent}' would be its own ancestor: ${[parent, ...back].join(' > ')}`, pos);
      return;
    }
    const p = this.draft(parent);
    if (!p.children.includes(child)) p.children.push(child);
  }

  /** Path from `from` down to `to` through children links (inclusive), or undefined. */
  private pathBetween(from: string, to: string): string[] | undefined {
    if (from === to) return [from];
    for (const kid of this.groups.get(from)?.children ?? []) {
      const rest = this.pathBetween(kid, to);
      if (rest) return [from, ...rest];
    }
    return undefined;
  }

  private reconcile(): void {
    const all = this.draft('all');
    const hasParent = new Set<string>();
    for (const g of this.groups.values()) for (const kid of g.children) hasParent.add(kid);
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && !hasParent.has(g.name) && !all.children.includes(g.name)) all.children.push(g.name);
    }
    const ungrouped = this.draft('ungrouped');
    const inSomeGroup = new Set<string>();
    for (const g of this.groups.values()) {
      if (g.name === 'all' || g.name === 'ungrouped') continue;
      for (const h of g.hosts) inSomeGroup.add(h);
    }
    ungrouped.hosts = ungrouped.hosts.filter((h) => !inSomeGroup.has(h));
    for (const h of this.hosts.keys()) {
      if (!inSomeGroup.has(h) && !ungrouped.hosts.includes(h)) ungrouped.hosts.push(h);
    }
    for (const h of this.hosts.keys()) {
      if (this.groups.get(h)?.declared) this.diags.warning(`'${h}' is both a host and a group name; patterns will pick the host`, this.hosts.get(h)!.pos);
    }
  }

  private draft(name: string): GroupDraft {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, declared: false, hosts: [], children: [], vars: new Map() };
      this.groups.set(name, g);
    }
    return g;
  }
}

function withSuggestion(message: string, name: string, candidates: string[]): string {
  const guess = didYouMean(name, candidates);
  return guess ? `${message} (did you mean '${guess}'?)` : message;
}
