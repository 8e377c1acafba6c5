/**
 * Test helper for the real tests of modules (configure-squid-proxy, nfs-shares): runs a module on THIS
 * machine the way the engine does — every fact in one batched exec, the pure plan, then each
 * step through the engine's runStep (atomic put with validate) on a LocalConnection.
 */
import { execFileSync } from 'node:child_process';
import { LocalConnection } from '../../src/connection/local.js';
import { runStep, StepFailed } from '../../src/engine/apply.js';
import { batchFacts } from '../../src/engine/facts-batch.js';
import type { AnyModule, Fact, Plan, PlanContext, PlanFail } from '../../src/core/module.js';

const conn = new LocalConnection('localhost');

export const ctx = (check = false): PlanContext => ({
  host: 'localhost',
  check,
  diff: true,
  hostFacts: {},
  pending: [],
  connection: { port: 22, local: true, user: 'root' },
});

export async function probeLocal(mod: AnyModule, params: unknown): Promise<Record<string, unknown>> {
  const specs = Object.entries((mod.probe?.(params as never) ?? {}) as Record<string, Fact>);
  const batch = batchFacts(specs.map(([, f]) => f));
  const parts = batch.split(await conn.run(batch.script));
  return Object.fromEntries(specs.map(([name, f], i) => [name, f.parse(parts[i]!)]));
}

/** Probe and plan; a failed plan throws (these tests expect plans that can be applied). */
export async function planLocal(mod: AnyModule, raw: Record<string, unknown>): Promise<Exclude<Plan, PlanFail>> {
  const params = mod.params.parse(raw);
  const plan: Plan = mod.plan(params as never, await probeLocal(mod, params), ctx());
  if ('failed' in plan) throw new Error(`plan failed: ${plan.msg}`);
  return plan;
}

/** Probe, plan and apply; returns the plan that was applied. A failed step throws with its stderr. */
export async function applyLocal(mod: AnyModule, raw: Record<string, unknown>): Promise<Exclude<Plan, PlanFail>> {
  const plan = await planLocal(mod, raw);
  for (const step of plan.changed ? plan.steps : []) {
    try {
      await runStep(step, { conn });
    } catch (e) {
      if (e instanceof StepFailed) throw new Error(`${e.message}\n${e.result.stderr}`);
      throw e;
    }
  }
  return plan;
}

/** Whether a command exists here. */
export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export { conn };
