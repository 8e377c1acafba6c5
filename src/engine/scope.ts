/**
 * Variables: the keywords a task inherits from the blocks, includes and roles around it
 * (Inherited), the scope of a host for a task with its magic variables (inventory_hostname,
 * groups, hostvars, ansible_check_mode ...; see vars/precedence.ts for the order of layers),
 * and the play-level and task-name strings rendered with them.
 */
import type { BecomeMethod } from '../connection/types.js';
import type { ModuleTask, Play, Task, VarsLayer } from '../playbook/model.js';
import { render } from '../vars/expr.js';
import { buildScope, type VarsSource } from '../vars/precedence.js';
import type { Scope } from '../vars/scope.js';
import type { HostState } from './host.js';
import { OMIT } from './params.js';
import { playVarsFiles } from './vars-files.js';
import type { PlayRun, RunState } from './state.js';

/** Keywords a task inherits from the blocks, includes and roles around it. */
export interface Inherited {
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: BecomeMethod;
  /** delegate_to of the task or a block around it (delegate.ts). */
  delegateTo?: string;
  delegateFacts?: boolean;
  tags: string[];
  blockVars: VarsLayer[];
  noLog: boolean;
  /** Templated no_log of the task and the blocks around it: any true hides (loop.ts). */
  noLogIf?: string[];
  checkMode?: boolean;
  ignoreErrors: boolean;
  /** Templated ignore_errors of the task and the blocks around it: any true ignores (loop.ts). */
  ignoreErrorsIf?: string[];
  environment?: Record<string, unknown>;
  /** Loop variables of an enclosing include_tasks loop. */
  loopVars?: Record<string, unknown>;
}

/** Nothing inherited (hostvars, task names). */
export const NO_INHERIT: Inherited = { tags: [], blockVars: [], noLog: false, ignoreErrors: false };

/** inherit()'s results: the same object for the same (outer, task), so scopes can be reused by identity. */
const inherited = new WeakMap<Inherited, WeakMap<Task, Inherited>>();

/** What task `t` inherits inside `inh` (the same frozen object each time it is asked). */
export function inherit(inh: Inherited, t: Task): Inherited {
  let byTask = inherited.get(inh);
  if (!byTask) inherited.set(inh, (byTask = new WeakMap()));
  let sub = byTask.get(t);
  if (!sub) byTask.set(t, (sub = Object.freeze(inheritOnce(inh, t))));
  return sub;
}

function inheritOnce(inh: Inherited, t: Task): Inherited {
  return {
    become: t.become ?? inh.become,
    becomeUser: t.becomeUser ?? inh.becomeUser,
    becomeMethod: t.becomeMethod ?? inh.becomeMethod,
    delegateTo: t.delegateTo ?? inh.delegateTo,
    delegateFacts: t.delegateFacts ?? inh.delegateFacts,
    tags: [...inh.tags, ...t.tags],
    blockVars: t.vars && t.kind !== 'module' ? [...inh.blockVars, t.vars] : inh.blockVars,
    noLog: t.noLog === true || inh.noLog,
    noLogIf: typeof t.noLog === 'string' ? [...(inh.noLogIf ?? []), t.noLog] : inh.noLogIf,
    checkMode: t.checkMode ?? inh.checkMode,
    ignoreErrors: t.ignoreErrors === true || inh.ignoreErrors,
    ignoreErrorsIf: typeof t.ignoreErrors === 'string' ? [...(inh.ignoreErrorsIf ?? []), t.ignoreErrors] : inh.ignoreErrorsIf,
    environment: t.environment ? { ...(inh.environment ?? {}), ...t.environment } : inh.environment,
    loopVars: inh.loopVars,
  };
}

const layerOf = (l: VarsLayer): VarsSource => ({ vars: l.vars, label: l.label, file: l.file, pos: l.pos });

/** The variables of loop item `i` of a module task: the item, ansible_loop, loop_control.index_var. */
export function itemVars(t: ModuleTask, list: unknown[], i: number): Record<string, unknown> {
  return {
    [t.loopVar]: list[i],
    ansible_loop: { index: i + 1, index0: i, first: i === 0, last: i === list.length - 1, length: list.length },
    ...(t.loopIndexVar ? { [t.loopIndexVar]: i } : {}),
  };
}

