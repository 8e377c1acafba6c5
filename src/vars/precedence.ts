/**
 * Variable precedence, and buildScope() which stacks a host's variables in that order.
 *
 * PRECEDENCE below is THE documentation of the order (the README copies it): when two places
 * define the same variable, the one further down the list wins.
 */
import type { SourcePos } from '../core/errors.js';
import { ExprError } from './expr-errors.js';
import { didYouMean } from '../core/errors.js';
import { Scope, varsProxy, type Layer } from './scope.js';
import { ansibleFacts, ansibleFactVars } from '../facts/ansible.js';

export interface PrecedenceLevel {
  id: string;
  /** How the README names the level. */
  label: string;
  /** `template` for what the user wrote (rendered lazily), `data` for what hosts produced (never rendered). */
  kind: 'template' | 'data';
  note?: string;
}

/**
 * Variable precedence, lowest first (a later level overrides an earlier one):
 *
 *  1. role defaults                  (roles/x/defaults/main.yml)
 *  2. inventory group vars           (group `all` first, then parent groups before child groups)
 *  3. inventory host vars
 *  4. group_vars/ and host_vars/ folders (ordered by the inventory loader the same way: groups, then host)
 *  5. facts                          (gathered; `facts.x`, Ansible's as `ansible_facts.x`, `ansible_x`) [data]
 *  6. play vars
 *  7. play vars_files
 *  8. role vars                      (roles/x/vars/main.yml)
 *  9. block vars                     (outer blocks before inner ones)
 * 10. task vars, and the loop variable (`item`, which is data)
 * 11. include_vars                   (files read by include_vars tasks, later ones win; as in Ansible)
 * 12. include params / role params
 * 13. registered vars and set_fact                                                       [data]
 * 14. extra vars (-e)
 * 15. magic variables (inventory_hostname, groups, hostvars, play_hosts, ...; not overridable) [data]
 *
 * Values from [data] levels are never rendered as templates.
 */
export const PRECEDENCE = [
  { id: 'roleDefaults', label: 'role defaults', kind: 'template' },
  { id: 'inventoryGroupVars', label: 'inventory group vars (all, then parents before children)', kind: 'template' },
  { id: 'inventoryHostVars', label: 'inventory host vars', kind: 'template' },
  { id: 'inventoryVarsFolders', label: 'group_vars/host_vars folders', kind: 'template', note: 'ordered like the inventory: groups, then the host' },
  { id: 'facts', label: 'facts', kind: 'data', note: "as facts.x; Ansible's names and values as ansible_facts.x and ansible_x" },
  { id: 'playVars', label: 'play vars', kind: 'template' },
  { id: 'playVarsFiles', label: 'play vars_files', kind: 'template' },
  { id: 'roleVars', label: 'role vars', kind: 'template' },
  { id: 'blockVars', label: 'block vars', kind: 'template', note: 'outer blocks before inner ones' },
  { id: 'taskVars', label: 'task vars (incl. loop item)', kind: 'template', note: 'the loop variable is data and wins over task vars' },
  { id: 'includeVars', label: 'include_vars', kind: 'template', note: 'files read by include_vars tasks, the later ones winning' },
  { id: 'params', label: 'include params / role params', kind: 'template' },
  { id: 'registered', label: 'registered vars and set_fact', kind: 'data' },
  { id: 'extraVars', label: 'extra vars (-e)', kind: 'template' },
  { id: 'magic', label: 'magic variables', kind: 'data', note: 'inventory_hostname, groups, hostvars, play_hosts, ...; not overridable' },
] as const satisfies readonly PrecedenceLevel[];

/** PRECEDENCE's positions by id (buildScope asks for them a dozen times per host and task). */
const RANKS = new Map<string, number>(PRECEDENCE.map((l, i) => [l.id, i]));

export type LevelId = (typeof PRECEDENCE)[number]['id'];

/** Position of a level in PRECEDENCE (higher wins); use as Layer.rank. */
export function rankOf(id: LevelId): number {
  return RANKS.get(id) ?? -1;
}

/** Variables from one place, with where they were written (for errors and explain()). */
export interface VarsSource {
  vars: Record<string, unknown>;
  /** Overrides the level's label, e.g. "vars_files: vars/prod.yml". */
  label?: string;
  file?: string;
  pos?: (key: string) => SourcePos | undefined;
}

/** A Layer at a precedence level (kind defaults to the level's). */
export function layerAt(id: LevelId, source: VarsSource, kind?: 'template' | 'data'): Layer {
  const rank = rankOf(id);
  const level = PRECEDENCE[rank]!;
  return {
    label: source.label ?? level.label,
    vars: source.vars,
    kind: kind ?? level.kind,
    file: source.file,
    pos: source.pos,
    rank,
  };
}

