/**
 * `meta` tasks: the module (modules/control/meta.ts) checks the action and is counted like any
 * task (ok where it ran, skipped where its `when` was false); this applies the action for the
 * hosts it ran on:
 *  - flush_handlers: the handlers notified so far run now (handlers.ts), as at a section's end;
 *  - end_host: the host leaves the play, not failed (it is back for the next play);
 *  - end_batch: every host of the current serial batch leaves the play; the next batch starts;
 *  - end_play: every host leaves the play, later batches do not start;
 *  - clear_facts: the host's gathered facts and the facts read for its tasks are forgotten (the
 *    next play with gather_facts gathers them again);
 *  - clear_host_errors: the failed hosts of the batch take the next tasks again (the recap still
 *    counts their failures);
 *  - noop: nothing.
 * Hosts that left the play do not run its notified handlers (as in Ansible).
 * A meta task waits for every host (pipeline.ts); with run_once it runs (and acts) on the first.
 */
import type { ModuleTask } from '../playbook/model.js';
import { META_ACTIONS, type MetaAction } from '../core/meta.js';
import { flushHandlers } from './handlers.js';
import type { HostState } from './host.js';
import { runModuleTask } from './module-task.js';
import type { Inherited } from './scope.js';
import type { PlayRun, RunState } from './state.js';

export async function runMeta(run: RunState, ctx: PlayRun, t: ModuleTask, hosts: HostState[], inh: Inherited, section: string): Promise<void> {
  const action = (t.args as { action?: unknown }).action as MetaAction;
  if (!META_ACTIONS.includes(action)) {
    for (const h of hosts) run.failTask(h, t, `meta: the action must be written literally (one of ${META_ACTIONS.join(', ')})`);
    return;
  }
  const statuses = await runModuleTask(run, ctx, t, hosts, inh, section, false);
  const ran = hosts.filter((h) => statuses.get(h) === 'ok');
  if (!ran.length) return;
  switch (action) {
    case 'flush_handlers':
      await flushHandlers(run, ctx, inh);
      break;
    case 'end_host':
      for (const h of ran) h.ended = true;
      break;
    case 'end_play':
      ctx.aborted = true;
      for (const h of ctx.hosts) h.ended = true;
      break;
    case 'end_batch':
      for (const h of ctx.hosts) h.ended = true;
      break;
    case 'clear_facts':
      for (const h of ran) {
        h.facts = undefined;
        h.reader.invalidate();
      }
      run.varsChanged();
      break;
    case 'clear_host_errors':
      for (const h of ctx.hosts) h.failed = false;
      break;
    case 'noop':
      break;
  }
}