/** A scope built for (host, task, inherited), kept while nothing it reads can have changed. */
interface BuiltScope {
  ctx: PlayRun;
  version: number;
  scope: Scope;
}
const built = new WeakMap<HostState, WeakMap<Task, WeakMap<Inherited, BuiltScope>>>();

/**
 * The variable scope of a host for a task (see vars/precedence.ts for the order). Without loop
 * variables, the scope built for the same host, task and inherited keywords is reused as long as
 * run.varsVersion has not moved (no host's variables changed and no step ran since): the
 * section's prefetch and the task itself then share one scope, and the variables it resolved.
 */
export function hostScope(run: RunState, ctx: PlayRun, h: HostState, t: Task, inh: Inherited, loopVars?: Record<string, unknown>): Scope {
  if (loopVars) return newHostScope(run, ctx, h, t, inh, loopVars);
  let byTask = built.get(h);
  if (!byTask) built.set(h, (byTask = new WeakMap()));
  let byInh = byTask.get(t);
  if (!byInh) byTask.set(t, (byInh = new WeakMap()));
  const b = byInh.get(inh);
  if (b && b.ctx === ctx && b.version === run.varsVersion) return b.scope;
  const scope = newHostScope(run, ctx, h, t, inh);
  byInh.set(inh, { ctx, version: run.varsVersion, scope });
  return scope;
}

function newHostScope(run: RunState, ctx: PlayRun, h: HostState, t: Task, inh: Inherited, loopVars?: Record<string, unknown>): Scope {
  const { play } = ctx;
  const { inventory } = run.opts;
  const role = t.role;
  return buildScope({
    roleDefaults: role ? layerOf(role.defaults) : undefined,
    inventoryLayers: h.inventoryLayers,
    facts: h.facts,
    playVars: layerOf(play.vars),
    varsFiles: playVarsFiles(run, ctx, h),
    roleVars: role ? layerOf(role.vars) : undefined,
    blockVars: inh.blockVars.map(layerOf),
    taskVars: t.vars ? layerOf(t.vars) : undefined,
    loopVars: { ...(ctx.includeItem.get(h) ?? {}), ...(inh.loopVars ?? {}), ...(loopVars ?? {}) },
    includeVars: h.included.map((l) => ({ vars: l.vars, label: `include_vars: ${l.file}`, file: l.file, pos: l.pos })),
    roleParams: role ? layerOf(role.params) : undefined,
    registered: h.registered,
    extraVars: run.extraVars,
    magic: {
      inventory_hostname: h.name,
      inventory_hostname_short: h.name.split('.')[0],
      groups: inventory.groupsVar(),
      group_names: inventory.groupNames(h.name),
      hostvars: (name: string) => (inventory.hosts.has(name) ? hostScope(run, ctx, run.host(name), { ...t, vars: undefined, role: undefined } as Task, NO_INHERIT) : undefined),
      play_hosts: ctx.names,
      ansible_play_hosts: ctx.names,
      ansible_check_mode: run.env.check,
      ansible_diff_mode: run.env.diff,
      playbook_dir: run.pb.dir,
      role_name: role?.name,
      ansible_role_name: role?.name,
      role_path: role?.dir,
      omit: OMIT,
    },
  });
}

/** Renders a play-level string (hosts, names) with extra vars and play vars only. */
export function renderPlain(run: RunState, s: string, play: Play): string {
  if (!s.includes('{{')) return s;
  const scope = buildScope({ inventoryLayers: [], playVars: layerOf(play.vars), extraVars: run.extraVars, magic: { inventory_hostname: '', groups: run.opts.inventory.groupsVar() } });
  return String(render(s, scope));
}

/** A task's name as shown, rendered for the first host (the raw name if it cannot be). */
export function taskName(run: RunState, ctx: PlayRun, t: ModuleTask, h?: HostState): string {
  if (!t.name) return t.moduleName;
  if (!t.name.includes('{{') || !h) return t.name;
  const scope = hostScope(run, ctx, h, t, NO_INHERIT);
  try {
    return String(render(t.name, scope));
  } catch {
    return t.name;
  } finally {
    run.noteSecrets(scope);
  }
}
