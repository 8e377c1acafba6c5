/**
 * Handlers: the play's own and those its imports bring, and the flush at the end of each
 * section that runs each notified handler once, in definition order, on the hosts that notified
 * it by name or by a `listen` topic.
 */
import type { Handler, Play, Task } from '../playbook/model.js';
import { runModuleTask } from './module-task.js';
import type { Inherited } from './scope.js';
import type { PlayRun, RunState } from './state.js';

/** The play's handlers, then those that include/import_tasks bring in. */
export function playHandlers(play: Play): Handler[] {
  const extra: Handler[] = [];
  const visit = (ts: Task[]) => {
    for (const t of ts) {
      if (t.kind === 'block') [t.block, t.rescue, t.always].forEach(visit);
      if (t.kind === 'include') {
        for (const hd of t.handlers) if (!play.handlers.includes(hd) && !extra.includes(hd)) extra.push(hd);
        visit(t.tasks);
      }
    }
  };
  visit([...play.preTasks, ...play.tasks, ...play.postTasks]);
  return [...play.handlers, ...extra];
}

export async function flushHandlers(run: RunState, ctx: PlayRun, inh: Inherited): Promise<void> {
  for (const handler of ctx.handlers) {
    if (run.interrupted) break;
    const names = [handler.name, ...handler.listen].filter((x): x is string => !!x);
    const hosts = ctx.active().filter((h) => names.some((n) => h.notified.has(n)));
    if (!hosts.length) continue;
    await runModuleTask(run, ctx, handler, hosts, inh, 'handlers', true);
  }
  for (const h of ctx.hosts) h.notified.clear();
}
