/**
 * A module task on one host: its loop (items, labels, ansible_loop), each item's `when`,
 * retries (`until`), changed_when / failed_when, then the task's aggregated status, `register`,
 * set_fact and `notify`. Each item is one runModuleItem (task.ts).
 */
import { UserError } from '../core/errors.js';
import type { IncludedVars } from '../core/module.js';
import type { ModuleTask } from '../playbook/model.js';
import { render } from '../vars/expr.js';
import type { Scope } from '../vars/scope.js';
import { connectionFailureMessage, effectiveBecome, ensureConnection, isUnreachable } from './connections.js';
import type { HostStatus, TaskHostResult } from './events.js';
import type { HostState } from './host.js';
import type { ItemOptions, ItemOutcome } from './item.js';
import { executingHost, onDelegate } from './delegate.js';
import { condition } from './params.js';
import { hostScope, itemVars, type Inherited } from './scope.js';
import type { PlayRun, RunState } from './state.js';
import { runModuleItem } from './task.js';

type Emit = (o: Omit<TaskHostResult, 'host' | 'durationMs'>) => void;

/**
 * Runs a module task on one host (all loop items); returns the status counted for the task.
 * `shareWith` (run_once: the play's other hosts) also get what the task registers, its set_fact
 * values and its include_vars layers, as Ansible applies a run_once task's results to the batch.
 */
export async function runOnHost(run: RunState, ctx: PlayRun, t: ModuleTask, h: HostState, inh: Inherited, id: number, shareWith: readonly HostState[] = []): Promise<HostStatus> {
  run.emitProgress(id, h, 'start');
  try {
    return await runItems(run, ctx, t, h, inh, id, shareWith);
  } finally {
    run.emitProgress(id, h, 'done');
  }
}

