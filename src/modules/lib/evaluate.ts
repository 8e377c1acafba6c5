/** Access to the engine's expression evaluator (PlanContext.evaluate) for assert and debug. */
import type { PlanContext } from '../../core/module.js';

export function evaluator(ctx: PlanContext): (expr: string) => unknown {
  if (!ctx.evaluate) throw new Error('this engine does not provide PlanContext.evaluate (needed by assert and debug var)');
  return ctx.evaluate;
}

/** A value as one short line for messages. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
