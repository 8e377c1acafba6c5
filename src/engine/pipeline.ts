/**
 * Per-host pipelines: in a run of consecutive module tasks, each host goes on to its next task
 * as soon as it finished the previous one, so that a slow host does not hold the others at every
 * task. The play keeps its barriers (a task waits for every host) where it needs them:
 *  - the play: `strategy: linear`, `any_errors_fatal`, `max_fail_percentage`, and any mention of
 *    `hostvars` in the play, its roles, its variables, -e or the inventory variables of its hosts
 *    (a task that reads another host's results or facts must find them written): the whole play
 *    runs linear;
 *  - a task: `run_once`, `delegate_to` or `local_action` (it works on another host); one whose
 *    `when` names hosts or groups (`inventory_hostname`,
 *    `group_names`, `groups`: one host's part of an orchestration, "start the database, then
 *    migrate on the app servers"); modules that wait on or join other hosts (BARRIER_MODULES);
 *  - blocks, includes (their own task lists are pipelined inside), the handlers flush at the end
 *    of each section, serial batches, and --start-at-task until its task is reached.
 * Output stays one row per task: a host's events of a task wait until the rows before it ended
 * (the events of the rows above are complete), so the renderers see the same sequence of
 * task:start, task:host*, task:end as with a linear run, with the hosts that ran each task.
 */
import { isSecret } from '../core/secret.js';
import type { ModuleTask, Play, Task } from '../playbook/model.js';
import type { HostStatus, TaskHostEvent } from './events.js';
import type { HostState } from './host.js';
import { runOnHost } from './loop.js';
import { inherit, taskName, type Inherited } from './scope.js';
import { selected } from './select.js';
import { pool, taskPos, type PlayRun, type RunState } from './state.js';

/** Modules whose task waits for, or acts together with, other hosts (meta acts on the play). */
const BARRIER_MODULES = new Set(['wait_for', 'docker-swarm-init', 'meta']);

/** A `when` that picks hosts by name or group. */
const HOST_GUARD = /\b(inventory_hostname(_short)?|group_names|groups|play_hosts|ansible_play_(hosts|hosts_all|batch))\b/;
const HOSTVARS = /\bhostvars\b/;

/** How many tasks from `i` on can run as one pipeline (0 or 1: run `tasks[i]` linear). */
export function pipelineLength(run: RunState, ctx: PlayRun, tasks: Task[], i: number): number {
  if (!run.started || !playPipelines(run, ctx)) return 0;
  let n = 0;
  while (i + n < tasks.length && pipelineTask(tasks[i + n]!)) n++;
  return n;
}

function pipelineTask(t: Task): t is ModuleTask {
  // A delegated task works on another host: all hosts reach it, and it ends before any goes on.
  return t.kind === 'module' && !t.runOnce && t.delegateTo === undefined && !BARRIER_MODULES.has(t.moduleName) && !t.when.some((c) => HOST_GUARD.test(c));
}

const playVerdicts = new WeakMap<PlayRun, boolean>();

function playPipelines(run: RunState, ctx: PlayRun): boolean {
  let ok = playVerdicts.get(ctx);
  if (ok === undefined) {
    const p = ctx.play;
    ok = p.strategy !== 'linear' && !p.anyErrorsFatal && p.maxFailPercentage === undefined && !readsHostvars(run, ctx);
    playVerdicts.set(ctx, ok);
  }
  return ok;
}

