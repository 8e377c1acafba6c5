/**
 * The one way to compose a module from others: configure-squid-proxy, nfs-shares, install-ufw
 * and docker-firewall reuse apt, group and user rather than re-implementing them. A module that
 * reads the part's facts itself under its own probe names hands them to `planPart` by fact key.
 * A `Part` is a core module with parsed params; its facts are probed under their fact keys (so
 * check-mode assumptions and batching work across modules) and handed back to the core module's
 * plan under its own names. The plans of several parts merge into one (PlanBuilder): steps in
 * order, changes, diffs and assumptions.
 */
import type { AnyModule, Fact, FileDiff, Plan, PlanContext, Step } from '../../core/module.js';

export interface Part {
  module: AnyModule;
  params: unknown;
}

/** A core module with params checked by its own schema (a bug here is tsplay's, so it throws). */
export function part(module: AnyModule, raw: Record<string, unknown>): Part {
  return { module, params: module.params.parse(raw) };
}

function probeByName(p: Part): Record<string, Fact> {
  return (p.module.probe?.(p.params as never) ?? {}) as Record<string, Fact>;
}

/** The part's facts keyed by fact key, ready to merge into the composing module's probe. */
export function probePart(p: Part): Record<string, Fact> {
  return Object.fromEntries(Object.values(probeByName(p)).map((f) => [f.key, f]));
}

/** Runs the part's plan with the facts it asked for (looked up by fact key). */
export function planPart(p: Part, facts: Record<string, unknown>, ctx: PlanContext): Plan {
  const own = Object.fromEntries(Object.entries(probeByName(p)).map(([name, f]) => [name, facts[f.key]]));
  return p.module.plan(p.params as never, own, ctx);
}

/** Steps, change lines, diffs and assumptions gathered from several plans. */
export class PlanBuilder {
  readonly steps: Step[] = [];
  readonly changes: string[] = [];
  readonly diffs: FileDiff[] = [];
  readonly assume: Record<string, unknown> = {};

  /** Adds a plan's work; returns the failure message of a failed plan (to stop on). */
  add(plan: Plan): string | undefined {
    if ('failed' in plan) return plan.msg;
    if (!plan.changed) return undefined;
    this.steps.push(...plan.steps);
    this.changes.push(...plan.changes);
    this.diffs.push(...(plan.diffs ?? []));
    Object.assign(this.assume, plan.assume ?? {});
    return undefined;
  }

  step(change: string | undefined, ...steps: Step[]): void {
    if (change !== undefined) this.changes.push(change);
    this.steps.push(...steps);
  }

  get empty(): boolean {
    return this.steps.length === 0;
  }
}