async function runItems(run: RunState, ctx: PlayRun, t: ModuleTask, h: HostState, inh: Inherited, id: number, shareWith: readonly HostState[]): Promise<HostStatus> {
  const t0 = Date.now();
  // A templated no_log hides everything until it is known to be false for this host.
  let noLog = inh.noLog || !!inh.noLogIf;
  h.quiet = noLog;
  /** The host the current item runs on when the task is delegated to another (delegate.ts). */
  let delegate: string | undefined;
  const emit: Emit = (o) => run.emitResult(id, t, h, { ...o, ...(delegate !== undefined ? { delegate } : {}), durationMs: Date.now() - t0 }, noLog);
  let scope: Scope;
  let items: unknown[] | undefined;
  let ignore = inh.ignoreErrors;
  try {
    scope = hostScope(run, ctx, h, t, inh);
    if (!inh.noLog && inh.noLogIf) {
      const code = inh.noLogIf;
      const hide = evaluateNoLog(code, scope);
      if (hide === undefined) {
        noLog = false;
        return failAndEmit(h, `no_log: \`${code.join(' || ')}\` did not give a boolean; the task did not run (compare explicitly or use bool(x))`, emit, false);
      }
      noLog = h.quiet = hide;
    }
    if (!ignore && inh.ignoreErrorsIf) ignore = inh.ignoreErrorsIf.some((c) => condition(c, scope, 'ignore_errors'));
    if (t.loop !== undefined) items = loopItems(t.loop, scope);
    run.noteSecrets(scope);
    if (!t.module.local && inh.delegateTo === undefined) await ensureConnection(run, h, scope);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return failAndEmit(h, e.diagnostics[0]?.message ?? e.message, emit, ignore);
  }
  const check = inh.checkMode ?? run.env.check;
  const diff = t.diff ?? run.env.diff;
  const outcomes: ItemOutcome[] = [];
  /** The host each outcome ran on (delegate_facts). */
  const ranOn: HostState[] = [];
  const list = items ?? [undefined];
  let anyRan = false;
  for (let i = 0; i < list.length; i++) {
    if (run.interrupted) break;
    if (items && i > 0 && t.loopPause) await sleep(t.loopPause * 1000, h.abort.signal);
    if (run.interrupted) break;
    delegate = undefined;
    const loopVars = items ? itemVars(t, list, i) : undefined;
    const s = loopVars ? hostScope(run, ctx, h, t, inh, loopVars) : scope;
    const label = items ? itemLabel(run, t, s, list[i]) : undefined;
    let outcome: ItemOutcome;
    try {
      if (!t.when.every((c) => condition(c, s, 'when'))) {
        outcome = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'condition was false' }, msg: 'condition was false' };
      } else {
        anyRan = true;
        const environment = inh.environment ? (Object.fromEntries(Object.entries(render(inh.environment, s) as object).map(([k, v]) => [k, String(v)])) as Record<string, string>) : undefined;
        const on = await executingHost(run, ctx, t, h, inh, s);
        delegate = on === h ? undefined : on.name;
        ranOn[outcomes.length] = on;
        // The task's variables choose the become method on its own host; a delegate's are its own.
        const become = effectiveBecome(on, inh, on === h ? s : undefined);
        outcome = await onDelegate(t, inh, on, () => attempt(run, t, h, on, s, { become, check, diff, environment, changesNothing: t.changedWhen?.some((c) => c.trim() === 'false') }));
      }
    } catch (e) {
      if (isUnreachable(e)) {
        h.unreachable = true;
        h.counters.unreachable++;
        emit({ status: 'unreachable', msg: e.message, item: label });
        return 'unreachable';
      }
      const conn = connectionFailureMessage(e);
      if (conn) outcome = { status: 'failed', msg: conn, result: { failed: true, changed: false, msg: conn } };
      else if (e instanceof UserError) outcome = { status: 'failed', msg: e.diagnostics[0]?.message ?? e.message, result: { failed: true, changed: false, msg: e.message } };
      else if ((e as Error)?.name === 'AbortError' || run.interrupted) {
        outcome = { status: 'failed', msg: 'interrupted', result: { failed: true, changed: false, msg: 'interrupted' } };
      } else throw e;
    }
    run.noteSecrets(s);
    outcomes.push(outcome);
    if (outcome.warnings) run.emitWarnings(id, t, h, outcome.warnings, noLog, label);
    if (items) emit({ status: outcome.status, item: label, msg: outcome.msg, changes: outcome.changes, diffs: diff ? outcome.diffs : undefined, failure: outcome.failure, ignored: outcome.status === 'failed' && ignore });
  }
  // Aggregate.
  const failed = outcomes.some((o) => o.status === 'failed');
  const changed = outcomes.some((o) => o.status === 'changed');
  const status: HostStatus = failed ? 'failed' : changed ? 'changed' : !anyRan ? 'skipped' : 'ok';
  const registered = items
    ? { results: outcomes.map((o, i) => ({ ...o.result, item: list[i] })), changed, failed, skipped: !anyRan, msg: failed ? 'one or more items failed' : undefined }
    : outcomes[0]!.result;
  for (const x of [h, ...shareWith]) if (t.register) x.registered[t.register] = registered;
  outcomes.forEach((o, i) => {
    // delegate_facts: the values belong to the delegate alone.
    const to = inh.delegateFacts ? [ranOn[i] ?? h] : [h, ...shareWith];
    for (const x of to) {
      if (o.setFacts) applySetFacts(t, x, o.setFacts, x !== h);
      if (o.includeVars) applyIncluded(x, o.includeVars);
    }
  });
  if (t.register || outcomes.some((o) => o.setFacts || o.includeVars)) run.varsChanged();
  if (changed && !failed) for (const n of t.notify) h.notified.add(String(render(n, scope)));
  if (items && items.length === 0) emit({ status: 'skipped', msg: 'no items to loop over' });
  if (!items && outcomes.length) {
    const o = outcomes[0]!;
    emit({ status: o.status, msg: o.msg, changes: o.changes, diffs: diff ? o.diffs : undefined, failure: o.failure, ignored: failed && ignore });
  }
  if (failed) {
    if (ignore) {
      h.counters.ignored++;
      return 'failed';
    }
    h.failed = true;
    h.counters.failed++;
    return 'failed';
  }
  h.counters[status === 'changed' ? 'changed' : status === 'skipped' ? 'skipped' : 'ok']++;
  return status;
}

/**
 * One item: run the module on `on` (h, or its delegate), then changed_when / failed_when,
 * retrying while `until` is false.
 */