/** Whether anything the play's tasks can evaluate mentions `hostvars`. */
function readsHostvars(run: RunState, ctx: PlayRun): boolean {
  const seen = new Set<object>();
  const data = (v: unknown): boolean => {
    if (typeof v === 'string') return HOSTVARS.test(v);
    if (isSecret(v)) return HOSTVARS.test(v.value);
    if (!v || typeof v !== 'object' || seen.has(v)) return false;
    seen.add(v);
    return Array.isArray(v) ? v.some(data) : Object.entries(v).some(([k, x]) => HOSTVARS.test(k) || data(x));
  };
  const task = (t: Task): boolean => {
    if (seen.has(t)) return false;
    seen.add(t);
    if (data([t.name, t.when, t.loop, t.loopLabel, t.vars?.vars, t.environment])) return true;
    if (t.role && data([t.role.defaults.vars, t.role.vars.vars, t.role.params.vars])) return true;
    if (t.kind === 'module') return data([t.args, t.changedWhen, t.failedWhen, t.until, t.notify]);
    if (t.kind === 'block') return [...t.block, ...t.rescue, ...t.always].some(task);
    return data(t.target) || [...t.tasks, ...t.handlers].some(task);
  };
  const p: Play = ctx.play;
  if (data([p.vars.vars, p.varsFiles.map((l) => l.vars), p.roles.map((r) => [r.defaults.vars, r.vars.vars, r.params.vars]), run.opts.extraVars])) return true;
  if ([...p.preTasks, ...p.tasks, ...p.postTasks, ...p.handlers].some(task)) return true;
  return ctx.names.some((n) => run.host(n).inventoryLayers.some((l) => data(l.vars)));
}


interface Row {
  t: ModuleTask;
  inh: Inherited;
  id: number;
  /** Hosts that started the task, and the task's name as each of them renders it. */
  names: Map<HostState, string>;
  done: number;
  counts: Record<HostStatus, number>;
  /** Events that came before the row's task:start. */
  held: TaskHostEvent[];
  state: 'waiting' | 'open' | 'closed';
}

/** Runs `tasks` (all pipelineTask) on `hosts`, each host through all of them at its own pace. */
export async function runPipeline(run: RunState, ctx: PlayRun, tasks: ModuleTask[], hosts: HostState[], outer: Inherited, section: string): Promise<void> {
  const rows: Row[] = [];
  for (const t of tasks) {
    const inh = inherit(outer, t);
    if (!selected(run.opts, inh.tags)) continue;
    rows.push({ t, inh, id: ++run.taskId, names: new Map(), done: 0, counts: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 }, held: [], state: 'waiting' });
  }
  /** The row each host is at (-1: not started), and the hosts that went as far as they will. */
  const at = new Map(hosts.map((h) => [h, -1]));
  const left = new Set<HostState>();
  let cursor = 0;
  // Rows are shown in order: a row starts once every host reached it or stopped before it, and
  // ends once the hosts that started it finished it.
  const pump = () => {
    while (cursor < rows.length) {
      const row = rows[cursor]!;
      if (row.state === 'waiting') {
        if (!hosts.every((h) => left.has(h) || at.get(h)! >= cursor)) return;
        const entered = hosts.filter((h) => row.names.has(h));
        if (!entered.length) {
          // No host got this far (all failed or the run stopped): no row, as in a linear run.
          row.state = 'closed';
          cursor++;
          continue;
        }
        row.state = 'open';
        run.bus.emit({ type: 'task:start', id: row.id, name: row.names.get(entered[0]!)!, module: row.t.moduleName, hosts: entered.map((h) => h.name), handler: false, section, pos: taskPos(row.t) });
        for (const e of row.held.splice(0)) run.bus.emit(e);
      }
      if (row.done < row.names.size) return;
      run.bus.emit({ type: 'task:end', id: row.id, counts: row.counts, total: row.names.size });
      row.state = 'closed';
      run.held.delete(row.id);
      cursor++;
    }
  };
  for (const row of rows) run.held.set(row.id, (e) => (row.state === 'open' ? run.bus.emit(e) : row.held.push(e)));
  try {
    await pool(hosts, run.forks, async (h) => {
      try {
        for (let k = 0; k < rows.length; k++) {
          if (run.interrupted || !h.active) break;
          const row = rows[k]!;
          row.names.set(h, taskName(run, ctx, row.t, h));
          at.set(h, k);
          pump();
          const status = await runOnHost(run, ctx, row.t, h, row.inh, row.id);
          row.counts[status]++;
          row.done++;
          pump();
        }
      } finally {
        left.add(h);
        pump();
      }
    });
  } finally {
    for (const row of rows) run.held.delete(row.id);
  }
}
