/**
 * Prefetching facts: at the start of each section, the engine renders every task's parameters
 * it can (skipping those that depend on results not known yet), asks each module which facts
 * it will probe, and hands them all to the host's fact reader (fact-reader.ts), which reads
 * them in ONE exec per host (per become user). Tasks then find their facts in the reader's
 * cache; a step run on a host drops the facts it can have changed, which the reader reads
 * again, together, with the next probe. On a converged host a section costs one exec.
 */
import { UserError } from '../core/errors.js';
import type { Fact } from '../core/module.js';
import type { Task } from '../playbook/model.js';
import type { Scope } from '../vars/scope.js';
import { connectionFailureMessage, effectiveBecome, ensureConnection, isUnreachable } from './connections.js';
import type { HostState } from './host.js';
import { loopItems } from './loop.js';
import { renderParams } from './params.js';
import { hostScope, inherit, itemVars, type Inherited } from './scope.js';
import { selected } from './select.js';
import { pool, type PlayRun, type RunState } from './state.js';

/** Reads the facts of a whole section in one exec per host. */
export async function prefetchSection(run: RunState, ctx: PlayRun, tasks: Task[], outer: Inherited): Promise<void> {
  if (run.opts.prefetch === false) return;
  await pool(ctx.active(), run.forks, async (h) => {
    const { found, scope } = sectionFacts(run, ctx, h, tasks, outer);
    h.reader.expect([]);
    if (found.length < 2 || !scope) return;
    try {
      await ensureConnection(run, h, scope);
      // The become user is known once the connection variables are.
      const wanted = found.map((f) => ({ fact: f.fact, become: effectiveBecome(h, f.inh, f.scope) }));
      h.reader.expect(wanted);
      await h.reader.read(h.conn!, wanted, run.envFor(h));
    } catch (e) {
      // The task that needs the host reports it (a refused become, a timeout: as its own failure).
      if (isUnreachable(e) || connectionFailureMessage(e) || e instanceof UserError) return;
      throw e;
    }
  });
}

/** The facts the section's tasks will probe on a host, as far as they can be known now. */
function sectionFacts(run: RunState, ctx: PlayRun, h: HostState, tasks: Task[], outer: Inherited): { found: Array<{ fact: Fact; inh: Inherited; scope: Scope }>; scope?: Scope } {
  const found: Array<{ fact: Fact; inh: Inherited; scope: Scope }> = [];
  let firstScope: Scope | undefined;
  const visit = (list: Task[], inh: Inherited) => {
    for (const t of list) {
      const sub = inherit(inh, t);
      if (t.kind === 'block') [t.block, t.rescue, t.always].forEach((l) => visit(l, sub));
      else if (t.kind === 'include') visit(t.tasks, sub);
      // A delegated task reads its facts on the delegate when it runs.
      else if (t.module.probe && !t.module.local && sub.delegateTo === undefined && selected(run.opts, sub.tags)) {
        try {
          const scope = hostScope(run, ctx, h, t, sub);
          firstScope ??= scope;
          const items = t.loop === undefined ? [undefined] : loopItems(t.loop, scope);
          for (let i = 0; i < items.length; i++) {
            const s = t.loop === undefined ? scope : hostScope(run, ctx, h, t, sub, itemVars(t, items, i));
            // Kept for the task's own render when it runs with the same scope (no loop: one scope per item).
            const r = renderParams(t, s, run.env, t.loop === undefined);
            if (r.ok) for (const fact of Object.values(t.module.probe(r.params as never) as Record<string, Fact>)) found.push({ fact, inh: sub, scope });
          }
        } catch {
          // Depends on something not known yet (a registered result, ...): probed when it runs.
        }
      }
    }
  };
  visit(tasks, outer);
  return { found, scope: firstScope };
}