export interface MagicVars {
  inventory_hostname: string;
  /** Group name -> host names (must include `all`). */
  groups: Record<string, string[]>;
  /** Builds another host's scope on demand (for `hostvars.web1.x`); undefined for an unknown host. */
  hostvars?: (host: string) => Scope | undefined;
  play_hosts?: string[];
  ansible_check_mode?: boolean;
  [name: string]: unknown;
}

type OneOrMany<T> = T | readonly T[];

export interface ScopeInput {
  roleDefaults?: OneOrMany<VarsSource>;
  /** Inventory layers in order (group vars, host vars, folders); a layer without rank is put at 'inventoryGroupVars'. */
  inventoryLayers: readonly Layer[];
  facts?: Record<string, unknown>;
  playVars?: OneOrMany<VarsSource>;
  varsFiles?: OneOrMany<VarsSource>;
  roleVars?: OneOrMany<VarsSource>;
  /** Outer block first. */
  blockVars?: OneOrMany<VarsSource>;
  taskVars?: OneOrMany<VarsSource>;
  /** The loop variable(s) of the current iteration, e.g. { item: ... } (data). */
  loopVars?: Record<string, unknown>;
  /** Variables read by include_vars tasks, in the order they were read. */
  includeVars?: OneOrMany<VarsSource>;
  roleParams?: OneOrMany<VarsSource>;
  /** Registered results and set_fact values (data). */
  registered?: Record<string, unknown>;
  extraVars?: OneOrMany<VarsSource>;
  magic: MagicVars;
}

/** Stacks all variable layers of one host in PRECEDENCE order. */
export function buildScope(input: ScopeInput): Scope {
  const layers: Layer[] = [];
  const add = (id: LevelId, src: OneOrMany<VarsSource> | undefined) => {
    for (const s of list(src)) layers.push(layerAt(id, s));
  };
  add('roleDefaults', input.roleDefaults);
  for (const l of input.inventoryLayers) layers.push(l.rank === undefined ? { ...l, rank: rankOf('inventoryGroupVars') } : l);
  if (input.facts) {
    const ansible = ansibleFacts(input.facts);
    add('facts', { vars: { facts: input.facts, ansible_facts: ansible, ...ansibleFactVars(ansible) } });
  }
  add('playVars', input.playVars);
  add('playVarsFiles', input.varsFiles);
  add('roleVars', input.roleVars);
  add('blockVars', input.blockVars);
  add('taskVars', input.taskVars);
  if (input.loopVars) layers.push(layerAt('taskVars', { vars: input.loopVars, label: 'loop variable' }, 'data'));
  add('includeVars', input.includeVars);
  add('params', input.roleParams);
  if (input.registered) add('registered', { vars: input.registered });
  add('extraVars', input.extraVars);

  const secretsUsed = new Set<string>();
  const { hostvars, ...magic } = input.magic;
  const magicVars = Object.fromEntries(Object.entries(magic).filter(([, v]) => v !== undefined));
  if (hostvars) magicVars.hostvars = hostvarsProxy(hostvars, () => input.magic.groups.all ?? [], secretsUsed);
  layers.push(layerAt('magic', { vars: magicVars }));
  return new Scope(layers, { secretsUsed, host: input.magic.inventory_hostname });
}

function list<T>(x: OneOrMany<T> | undefined): readonly T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x as T];
}

/** Property names that JavaScript itself probes on objects; never treated as host names. */
const PROBES = new Set(['toJSON', 'then', 'constructor', 'valueOf', 'toString', 'inspect', 'asymmetricMatch']);

class HostVars {}

/** `hostvars`: host name -> that host's variables, each host's scope built on first use. */
function hostvarsProxy(lookup: (host: string) => Scope | undefined, hosts: () => string[], sink: Set<string>): Record<string, unknown> {
  const views = new Map<string, Record<string, unknown> | undefined>();
  const view = (host: string) => {
    if (!views.has(host)) {
      const scope = lookup(host);
      views.set(host, scope && varsProxy(scope, () => scope.secretsUsed.forEach((s) => sink.add(s))));
    }
    return views.get(host);
  };
  return new Proxy(new HostVars() as Record<string, unknown>, {
    get: (target, key) => {
      if (typeof key !== 'string' || PROBES.has(key)) return Reflect.get(target, key);
      const v = view(key);
      if (v === undefined) {
        const similar = didYouMean(key, hosts());
        throw new ExprError(`hostvars: no host named '${key}'`, similar ? `did you mean '${similar}'?` : undefined);
      }
      return v;
    },
    has: (_t, key) => typeof key === 'string' && view(key) !== undefined,
    ownKeys: () => hosts(),
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && view(key) !== undefined
        ? { value: view(key), enumerable: true, configurable: true, writable: false }
        : undefined,
    set: () => false,
    deleteProperty: () => false,
    defineProperty: () => false,
  });
}
