/**
 * Running a loaded playbook: plays -> batches (serial) -> sections (pre_tasks, roles+tasks,
 * post_tasks, each followed by its handlers) -> tasks. Runs of module tasks are per-host pipelines
 * where the play allows (pipeline.ts: each host goes on at its own pace); elsewhere, and with
 * `strategy: linear`, a task runs on every active host (up to `forks` at once) before the next
 * one starts. A failed host leaves the play; an unreachable host is reported as unreachable.
 * Results are events (events.ts).
 * This file owns the walk (plays, batches, sections, blocks, includes) and the summary; the
 * parts it calls: prefetch.ts (a section's facts), module-task.ts (a task on the hosts),
 * handlers.ts, meta.ts (meta tasks), select.ts (tags, when), scope.ts (variables), state.ts (what
 * they share).
 */
import { UserError } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';
import type { BlockTask, IncludeTask, ModuleTask, Play, Playbook, Task } from '../playbook/model.js';
import { collectSecrets } from '../core/secret.js';
import { RunStopped, type HostCounters } from './events.js';
import { flushHandlers, playHandlers } from './handlers.js';
import type { HostState } from './host.js';
import { loopItems } from './loop.js';
import { runMeta } from './meta.js';
import { runModuleTask } from './module-task.js';
import { pipelineLength, runPipeline } from './pipeline.js';
import { prefetchSection } from './prefetch.js';
import { hostScope, inherit, renderPlain, type Inherited } from './scope.js';
import { filterWhen } from './select.js';
import { PlayRun, RunState, type RunOptions, type RunSummary } from './state.js';

export type { RunOptions, RunSummary };

export async function runPlaybook(pb: Playbook, opts: RunOptions): Promise<RunSummary> {
  const run = new RunState(pb, opts);
  const t0 = Date.now();
  run.bus.emit({ type: 'run:start', playbook: pb.file, check: run.env.check, diff: run.env.diff });
  // The one listener on the run's signal: it fans out to the hosts' own signals (HostState.abort).
  const onAbort = () => {
    run.interrupted = true;
    for (const h of run.hosts.values()) h.abort.abort(opts.signal!.reason);
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    for (const play of pb.plays) {
      if (run.interrupted) break;
      await runPlay(run, play);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled([...run.hosts.values()].map((h) => h.conn?.close()));
  }
  const hosts: Record<string, HostCounters> = {};
  // A host only delegated to (or looked up in hostvars) ran nothing of its own: not in the recap.
  for (const [n, h] of run.hosts) if (h.played) hosts[n] = h.counters;
  const durationMs = Date.now() - t0;
  const reason: unknown = opts.signal?.reason;
  const stoppedBy = run.interrupted && reason instanceof RunStopped ? reason.by : undefined;
  run.bus.emit({ type: 'recap', hosts, durationMs, interrupted: run.interrupted, ...(stoppedBy ? { stoppedBy } : {}) });
  const all = [...run.hosts.values()];
  return {
    hosts,
    failed: all.some((h) => h.counters.failed > 0),
    unreachable: all.some((h) => h.counters.unreachable > 0),
    changed: all.some((h) => h.counters.changed > 0),
    interrupted: run.interrupted,
    durationMs,
    stats: {
      ...run.env.stats,
      connects: all.reduce((n, h) => n + (h.conn?.stats.connects ?? 0), 0),
      execs: all.reduce((n, h) => n + (h.conn?.stats.execs ?? 0), 0),
    },
  };
}

// ---- plays and batches ---------------------------------------------------------------------

function playHosts(run: RunState, play: Play): string[] {
  const { inventory, limit } = run.opts;
  let names = inventory.select(renderPlain(run, play.hosts, play), play.src.file.pos([...play.src.path, 'hosts']));
  if (limit) {
    const allowed = new Set(inventory.select(limit));
    names = names.filter((n) => allowed.has(n));
  }
  return names.filter((n) => run.host(n).active);
}

async function runPlay(run: RunState, play: Play): Promise<void> {
  const names = playHosts(run, play);
  for (const n of names) run.host(n).played = true;
  run.bus.emit({ type: 'play:start', play: play.name, hosts: names });
  collectSecrets(play.vars.vars, run.env.secrets);
  for (const l of play.varsFiles) collectSecrets(l.vars, run.env.secrets);
  const handlers = playHandlers(play);
  for (const batch of batches(names, play.serial)) {
    if (run.interrupted) break;
    const ctx = new PlayRun(play, batch.map((n) => run.host(n)), names, handlers);
    if (play.gatherFacts) await gatherFacts(run, ctx);
    const inh: Inherited = { become: play.become, becomeUser: play.becomeUser, becomeMethod: play.becomeMethod, tags: play.tags, blockVars: [], noLog: play.noLog, checkMode: play.checkMode, ignoreErrors: false };
    for (const [section, tasks] of [['pre_tasks', play.preTasks], ['tasks', play.tasks], ['post_tasks', play.postTasks]] as const) {
      if (ctx.aborted || run.interrupted) break;
      await prefetchSection(run, ctx, tasks, inh);
      await runList(run, ctx, tasks, ctx.active(), inh, section);
      await flushHandlers(run, ctx, inh);
    }
    if (ctx.aborted) break;
  }
  // meta end_host / end_batch / end_play end this play only.
  for (const n of names) run.host(n).ended = false;
  run.bus.emit({ type: 'play:end', play: play.name });
}

async function gatherFacts(run: RunState, ctx: PlayRun): Promise<void> {
  const setup = run.opts.registry.get('setup');
  const need = ctx.active().filter((h) => !h.facts);
  if (!setup || !need.length) return;
  const task = syntheticTask(setup, 'Gathering Facts', ctx.play);
  await runModuleTask(run, ctx, task, need, { tags: ['always'], blockVars: [], noLog: false, ignoreErrors: false, become: ctx.play.become, becomeUser: ctx.play.becomeUser, becomeMethod: ctx.play.becomeMethod }, 'facts', false);
}

function syntheticTask(module: AnyModule, name: string, play: Play): ModuleTask {
  return {
    kind: 'module', name, moduleName: module.name, module, args: {}, src: play.src, when: [], tags: ['always'], ignoreErrors: false,
    noLog: false, runOnce: false, loopVar: 'item', notify: [], retries: 0, delaySeconds: 0,
  };
}

function batches(names: string[], serial?: Array<number | string>): string[][] {
  if (!serial?.length) return [names];
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < names.length) {
    const s = serial[Math.min(k, serial.length - 1)]!;
    const size = typeof s === 'number' ? s : Math.max(1, Math.floor((names.length * parseInt(s, 10)) / 100));
    out.push(names.slice(i, i + size));
    i += size;
    k++;
  }
  return out;
}

