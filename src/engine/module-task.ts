/**
 * One module task across the hosts of a play: tag selection and --start-at-task, the task's
 * start and end events with its host counters, run_once, up to `forks` hosts at once (each
 * host's run is loop.ts's), and what stops the play: any_errors_fatal, max_fail_percentage.
 * Returns each host's status (meta.ts acts on the hosts a meta task ran on).
 */
import type { ModuleTask } from '../playbook/model.js';
import type { HostStatus } from './events.js';
import type { HostState } from './host.js';
import { runOnHost } from './loop.js';
import { inherit, taskName, type Inherited } from './scope.js';
import { matchesTaskName, selected } from './select.js';
import { pool, taskPos, type PlayRun, type RunState } from './state.js';

export async function runModuleTask(run: RunState, ctx: PlayRun, t: ModuleTask, hosts: HostState[], outer: Inherited, section: string, handler: boolean): Promise<Map<HostState, HostStatus>> {
  const statuses = new Map<HostState, HostStatus>();
  const inh = inherit(outer, t);
  if (!selected(run.opts, inh.tags)) return statuses;
  const displayName = taskName(run, ctx, t, hosts[0]);
  if (!run.started) {
    if (!matchesTaskName(displayName, run.opts.startAtTask!)) return statuses;
    run.started = true;
  }
  const id = ++run.taskId;
  run.bus.emit({ type: 'task:start', id, name: displayName, module: t.moduleName, hosts: hosts.map((h) => h.name), handler, section, pos: taskPos(t) });
  const counts: Record<HostStatus, number> = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
  const targets = t.runOnce ? hosts.slice(0, 1) : hosts;
  await pool(targets, run.forks, async (h) => {
    if (run.interrupted) return;
    const r = await runOnHost(run, ctx, t, h, inh, id);
    counts[r]++;
    statuses.set(h, r);
    if (t.runOnce) {
      for (const other of hosts.slice(1)) {
        if (t.register && h.registered[t.register] !== undefined) other.registered[t.register] = h.registered[t.register];
      }
      run.varsChanged();
    }
  });
  run.bus.emit({ type: 'task:end', id, counts, total: hosts.length });
  // any_errors_fatal / max_fail_percentage stop the play for everyone.
  const failedNow = ctx.hosts.filter((h) => !h.active).length;
  if (counts.failed && ctx.play.anyErrorsFatal) ctx.aborted = true;
  if (ctx.play.maxFailPercentage !== undefined && (failedNow / ctx.hosts.length) * 100 > ctx.play.maxFailPercentage) ctx.aborted = true;
  return statuses;
}
