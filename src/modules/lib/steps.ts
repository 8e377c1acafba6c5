/** Step helpers. */
import type { ExecStep, Plan, Step } from '../../core/module.js';

/** Merges consecutive plain exec steps into one `a && b` exec: fewer round trips, same effect. */
export function joinExecs(steps: Step[]): Step[] {
  const out: Step[] = [];
  for (const s of steps) {
    const prev = out[out.length - 1];
    if (s.kind === 'exec' && prev?.kind === 'exec' && plain(s) && plain(prev)) {
      const touches = prev.touches && s.touches ? [...new Set([...prev.touches, ...s.touches])] : undefined;
      out[out.length - 1] = { kind: 'exec', cmd: `${prev.cmd} && ${s.cmd}`, ...(touches ? { touches } : {}) };
    } else out.push(s);
  }
  return out;
}

const plain = (s: ExecStep) => s.stdin === undefined && s.okCodes === undefined && s.timeoutMs === undefined && s.description === undefined;

/**
 * Marks the plan's exec steps that say nothing about what they touch as touching only `path`
 * and what is below it (ExecStep.touches), for modules whose every command acts on one path.
 */
export function touchingPath(path: string, plan: Plan): Plan {
  if (!('steps' in plan) || !plan.steps) return plan;
  const steps = plan.steps.map((s) => (s.kind === 'exec' && !s.touches ? { ...s, touches: [`file:${path}`] } : s));
  return { ...plan, steps };
}
