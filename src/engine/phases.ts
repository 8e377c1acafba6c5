/**
 * The host-side phases of one module item, in order: probe (the module's facts through the
 * host's fact reader; check mode uses facts earlier plans assumed), plan (pure), apply (the
 * steps, unless check mode) and result (what `register` receives and the events report).
 * Each phase that can fail gives the failed outcome instead of its value.
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { AnyModule, ExecResult, Fact, PlanChange, PlanContext, PlanNoop, Step } from '../core/module.js';
import { evaluate } from '../vars/expr.js';
import type { Scope } from '../vars/scope.js';
import { runStep, StepFailed, WriteConflict } from './apply.js';
import { exitCodeMeaning, stderrTail } from './exit-codes.js';
import type { HostState } from './host.js';
import { stepTouches } from './touches.js';
import { itemFailed, type ItemOptions, type ItemOutcome, type TaskEnv } from './item.js';

export type Phase<T> = { ok: true; value: T } | { ok: false; outcome: ItemOutcome };
const ok = <T>(value: T): Phase<T> => ({ ok: true, value });
const failed = (msg: string, failure?: Parameters<typeof itemFailed>[1]): Phase<never> => ({ ok: false, outcome: itemFailed(msg, failure) });

/** Probe: every fact of the module read through the host's fact reader (one exec for the uncached). */
export async function probePhase(module: AnyModule, hs: HostState, params: unknown, env: TaskEnv, opts: ItemOptions): Promise<Phase<Record<string, unknown>>> {
  const facts: Record<string, unknown> = {};
  if (!module.probe || module.local) return ok(facts);
  const specs = module.probe(params as never) as Record<string, Fact>;
  const assumed = (f: Fact) => opts.check && hs.assumed.has(f.key);
  const wanted = Object.values(specs).filter((f) => !assumed(f));
  await hs.reader.read(hs.conn!, wanted.map((fact) => ({ fact, become: opts.become })), env);
  for (const [name, f] of Object.entries(specs)) {
    if (assumed(f)) {
      facts[name] = hs.assumed.get(f.key);
      continue;
    }
    const out = hs.reader.get(f, opts.become)!;
    try {
      facts[name] = f.parse(out);
    } catch (e) {
      return failed(`could not read fact ${f.key}: ${(e as Error).message}`, { stderrTail: stderrTail(out.stderr, 5) });
    }
  }
  return ok(facts);
}

/** Plan: the module's pure comparison of params with facts. */
export function planPhase(module: AnyModule, hs: HostState, scope: Scope, params: unknown, facts: Record<string, unknown>, env: TaskEnv, opts: ItemOptions): Phase<PlanNoop | PlanChange> {
  const pctx: PlanContext = {
    host: hs.name,
    check: opts.check,
    diff: opts.diff,
    hostFacts: hs.facts ?? {},
    pending: opts.check ? [...hs.pending] : [],
    connection: { port: hs.connVars?.port ?? 22, local: hs.connVars?.connection === 'local', user: hs.connVars?.user, controllerAddress: hs.conn?.localAddress },
    evaluate: (expr: string) => {
      const v = evaluate(expr, scope);
      for (const s of scope.secretsUsed) env.secrets.add(s);
      return v;
    },
  };
  try {
    const plan = module.plan(params as never, facts as never, pctx);
    return 'failed' in plan ? failed(plan.msg) : ok(plan);
  } catch (e) {
    if (e instanceof UserError || e instanceof z.ZodError) return failed(`${module.name}: ${(e as Error).message}`);
    throw e;
  }
}

export interface Applied {
  /** Whether the steps ran (not in check mode, unless the plan asks to). */
  ran: boolean;
  results: ExecResult[];
}

/** Apply: the plan's steps, one exec each; a refused write is returned for a re-read and re-plan. */
export async function applyPhase(module: AnyModule, hs: HostState, params: unknown, facts: Record<string, unknown>, plan: PlanNoop | PlanChange, env: TaskEnv, opts: ItemOptions): Promise<Phase<Applied> | WriteConflict> {
  const results: ExecResult[] = [];
  const steps: Step[] = plan.changed ? plan.steps : (plan.steps ?? []);
  const ran = !plan.changed || !opts.check || !!plan.runInCheckMode;
  if (!ran) return ok({ ran, results });
  // The host is about to change: facts read before that the steps can change may no longer
  // hold. A noop plan's steps and a task with `changed_when: false` promise to change nothing.
  if (plan.changed && !opts.changesNothing) for (const step of steps) hs.reader.invalidate(stepTouches(step));
  for (const step of steps) {
    try {
      env.stats.stepExecs++;
      // A write checks that its file is still what the plan read, unless steps of this same
      // plan ran before it: they may change the file themselves (a package install writes
      // its default config before tsplay's), so such a write replaces it unconditionally.
      const run = step.kind === 'put' && results.length ? { ...step, expect: undefined } : step;
      results.push(await runStep(run, { conn: hs.conn!, become: opts.become, environment: opts.environment, signal: env.signal }));
    } catch (e) {
      if (e instanceof WriteConflict) {
        hs.reader.invalidate(stepTouches(step)); // read its file again, even for a task that promised no change
        return e;
      }
      if (!(e instanceof StepFailed)) throw e;
      const r = e.result;
      const output = module.result ? safeResult(() => module.result!(params as never, facts as never, [...results, r])) : {};
      // A module's own message says more than the exit code (uri: "Status code was 404 and not [200]").
      const msg = typeof output.msg === 'string' && output.msg ? output.msg : e.message;
      return {
        ok: false,
        outcome: {
          status: 'failed',
          msg: `${msg}${step.kind === 'exec' && step.description ? ` (${step.description})` : ''}`,
          result: { ...output, changed: results.length > 0, failed: true, rc: r.code, stdout: r.stdout, stderr: r.stderr, msg },
          failure: { command: step.kind === 'exec' ? step.cmd : `write ${step.path}`, exitCode: r.code, meaning: exitCodeMeaning(r.code), stderrTail: stderrTail(r.stderr || r.stdout) },
        },
      };
    }
  }
  return ok({ ran, results });
}

/** Result: the registered value and the outcome; in check mode the plan's changes are assumed. */
export function resultPhase(module: AnyModule, hs: HostState, params: unknown, facts: Record<string, unknown>, plan: PlanNoop | PlanChange, applied: Applied, opts: ItemOptions): ItemOutcome {
  let output: Record<string, unknown> = plan.output ?? {};
  if (module.result && applied.ran) output = { ...output, ...module.result(params as never, facts as never, applied.results) };
  if (plan.changed && opts.check) {
    hs.pending.push(...plan.changes);
    for (const [k, v] of Object.entries(plan.assume ?? {})) hs.assumed.set(k, v);
  }
  const changed = plan.changed;
  return {
    status: changed ? 'changed' : 'ok',
    result: { ...output, changed, failed: false, ...(changed ? { changes: plan.changes } : { msg: output.msg ?? plan.reason }) },
    msg: changed ? undefined : plan.reason,
    changes: changed ? plan.changes : undefined,
    diffs: changed ? plan.diffs : undefined,
    setFacts: changed ? undefined : plan.setFacts,
    includeVars: changed ? undefined : plan.includeVars,
    warnings: plan.warnings?.length ? plan.warnings : undefined,
  };
}

function safeResult(fn: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return fn();
  } catch {
    return {};
  }
}
