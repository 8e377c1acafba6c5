/**
 * One module task on one host: when -> loop -> render params -> prepare -> probe (one batched
 * exec) -> plan -> apply (unless check mode) -> changed_when/failed_when -> register/notify.
 */
import { setTimeout } from 'node:timers/promises';
import { z } from 'zod';
import { BecomeError, CommandTimeoutError, UnreachableError } from '../connection/types.js';
import { UserError } from '../core/errors.js';
import type { ExecResult, Fact, FileDiff, Plan, PlanContext, PrepareContext, PutStep, Step } from '../core/module.js';
import { coerceScalars } from '../core/coerce.js';
import type { ModuleTask } from '../playbook/model.js';
import { findLocalFile, fileCandidates } from '../playbook/files.js';
import { renderTemplate } from '../playbook/templates.js';
import { evaluate, render, unwrapSecrets } from '../vars/expr.js';
import type { Scope } from '../vars/scope.js';
import { runStep, StepFailed, WriteConflict } from './apply.js';
import { type FailureDetail, type HostStatus } from './events.js';
import { exitCodeMeaning, stderrTail } from './exit-codes.js';
import { batchFacts } from './facts-batch.js';
import type { HostState } from './host.js';

export interface TaskEnv {
  check: boolean;
  diff: boolean;
  playbookDir: string;
  signal?: AbortSignal;
  /** Every secret string seen so far (masked in all output). */
  secrets: Set<string>;
  /** Counts for tests and benchmarks. */
  stats: { probeExecs: number; stepExecs: number };
}

/** The outcome of one module run (one loop item). */
export interface ItemOutcome {
  status: HostStatus;
  result: Record<string, unknown>;
  msg?: string;
  changes?: string[];
  diffs?: FileDiff[];
  failure?: FailureDetail;
  setFacts?: Record<string, unknown>;
}

