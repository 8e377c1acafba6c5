/**
 * One module item (one loop item of a task) on one host, phase by phase: render the params ->
 * prepare on the controller (params.ts) -> probe -> plan -> apply -> result (phases.ts). A write
 * refused because its file changed since it was read is read, planned and applied again.
 * when/loop/retries around an item are loop.ts's.
 */
import { setTimeout } from 'node:timers/promises';
import { UserError } from '../core/errors.js';
import type { PutStep } from '../core/module.js';
import { collectSecrets } from '../core/secret.js';
import type { ModuleTask } from '../playbook/model.js';
import type { Scope } from '../vars/scope.js';
import { WriteConflict } from './apply.js';
import { stderrTail } from './exit-codes.js';
import type { HostState } from './host.js';
import { itemFailed, type ItemOptions, type ItemOutcome, type TaskEnv } from './item.js';
import { prepareParams, renderParams } from './params.js';
import { applyPhase, planPhase, probePhase, resultPhase } from './phases.js';

export async function runModuleItem(task: ModuleTask, hs: HostState, scope: Scope, env: TaskEnv, opts: ItemOptions): Promise<ItemOutcome> {
  const module = task.module;
  // Render: templates, unwrapped secrets (remembered), then the module's schema.
  let params: unknown;
  try {
    const r = renderParams(task, scope, env);
    if (!r.ok) return itemFailed(r.error);
    params = r.params;
  } catch (e) {
    if (e instanceof UserError) return itemFailed(e.diagnostics[0]?.message ?? e.message);
    throw e;
  }
  // Prepare: controller-side templates and local files.
  try {
    params = await prepareParams(task, hs.name, scope, params, env);
  } catch (e) {
    if (e instanceof UserError) return itemFailed(e.diagnostics[0]?.message ?? e.message);
    return itemFailed(`${module.name}: ${(e as Error).message}`);
  }
  // Probe, plan, apply. A write refused because its file changed on the host since it was read
  // (WriteConflict: nothing was written) is read, planned and applied again after a short
  // random pause, which grows with each attempt: another run writing the same file in a loop
  // gets ahead of a single retry about one time in five.
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const outcome = await probePlanApply(task, hs, scope, params, env, opts);
    if (!(outcome instanceof WriteConflict)) return outcome;
    if (attempt === WRITE_ATTEMPTS) return conflictFailure(outcome, attempt, Date.now() - started);
    // The fact reader was invalidated before the write: the next probe reads the file as it is now.
    await setTimeout(Math.random() * Math.min(1000, 10 * 2 ** attempt), undefined, { signal: env.signal }).catch(() => undefined);
  }
}

/** Reads and plans of one task item whose writes were refused before tsplay gives up on it. */
const WRITE_ATTEMPTS = 10;

async function probePlanApply(task: ModuleTask, hs: HostState, scope: Scope, params: unknown, env: TaskEnv, opts: ItemOptions): Promise<ItemOutcome | WriteConflict> {
  const module = task.module;
  const probed = await probePhase(module, hs, params, env, opts);
  if (!probed.ok) return probed.outcome;
  const facts = probed.value;
  const planned = planPhase(module, hs, scope, params, facts, env, opts);
  if (!planned.ok) return planned.outcome;
  const plan = planned.value;
  const applied = await applyPhase(module, hs, params, facts, plan, env, opts);
  if (applied instanceof WriteConflict) return applied;
  if (!applied.ok) return { ...applied.outcome, warnings: plan.warnings?.length ? plan.warnings : undefined };
  const outcome = resultPhase(module, hs, params, facts, plan, applied.value, opts);
  // Secret values in a result (join tokens) are masked from now on, read or not.
  collectSecrets(outcome.result, env.secrets);
  return outcome;
}

/** The last refused write of one task item: something keeps changing the file. */
function conflictFailure(e: WriteConflict, attempts: number, ms: number): ItemOutcome {
  const path = (e.step as PutStep).path;
  return itemFailed(`${path} changed on the host each time tsplay read and wrote it (${attempts} times in ${(ms / 1000).toFixed(1)} s); nothing was written`, {
    command: `write ${path}`,
    exitCode: e.result.code,
    meaning: `${e.result.code} (the file changed since it was read)`,
    stderrTail: stderrTail(e.result.stderr),
  });
}