async function attempt(run: RunState, t: ModuleTask, h: HostState, on: HostState, s: Scope, o: ItemOptions): Promise<ItemOutcome> {
  for (let n = 0; ; n++) {
    let outcome = await runModuleItem(t, on, s, run.envFor(h), o);
    const withResult = t.register ? s.child({ label: 'this result', vars: { [t.register]: outcome.result }, kind: 'data' }) : s;
    if (outcome.status !== 'skipped' && t.changedWhen) {
      const c = t.changedWhen.every((x) => condition(x, withResult, 'changed_when'));
      if (outcome.status !== 'failed') outcome = { ...outcome, status: c ? 'changed' : 'ok' };
      outcome.result = { ...outcome.result, changed: c };
    }
    if (t.failedWhen) {
      const f = t.failedWhen.every((x) => condition(x, withResult, 'failed_when'));
      outcome = f ? { ...outcome, status: 'failed', msg: outcome.msg ?? `failed_when: ${t.failedWhen.join(' && ')}` } : { ...outcome, status: outcome.status === 'failed' ? 'ok' : outcome.status, failure: undefined };
      outcome.result = { ...outcome.result, failed: f };
    }
    if (!t.until || n >= t.retries) return outcome;
    if (t.until.every((x) => condition(x, withResult, 'until'))) return outcome;
    await sleep(t.delaySeconds * 1000, h.abort.signal);
    if (run.interrupted) return outcome;
  }
}

function applySetFacts(t: ModuleTask, h: HostState, facts: Record<string, unknown>, shared: boolean): void {
  if (t.moduleName === 'setup' && facts.facts && typeof facts.facts === 'object') {
    // Gathered facts describe the host they were read from: never shared by run_once.
    if (!shared) h.facts = facts.facts as Record<string, unknown>;
    return;
  }
  Object.assign(h.registered, facts);
}

/** include_vars: one layer per file (and name:); a file read again moves to the top with its new values. */
function applyIncluded(h: HostState, layers: IncludedVars[]): void {
  for (const l of layers) {
    const at = h.included.findIndex((x) => x.file === l.file && Object.keys(x.vars).join() === Object.keys(l.vars).join());
    if (at >= 0) h.included.splice(at, 1);
    h.included.push(l);
  }
}

/** The items of a `loop` / `with_items` / `with_dict`, rendered for a host. */
export function loopItems(loop: unknown, scope: Scope): unknown[] {
  if (loop && typeof loop === 'object' && !Array.isArray(loop) && '__dict2items' in loop) {
    const d = render((loop as { __dict2items: unknown }).__dict2items, scope);
    if (!d || typeof d !== 'object') throw new UserError('with_dict needs a mapping');
    return Object.entries(d).map(([key, value]) => ({ key, value }));
  }
  const v = render(loop, scope);
  if (!Array.isArray(v)) throw new UserError(`loop must give a list, got ${v === null ? 'null' : typeof v}`);
  return v;
}

function itemLabel(run: RunState, t: ModuleTask, s: Scope, item: unknown): string {
  if (t.loopLabel !== undefined) {
    try {
      return String(render(t.loopLabel, s));
    } catch {
      return t.loopLabel;
    }
  }
  // Masked before it is cut, so that no prefix of a secret is left to print.
  const text = run.bus.masker.mask(typeof item === 'string' ? item : JSON.stringify(item));
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

function failAndEmit(h: HostState, msg: string, emit: Emit, ignore: boolean): HostStatus {
  emit({ status: 'failed', msg, ignored: ignore });
  if (ignore) h.counters.ignored++;
  else {
    h.failed = true;
    h.counters.failed++;
  }
  return 'failed';
}

/** A templated no_log for a host: any true hides; undefined when one is not a boolean (its value is not shown). */
function evaluateNoLog(code: string[], scope: Scope): boolean | undefined {
  try {
    return code.some((c) => condition(c, scope, 'no_log'));
  } catch (e) {
    if (e instanceof UserError) return undefined;
    throw e;
  }
}

/** Waits `ms`, or less when `signal` aborts; leaves no listener behind either way. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