// ---- task lists, blocks, includes ----------------------------------------------------------

async function runList(run: RunState, ctx: PlayRun, tasks: Task[], hosts: HostState[], inh: Inherited, section: string): Promise<void> {
  for (let i = 0; i < tasks.length; i++) {
    if (run.interrupted || ctx.aborted) return;
    const live = hosts.filter((h) => h.active);
    if (!live.length) return;
    const n = live.length > 1 ? pipelineLength(run, ctx, tasks, i) : 0;
    if (n > 1) {
      await runPipeline(run, ctx, tasks.slice(i, i + n) as ModuleTask[], live, inh, section);
      i += n - 1;
      continue;
    }
    const t = tasks[i]!;
    if (t.kind === 'module' && t.moduleName === 'meta') await runMeta(run, ctx, t, live, inh, section);
    else if (t.kind === 'module') await runModuleTask(run, ctx, t, live, inh, section, false);
    else if (t.kind === 'block') await runBlock(run, ctx, t, live, inh);
    else await runInclude(run, ctx, t, live, inh);
  }
}

async function runBlock(run: RunState, ctx: PlayRun, t: BlockTask, hosts: HostState[], inh: Inherited): Promise<void> {
  const sub = inherit(inh, t);
  const entered = filterWhen(run, ctx, t, hosts, sub);
  if (!entered.length) return;
  const failedBefore = new Set(entered.filter((h) => h.failed));
  await runList(run, ctx, t.block, entered, sub, 'block');
  const failedInBlock = entered.filter((h) => h.failed && !failedBefore.has(h) && !h.unreachable);
  if (t.rescue.length && failedInBlock.length) {
    // Rescue: the host is given another chance; a successful rescue clears the failure.
    for (const h of failedInBlock) {
      h.failed = false;
      h.counters.failed--;
      h.counters.rescued++;
    }
    await runList(run, ctx, t.rescue, failedInBlock, sub, 'rescue');
  }
  if (t.always.length) {
    const again = entered.filter((h) => !h.unreachable);
    const wasFailed = again.filter((h) => h.failed);
    for (const h of wasFailed) h.failed = false;
    await runList(run, ctx, t.always, again, sub, 'always');
    for (const h of wasFailed) h.failed = true;
  }
}

async function runInclude(run: RunState, ctx: PlayRun, t: IncludeTask, hosts: HostState[], inh: Inherited): Promise<void> {
  const sub = inherit(inh, t);
  const entered = filterWhen(run, ctx, t, hosts, sub);
  if (!entered.length) return;
  if (t.loop === undefined) return runList(run, ctx, t.tasks, entered, sub, 'include');
  // include_tasks with a loop: run the file once per item, linearly across hosts.
  const itemsByHost = new Map<HostState, unknown[]>();
  for (const h of entered) {
    try {
      itemsByHost.set(h, loopItems(t.loop, hostScope(run, ctx, h, t, sub)));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      run.failTask(h, t, e.diagnostics[0]?.message ?? e.message);
    }
  }
  const max = Math.max(0, ...[...itemsByHost.values()].map((l) => l.length));
  for (let i = 0; i < max; i++) {
    const group = [...itemsByHost].filter(([h, items]) => i < items.length && h.active);
    for (const [h, items] of group) ctx.includeItem.set(h, { [t.loopVar]: items[i] });
    run.varsChanged();
    await runList(run, ctx, t.tasks, group.map(([h]) => h), { ...sub, loopVars: undefined }, 'include');
    for (const [h] of group) ctx.includeItem.delete(h);
    run.varsChanged();
  }
}
