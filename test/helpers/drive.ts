/**
 * Runs a module the way the engine does (probe -> plan -> apply), against any `run(script,
 * stdin)` — a netns sandbox here. Put steps use the engine's own atomic write script.
 */
import { putScript } from '../../src/engine/apply.js';
import type { AnyModule, ExecResult, Plan, PlanContext } from '../../src/core/module.js';

export type Run = (script: string, stdin?: string) => ExecResult;

export function planContext(over: Partial<PlanContext> = {}): PlanContext {
  return { host: 'sandbox', check: false, diff: true, hostFacts: {}, pending: [], connection: { port: 22, local: false }, ...over };
}

export function probe(mod: AnyModule, params: unknown, run: Run): Record<string, unknown> {
  const facts: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(mod.probe?.(params) ?? {})) facts[name] = f.parse(run(f.command));
  return facts;
}

/** Probes and plans; `raw` are unvalidated params (validated here like the engine does). */
export function planOn(mod: AnyModule, raw: unknown, run: Run, ctx: PlanContext = planContext()): Plan {
  const params = mod.params.parse(raw);
  return mod.plan(params, probe(mod, params, run), ctx);
}

/** Runs a plan's steps; throws with the output of the first one that fails. */
export function applyPlan(plan: Plan, run: Run): void {
  if ('failed' in plan) throw new Error(`plan failed: ${plan.msg}`);
  if (!plan.changed) return;
  for (const step of plan.steps) {
    const r = step.kind === 'exec' ? run(step.cmd, step.stdin) : run(putScript(step), typeof step.content === 'string' ? step.content : step.content.toString());
    const ok = step.kind === 'exec' ? (step.okCodes ?? [0]) : [0];
    if (!ok.includes(r.code)) throw new Error(`step failed (${r.code}): ${step.kind === 'exec' ? step.cmd : step.path}\n${r.stderr}${r.stdout}`);
  }
}