/** Evaluates conditions that must be booleans (when, changed_when, failed_when, until). */
export function condition(code: string, scope: Scope, key: string): boolean {
  if (code === 'true') return true;
  if (code === 'false') return false;
  const v = evaluate(code, scope);
  if (typeof v !== 'boolean') {
    throw new UserError(`${key}: \`${code}\` gave ${describeValue(v)}, not a boolean; compare explicitly (e.g. \`x === 'yes'\`) or use bool(x)`);
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? v.slice(0, 27) + '...' : v)}`;
  if (Array.isArray(v)) return 'a list';
  return `${typeof v === 'object' ? 'an object' : `the ${typeof v} ${String(v)}`}`;
}

export function effectiveBecome(hs: HostState, become: boolean | undefined, becomeUser: string | undefined): { user: string; password?: string } | undefined {
  const on = become ?? hs.connVars?.become ?? false;
  if (!on) return undefined;
  return { user: becomeUser ?? hs.connVars?.becomeUser ?? 'root', password: hs.connVars?.becomePassword };
}

/** Renders a task's parameters for a host and validates them with the module's schema. */
export function renderParams(task: ModuleTask, scope: Scope, env: TaskEnv): { ok: true; params: unknown } | { ok: false; error: string } {
  const module = task.module;
  const rendered = stripOmit(unwrapSecrets(render(task.args, scope), (s) => env.secrets.add(s)));
  for (const s of scope.secretsUsed) env.secrets.add(s);
  const parsed = module.params.safeParse(coerceScalars(module.params, rendered));
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    return { ok: false, error: `${module.name}: ${iss.path.length ? `${iss.path.join('.')}: ` : ''}${iss.message}` };
  }
  for (const k of module.secretParams ?? []) {
    const v = (parsed.data as Record<string, unknown>)[k];
    if (typeof v === 'string' && v) env.secrets.add(v);
  }
  return { ok: true, params: parsed.data };
}

/** Where a fact's output is cached on a host: the same command run as the same user. */
export const factCacheKey = (f: Fact, become?: { user: string }) => `${become?.user ?? ''}\0${f.key}\0${f.command}`;

export async function runModuleItem(
  task: ModuleTask,
  hs: HostState,
  scope: Scope,
  env: TaskEnv,
  opts: { become?: { user: string; password?: string }; check: boolean; diff: boolean; environment?: Record<string, string> },
): Promise<ItemOutcome> {
  const module = task.module;
  // 1. Parameters: render templates, unwrap secrets (remembering them), then validate.
  let params: unknown;
  try {
    const r = renderParams(task, scope, env);
    if (!r.ok) return fail(r.error);
    params = r.params;
  } catch (e) {
    if (e instanceof UserError) return fail(e.diagnostics[0]?.message ?? e.message);
    throw e;
  }

  // 2. Controller-side preparation (templates, local files).
  if (module.prepare) {
    const pctx: PrepareContext = {
      host: hs.name,
      vars: new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? scope.get(k) : undefined), has: (_t, k) => typeof k === 'string' && scope.has(k) }) as Record<string, unknown>,
      findFile: (kind, name) => {
        const f = findLocalFile(kind, name, { role: task.role, playbookDir: env.playbookDir });
        if (!f) throw new UserError(`${kind === 'templates' ? 'template' : 'file'} "${name}" not found (looked in ${fileCandidates(kind, name, { role: task.role, playbookDir: env.playbookDir }).join(', ')})`);
        return f;
      },
      renderTemplate: async (file, extra) => {
        const out = await renderTemplate(file, scope, extra);
        for (const s of scope.secretsUsed) env.secrets.add(s);
        return out;
      },
    };
    try {
      params = await module.prepare(params as never, pctx);
    } catch (e) {
      if (e instanceof UserError) return fail(e.diagnostics[0]?.message ?? e.message);
      return fail(`${module.name}: ${(e as Error).message}`);
    }
  }

  // 3-5. Probe, plan, apply. A write refused because its file changed on the host since it was
  // read (WriteConflict: nothing was written) is read, planned and applied again after a short
  // random pause, which grows with each attempt: another run writing the same file in a loop
  // gets ahead of a single retry about one time in five.
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const outcome = await probePlanApply(task, hs, scope, params, env, opts);
    if (!(outcome instanceof WriteConflict)) return outcome;
    if (attempt === WRITE_ATTEMPTS) return conflictFailure(outcome, attempt, Date.now() - started);
    // The cache was cleared before the write: the next probe reads the file as it is now.
    await setTimeout(Math.random() * Math.min(1000, 10 * 2 ** attempt), undefined, { signal: env.signal }).catch(() => undefined);
  }
}

/** Reads and plans of one task item whose writes were refused before tsplay gives up on it. */
const WRITE_ATTEMPTS = 10;

async function probePlanApply(
  task: ModuleTask,
  hs: HostState,
  scope: Scope,
  params: unknown,
  env: TaskEnv,
  opts: Parameters<typeof runModuleItem>[4],
): Promise<ItemOutcome | WriteConflict> {
  const module = task.module;
  const conn = hs.conn;
  // 3. Probe: every fact of the task in one exec; check mode uses assumed facts where known.
  const facts: Record<string, unknown> = {};
  if (module.probe && !module.local) {
    const specs = module.probe(params as never) as Record<string, Fact>;
    const outputs = new Map<string, ExecResult>();
    const toRun: Fact[] = [];
    for (const f of Object.values(specs)) {
      if (opts.check && hs.assumed.has(f.key)) continue;
      const cached = hs.factCache.get(factCacheKey(f, opts.become));
      if (cached) outputs.set(f.key, cached);
      else toRun.push(f);
    }
    if (toRun.length) {
      const batch = batchFacts(toRun);
      env.stats.probeExecs++;
      const out = await conn!.run(batch.script, { become: opts.become, signal: env.signal });
      batch.split(out).forEach((r, i) => {
        outputs.set(toRun[i]!.key, r);
        hs.factCache.set(factCacheKey(toRun[i]!, opts.become), r);
      });
    }
    for (const [name, f] of Object.entries(specs)) {
      if (opts.check && hs.assumed.has(f.key)) {
        facts[name] = hs.assumed.get(f.key);
        continue;
      }
      const out = outputs.get(f.key)!;
      try {
        facts[name] = f.parse(out);
      } catch (e) {
        return fail(`could not read fact ${f.key}: ${(e as Error).message}`, { stderrTail: stderrTail(out.stderr, 5) });
      }
    }
  }

  // 4. Plan (pure).
  const pctx: PlanContext = {
    host: hs.name,
    check: opts.check,
    diff: opts.diff,
    hostFacts: hs.facts ?? {},
    pending: opts.check ? [...hs.pending] : [],
    connection: { port: hs.connVars?.port ?? 22, local: hs.connVars?.connection === 'local', user: hs.connVars?.user, controllerAddress: conn?.localAddress },
    evaluate: (expr: string) => {
      const v = evaluate(expr, scope);
      for (const s of scope.secretsUsed) env.secrets.add(s);
      return v;
    },
  };
  let plan: Plan;
  try {
    plan = module.plan(params as never, facts as never, pctx);
  } catch (e) {
    if (e instanceof UserError || e instanceof z.ZodError) return fail(`${module.name}: ${(e as Error).message}`);
    throw e;
  }
  if ('failed' in plan) return fail(plan.msg);

  // 5. Apply.
  const results: ExecResult[] = [];
  const steps: Step[] = plan.changed ? plan.steps : (plan.steps ?? []);
  const runSteps = !plan.changed || !opts.check || plan.runInCheckMode;
  if (runSteps) {
    // The host is about to change: facts read before may no longer hold.
    if (steps.length) hs.factCache.clear();
    for (const step of steps) {
      try {
        env.stats.stepExecs++;
        // A write checks that its file is still what the plan read, unless steps of this same
        // plan ran before it: they may change the file themselves (a package install writes
        // its default config before tsplay's), so such a write replaces it unconditionally.
        const run = step.kind === 'put' && results.length ? { ...step, expect: undefined } : step;
        results.push(await runStep(run, { conn: conn!, become: opts.become, environment: opts.environment, signal: env.signal }));
      } catch (e) {
        if (e instanceof WriteConflict) return e;
        if (e instanceof StepFailed) {
          const r = e.result;
          const output = module.result ? safeResult(() => module.result!(params as never, facts as never, [...results, r])) : {};
          return {
            status: 'failed',
            msg: `${e.message}${step.kind === 'exec' && step.description ? ` (${step.description})` : ''}`,
            result: { ...output, changed: results.length > 0, failed: true, rc: r.code, stdout: r.stdout, stderr: r.stderr, msg: e.message },
            failure: {
              command: step.kind === 'exec' ? step.cmd : `write ${step.path}`,
              exitCode: r.code,
              meaning: exitCodeMeaning(r.code),
              stderrTail: stderrTail(r.stderr || r.stdout),
            },
          };
        }
        throw e;
      }
    }
  }
  let output: Record<string, unknown> = plan.output ?? {};
  if (module.result && runSteps) output = { ...output, ...module.result(params as never, facts as never, results) };
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
  };
}

/** The last refused write of one task item: something keeps changing the file. */
function conflictFailure(e: WriteConflict, attempts: number, ms: number): ItemOutcome {
  const path = (e.step as PutStep).path;
  return fail(`${path} changed on the host each time tsplay read and wrote it (${attempts} times in ${(ms / 1000).toFixed(1)} s); nothing was written`, {
    command: `write ${path}`,
    exitCode: e.result.code,
    meaning: `${e.result.code} (the file changed since it was read)`,
    stderrTail: stderrTail(e.result.stderr),
  });
}

/** Drops parameters whose value is Ansible's `omit` placeholder. */
export const OMIT = '__tsplay_omit__';
function stripOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT).map(stripOmit);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== OMIT && x !== undefined).map(([k, x]) => [k, stripOmit(x)]));
  }
  return v;
}

function safeResult(fn: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return fn();
  } catch {
    return {};
  }
}

function fail(msg: string, failure?: FailureDetail): ItemOutcome {
  return { status: 'failed', msg, result: { changed: false, failed: true, msg }, failure };
}

/** Errors from the connection that mean "unreachable" rather than "failed". */
export function isUnreachable(e: unknown): e is UnreachableError {
  return e instanceof UnreachableError;
}

export function connectionFailureMessage(e: unknown): string | undefined {
  if (e instanceof BecomeError) return e.message;
  if (e instanceof CommandTimeoutError) return e.message;
  return undefined;
}
