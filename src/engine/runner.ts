/**
 * Running a loaded playbook: plays -> batches (serial) -> sections (pre_tasks, roles+tasks,
 * post_tasks, each followed by its handlers) -> tasks, linear strategy: a task runs on every
 * active host (up to `forks` at once) before the next one starts. A failed host leaves the
 * play; an unreachable host is reported as unreachable. Results are events (events.ts).
 */
import { openConnection } from '../connection/index.js';
import type { Connection } from '../connection/types.js';
import { UserError, type SourcePos } from '../core/errors.js';
import { CONNECTION_VAR_NAMES, connectionVars, type ConnectionVars } from '../inventory/connection.js';
import type { Inventory } from '../inventory/model.js';
import type { AnyModule, Fact } from '../core/module.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { posOf, type BlockTask, type Handler, type IncludeTask, type ModuleTask, type Play, type Playbook, type Task, type VarsLayer } from '../playbook/model.js';
import { render } from '../vars/expr.js';
import { buildScope, type VarsSource } from '../vars/precedence.js';
import type { Layer, Scope } from '../vars/scope.js';
import { collectSecrets } from '../core/secret.js';
import { EventBus, RunStopped, type HostCounters, type HostStatus, type TaskHostResult } from './events.js';
import { HostState } from './host.js';
import { condition, connectionFailureMessage, effectiveBecome, isUnreachable, OMIT, renderParams, runModuleItem, type ItemOutcome, type TaskEnv } from './task.js';
import { prefetchFacts } from './prefetch.js';

export interface RunOptions {
  inventory: Inventory;
  registry: ModuleRegistry;
  bus?: EventBus;
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  startAtTask?: string;
  extraVars?: Record<string, unknown>;
  forks?: number;
  signal?: AbortSignal;
  /** Read each section's facts up front in one exec per host (default true). */
  prefetch?: boolean;
  /** Injectable for engine unit tests (fake connections). */
  connect?: (vars: ConnectionVars) => Connection;
}

export interface RunSummary {
  hosts: Record<string, HostCounters>;
  failed: boolean;
  unreachable: boolean;
  changed: boolean;
  interrupted: boolean;
  durationMs: number;
  stats: { probeExecs: number; stepExecs: number; connects: number; execs: number };
}

/** Keywords a task inherits from the blocks, includes and roles around it. */
interface Inherited {
  become?: boolean;
  becomeUser?: string;
  tags: string[];
  blockVars: VarsLayer[];
  noLog: boolean;
  checkMode?: boolean;
  ignoreErrors: boolean;
  environment?: Record<string, unknown>;
  /** Loop variables of an enclosing include_tasks loop. */
  loopVars?: Record<string, unknown>;
}

const layerOf = (l: VarsLayer): VarsSource => ({ vars: l.vars, label: l.label, file: l.file, pos: l.pos });

/** Where a task is written, for its events (a runtime failure points at it like a validation error). */
const taskPositions = new WeakMap<Task, SourcePos>();
function taskPos(t: Task): SourcePos {
  let pos = taskPositions.get(t);
  if (!pos) taskPositions.set(t, (pos = posOf(t.src)));
  return pos;
}

export async function runPlaybook(pb: Playbook, opts: RunOptions): Promise<RunSummary> {
  return new Runner(pb, opts).run();
}

class Runner {
  private readonly bus: EventBus;
  private readonly hosts = new Map<string, HostState>();
  private readonly env: TaskEnv;
  private taskId = 0;
  private started: boolean;
  private interrupted = false;
  private readonly extraVars: VarsSource[];

  constructor(
    private readonly pb: Playbook,
    private readonly opts: RunOptions,
  ) {
    this.bus = opts.bus ?? new EventBus();
    this.env = { check: !!opts.check, diff: !!opts.diff, playbookDir: pb.dir, signal: opts.signal, secrets: this.bus.masker.secrets, stats: { probeExecs: 0, stepExecs: 0 } };
    this.started = !opts.startAtTask;
    this.extraVars = opts.extraVars ? [{ vars: opts.extraVars, label: 'extra vars (-e)' }] : [];
    collectSecrets(opts.extraVars, this.env.secrets);
  }

  private host(name: string): HostState {
    let hs = this.hosts.get(name);
    if (!hs) {
      const hv = this.opts.inventory.hostVars(name);
      const layers: Layer[] = hv.layers.map((l) => ({ label: l.label, vars: l.vars, kind: 'template', file: l.file, pos: l.pos }));
      for (const l of hv.layers) collectSecrets(l.vars, this.env.secrets);
      hs = new HostState(name, layers);
      if (this.interrupted) hs.abort.abort(this.opts.signal?.reason);
      this.hosts.set(name, hs);
    }
    return hs;
  }

  async run(): Promise<RunSummary> {
    const t0 = Date.now();
    this.bus.emit({ type: 'run:start', playbook: this.pb.file, check: this.env.check, diff: this.env.diff });
    // The one listener on the run's signal: it fans out to the hosts' own signals (HostState.abort).
    const onAbort = () => {
      this.interrupted = true;
      for (const h of this.hosts.values()) h.abort.abort(this.opts.signal!.reason);
    };
    if (this.opts.signal?.aborted) onAbort();
    this.opts.signal?.addEventListener('abort', onAbort);
    try {
      for (const play of this.pb.plays) {
        if (this.interrupted) break;
        await this.runPlay(play);
      }
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
      await Promise.allSettled([...this.hosts.values()].map((h) => h.conn?.close()));
    }
    const hosts: Record<string, HostCounters> = {};
    for (const [n, h] of this.hosts) hosts[n] = h.counters;
    const durationMs = Date.now() - t0;
    const reason: unknown = this.opts.signal?.reason;
    const stoppedBy = this.interrupted && reason instanceof RunStopped ? reason.by : undefined;
    this.bus.emit({ type: 'recap', hosts, durationMs, interrupted: this.interrupted, ...(stoppedBy ? { stoppedBy } : {}) });
    const all = [...this.hosts.values()];
    return {
      hosts,
      failed: all.some((h) => h.counters.failed > 0),
      unreachable: all.some((h) => h.counters.unreachable > 0),
      changed: all.some((h) => h.counters.changed > 0),
      interrupted: this.interrupted,
      durationMs,
      stats: {
        ...this.env.stats,
        connects: all.reduce((n, h) => n + (h.conn?.stats.connects ?? 0), 0),
        execs: all.reduce((n, h) => n + (h.conn?.stats.execs ?? 0), 0),
      },
    };
  }

  // ---- plays and batches -------------------------------------------------------------------

  private playHosts(play: Play): string[] {
    let names = this.opts.inventory.select(this.renderPlain(play.hosts, play), play.src.file.pos([...play.src.path, 'hosts']));
    if (this.opts.limit) {
      const allowed = new Set(this.opts.inventory.select(this.opts.limit));
      names = names.filter((n) => allowed.has(n));
    }
    return names.filter((n) => this.host(n).active);
  }

  /** Renders a play-level string (hosts, names) with extra vars and play vars only. */
  private renderPlain(s: string, play: Play): string {
    if (!s.includes('{{')) return s;
    const scope = buildScope({ inventoryLayers: [], playVars: layerOf(play.vars), extraVars: this.extraVars, magic: { inventory_hostname: '', groups: this.opts.inventory.groupsVar() } });
    return String(render(s, scope));
  }

  private async runPlay(play: Play): Promise<void> {
    const names = this.playHosts(play);
    this.bus.emit({ type: 'play:start', play: play.name, hosts: names });
    collectSecrets(play.vars.vars, this.env.secrets);
    for (const l of play.varsFiles) collectSecrets(l.vars, this.env.secrets);
    for (const batch of batches(names, play.serial)) {
      if (this.interrupted) break;
      const hosts = batch.map((n) => this.host(n));
      const ctx = new PlayRun(play, hosts, names);
      if (play.gatherFacts) await this.gatherFacts(ctx);
      const inh: Inherited = { become: play.become, becomeUser: play.becomeUser, tags: play.tags, blockVars: [], noLog: play.noLog, checkMode: play.checkMode, ignoreErrors: false };
      for (const [section, tasks] of [['pre_tasks', play.preTasks], ['tasks', play.tasks], ['post_tasks', play.postTasks]] as const) {
        if (ctx.aborted || this.interrupted) break;
        await this.prefetch(ctx, tasks, inh);
        await this.runList(ctx, tasks, ctx.active(), inh, section);
        await this.flushHandlers(ctx, inh);
      }
      if (ctx.aborted) break;
    }
    this.bus.emit({ type: 'play:end', play: play.name });
  }

  private async gatherFacts(ctx: PlayRun): Promise<void> {
    const setup = this.opts.registry.get('setup');
    const need = ctx.active().filter((h) => !h.facts);
    if (!setup || !need.length) return;
    const task = syntheticTask(setup, 'Gathering Facts', ctx.play);
    await this.runModuleTask(ctx, task, need, { tags: ['always'], blockVars: [], noLog: false, ignoreErrors: false, become: ctx.play.become, becomeUser: ctx.play.becomeUser }, 'facts', false);
  }

  /** Reads the facts of a whole section in one exec per host (see prefetch.ts). */
  private async prefetch(ctx: PlayRun, tasks: Task[], outer: Inherited): Promise<void> {
    if (this.opts.prefetch === false) return;
    await pool(ctx.active(), this.opts.forks ?? 20, async (h) => {
      const found: Array<{ fact: Fact; inh: Inherited }> = [];
      let firstScope: Scope | undefined;
      const visit = (list: Task[], inh: Inherited) => {
        for (const t of list) {
          const sub = this.inherit(inh, t);
          if (t.kind === 'block') [t.block, t.rescue, t.always].forEach((l) => visit(l, sub));
          else if (t.kind === 'include') visit(t.tasks, sub);
          else if (t.module.probe && !t.module.local && this.selected(sub.tags)) {
            try {
              const scope = this.scope(ctx, h, t, sub);
              firstScope ??= scope;
              const items = t.loop === undefined ? [undefined] : this.loopItems(t.loop, scope);
              for (const item of items) {
                const s = t.loop === undefined ? scope : this.scope(ctx, h, t, sub, { [t.loopVar]: item });
                const r = renderParams(t, s, this.env);
                if (r.ok) for (const fact of Object.values(t.module.probe(r.params as never) as Record<string, Fact>)) found.push({ fact, inh: sub });
              }
            } catch {
              // Depends on something not known yet (a registered result, ...): probed when it runs.
            }
          }
        }
      };
      visit(tasks, outer);
      if (found.length < 2 || !firstScope) return;
      try {
        await this.ensureConnection(h, firstScope);
        await prefetchFacts(h, found.map((f) => ({ fact: f.fact, become: effectiveBecome(h, f.inh.become, f.inh.becomeUser) })), this.envFor(h));
      } catch (e) {
        if (isUnreachable(e) || e instanceof UserError) return; // the task that needs the host reports it
        throw e;
      }
    });
  }

  // ---- task lists ---------------------------------------------------------------------------

  private async runList(ctx: PlayRun, tasks: Task[], hosts: HostState[], inh: Inherited, section: string): Promise<void> {
    for (const t of tasks) {
      if (this.interrupted || ctx.aborted) return;
      const live = hosts.filter((h) => h.active);
      if (!live.length) return;
      if (t.kind === 'module') await this.runModuleTask(ctx, t, live, inh, section, false);
      else if (t.kind === 'block') await this.runBlock(ctx, t, live, inh);
      else await this.runInclude(ctx, t, live, inh);
    }
  }

  private inherit(inh: Inherited, t: Task): Inherited {
    return {
      become: t.become ?? inh.become,
      becomeUser: t.becomeUser ?? inh.becomeUser,
      tags: [...inh.tags, ...t.tags],
      blockVars: t.vars && t.kind !== 'module' ? [...inh.blockVars, t.vars] : inh.blockVars,
      noLog: t.noLog || inh.noLog,
      checkMode: t.checkMode ?? inh.checkMode,
      ignoreErrors: t.ignoreErrors || inh.ignoreErrors,
      environment: t.environment ? { ...(inh.environment ?? {}), ...t.environment } : inh.environment,
      loopVars: inh.loopVars,
    };
  }

  /** Hosts for which a block's / include's `when` holds. */
  private filterWhen(ctx: PlayRun, t: Task, hosts: HostState[], inh: Inherited): HostState[] {
    if (!t.when.length) return hosts;
    const out: HostState[] = [];
    for (const h of hosts) {
      try {
        if (t.when.every((c) => condition(c, this.scope(ctx, h, t, inh), 'when'))) out.push(h);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        this.fail(ctx, h, t, e.diagnostics[0]?.message ?? e.message);
      }
    }
    return out;
  }

  private async runBlock(ctx: PlayRun, t: BlockTask, hosts: HostState[], inh: Inherited): Promise<void> {
    const sub = this.inherit(inh, t);
    const entered = this.filterWhen(ctx, t, hosts, sub);
    if (!entered.length) return;
    const failedBefore = new Set(entered.filter((h) => h.failed));
    await this.runList(ctx, t.block, entered, sub, 'block');
    const failedInBlock = entered.filter((h) => h.failed && !failedBefore.has(h) && !h.unreachable);
    if (t.rescue.length && failedInBlock.length) {
      // Rescue: the host is given another chance; a successful rescue clears the failure.
      for (const h of failedInBlock) {
        h.failed = false;
        h.counters.failed--;
        h.counters.rescued++;
      }
      await this.runList(ctx, t.rescue, failedInBlock, sub, 'rescue');
    }
    if (t.always.length) {
      const again = entered.filter((h) => !h.unreachable);
      const wasFailed = again.filter((h) => h.failed);
      for (const h of wasFailed) h.failed = false;
      await this.runList(ctx, t.always, again, sub, 'always');
      for (const h of wasFailed) h.failed = true;
    }
  }

  private async runInclude(ctx: PlayRun, t: IncludeTask, hosts: HostState[], inh: Inherited): Promise<void> {
    const sub = this.inherit(inh, t);
    const entered = this.filterWhen(ctx, t, hosts, sub);
    if (!entered.length) return;
    if (t.loop === undefined) return this.runList(ctx, t.tasks, entered, sub, 'include');
    // include_tasks with a loop: run the file once per item, linearly across hosts.
    const itemsByHost = new Map<HostState, unknown[]>();
    for (const h of entered) {
      try {
        itemsByHost.set(h, this.loopItems(t.loop, this.scope(ctx, h, t, sub)));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        this.fail(ctx, h, t, e.diagnostics[0]?.message ?? e.message);
      }
    }
    const max = Math.max(0, ...[...itemsByHost.values()].map((l) => l.length));
    for (let i = 0; i < max; i++) {
      const group = [...itemsByHost].filter(([h, items]) => i < items.length && h.active);
      for (const [h, items] of group) ctx.includeItem.set(h, { [t.loopVar]: items[i] });
      await this.runList(ctx, t.tasks, group.map(([h]) => h), { ...sub, loopVars: undefined }, 'include');
      for (const [h] of group) ctx.includeItem.delete(h);
    }
  }

  // ---- module tasks -------------------------------------------------------------------------

  /** Tag selection, like ansible-playbook: always runs unless skipped, never only when asked. */
  private selected(tags: string[]): boolean {
    const { tags: only, skipTags } = this.opts;
    if (skipTags?.length && tags.some((t) => skipTags.includes(t))) return false;
    if (tags.includes('never') && !(only?.length && tags.some((t) => only.includes(t) && t !== 'never'))) return false;
    if (!only?.length || only.includes('all')) return true;
    return tags.includes('always') || tags.some((t) => only.includes(t));
  }

  private async runModuleTask(ctx: PlayRun, t: ModuleTask, hosts: HostState[], outer: Inherited, section: string, handler: boolean): Promise<void> {
    const inh = this.inherit(outer, t);
    if (!this.selected(inh.tags)) return;
    const displayName = this.taskName(ctx, t, hosts[0]);
    if (!this.started) {
      if (!matchesTaskName(displayName, this.opts.startAtTask!)) return;
      this.started = true;
    }
    const id = ++this.taskId;
    this.bus.emit({ type: 'task:start', id, name: displayName, module: t.moduleName, hosts: hosts.map((h) => h.name), handler, section, pos: taskPos(t) });
    const counts: Record<HostStatus, number> = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
    const targets = t.runOnce ? hosts.slice(0, 1) : hosts;
    await pool(targets, this.opts.forks ?? 20, async (h) => {
      if (this.interrupted) return;
      const r = await this.runOnHost(ctx, t, h, inh, id);
      counts[r]++;
      if (t.runOnce) {
        for (const other of hosts.slice(1)) {
          if (t.register && h.registered[t.register] !== undefined) other.registered[t.register] = h.registered[t.register];
        }
      }
    });
    this.bus.emit({ type: 'task:end', id, counts, total: hosts.length });
    // any_errors_fatal / max_fail_percentage stop the play for everyone.
    const failedNow = ctx.hosts.filter((h) => !h.active).length;
    if (counts.failed && ctx.play.anyErrorsFatal) ctx.aborted = true;
    if (ctx.play.maxFailPercentage !== undefined && (failedNow / ctx.hosts.length) * 100 > ctx.play.maxFailPercentage) ctx.aborted = true;
  }

  private taskName(ctx: PlayRun, t: ModuleTask, h?: HostState): string {
    if (!t.name) return t.moduleName;
    if (!t.name.includes('{{') || !h) return t.name;
    const scope = this.scope(ctx, h, t, { tags: [], blockVars: [], noLog: false, ignoreErrors: false });
    try {
      return String(render(t.name, scope));
    } catch {
      return t.name;
    } finally {
      this.noteSecrets(scope);
    }
  }

  /** Secrets a template unwrapped are masked in all output from now on (see EventBus). */
  private noteSecrets(scope: Scope): void {
    for (const s of scope.secretsUsed) this.env.secrets.add(s);
  }

  /** The variable scope of a host for a task (see vars/precedence.ts for the order). */
  private scope(ctx: PlayRun, h: HostState, t: Task, inh: Inherited, loopVars?: Record<string, unknown>): Scope {
    const play = ctx.play;
    const role = t.role;
    const scope = buildScope({
      roleDefaults: role ? layerOf(role.defaults) : undefined,
      inventoryLayers: h.inventoryLayers,
      facts: h.facts,
      playVars: layerOf(play.vars),
      varsFiles: play.varsFiles.map(layerOf),
      roleVars: role ? layerOf(role.vars) : undefined,
      blockVars: inh.blockVars.map(layerOf),
      taskVars: t.vars ? layerOf(t.vars) : undefined,
      loopVars: { ...(ctx.includeItem.get(h) ?? {}), ...(inh.loopVars ?? {}), ...(loopVars ?? {}) },
      roleParams: role ? layerOf(role.params) : undefined,
      registered: h.registered,
      extraVars: this.extraVars,
      magic: {
        inventory_hostname: h.name,
        inventory_hostname_short: h.name.split('.')[0],
        groups: this.opts.inventory.groupsVar(),
        group_names: Object.entries(this.opts.inventory.groupsVar()).filter(([g, hs]) => g !== 'all' && g !== 'ungrouped' && hs.includes(h.name)).map(([g]) => g),
        hostvars: (name: string) => (this.opts.inventory.hosts.has(name) ? this.scope(ctx, this.host(name), { ...t, vars: undefined, role: undefined } as Task, { tags: [], blockVars: [], noLog: false, ignoreErrors: false }) : undefined),
        play_hosts: ctx.names,
        ansible_play_hosts: ctx.names,
        ansible_check_mode: this.env.check,
        ansible_diff_mode: this.env.diff,
        playbook_dir: this.pb.dir,
        role_name: role?.name,
        role_path: role?.dir,
        omit: OMIT,
      },
    });
    return scope;
  }

  /** The task environment for one host: its commands stop on the host's own signal. */
  private envFor(h: HostState): TaskEnv {
    return this.opts.signal ? { ...this.env, signal: h.abort.signal } : this.env;
  }

  private async ensureConnection(h: HostState, scope: Scope): Promise<void> {
    if (h.conn) return;
    const names = CONNECTION_VAR_NAMES;
    const vars: Record<string, unknown> = {};
    for (const n of names) if (scope.has(n)) vars[n] = scope.get(n);
    this.noteSecrets(scope);
    h.connVars = connectionVars(h.name, vars, { pos: (k) => this.opts.inventory.varSource(h.name, k)?.pos });
    if (h.connVars.password) this.env.secrets.add(h.connVars.password);
    if (h.connVars.becomePassword) this.env.secrets.add(h.connVars.becomePassword);
    h.conn = (this.opts.connect ?? openConnection)(h.connVars);
  }

  /** Runs a module task on one host (all loop items); returns the status counted for the task. */
  private async runOnHost(ctx: PlayRun, t: ModuleTask, h: HostState, inh: Inherited, id: number): Promise<HostStatus> {
    const t0 = Date.now();
    const noLog = t.noLog || inh.noLog;
    const emit = (o: Omit<TaskHostResult, 'host' | 'durationMs'>) => this.emitResult(id, t, h, { ...o, durationMs: Date.now() - t0 }, noLog);
    let scope: Scope;
    let items: unknown[] | undefined;
    try {
      scope = this.scope(ctx, h, t, inh);
      if (t.loop !== undefined) items = this.loopItems(t.loop, scope);
      this.noteSecrets(scope);
      if (!t.module.local) await this.ensureConnection(h, scope);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return this.failAndEmit(h, e.diagnostics[0]?.message ?? e.message, emit, inh.ignoreErrors);
    }
    const check = inh.checkMode ?? this.env.check;
    const diff = t.diff ?? this.env.diff;
    const become = effectiveBecome(h, inh.become, inh.becomeUser);
    const outcomes: ItemOutcome[] = [];
    const labels: Array<string | undefined> = [];
    const list = items ?? [undefined];
    let anyRan = false;
    for (let i = 0; i < list.length; i++) {
      if (this.interrupted) break;
      const loopVars = items ? { [t.loopVar]: list[i], ansible_loop: { index: i + 1, index0: i, first: i === 0, last: i === list.length - 1, length: list.length } } : undefined;
      const s = loopVars ? this.scope(ctx, h, t, inh, loopVars) : scope;
      const label = items ? this.itemLabel(t, s, list[i]) : undefined;
      labels.push(label);
      let outcome: ItemOutcome;
      try {
        if (!t.when.every((c) => condition(c, s, 'when'))) {
          outcome = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'condition was false' }, msg: 'condition was false' };
        } else {
          anyRan = true;
          const environment = inh.environment ? (Object.fromEntries(Object.entries(render(inh.environment, s) as object).map(([k, v]) => [k, String(v)])) as Record<string, string>) : undefined;
          outcome = await this.attempt(t, h, s, { become, check, diff, environment });
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
        else if ((e as Error)?.name === 'AbortError' || this.interrupted) {
          outcome = { status: 'failed', msg: 'interrupted', result: { failed: true, changed: false, msg: 'interrupted' } };
        } else throw e;
      }
      this.noteSecrets(s);
      outcomes.push(outcome);
      if (items) emit({ status: outcome.status, item: label, msg: outcome.msg, changes: outcome.changes, diffs: diff ? outcome.diffs : undefined, failure: outcome.failure, ignored: outcome.status === 'failed' && inh.ignoreErrors });
    }
    // Aggregate.
    const failed = outcomes.some((o) => o.status === 'failed');
    const changed = outcomes.some((o) => o.status === 'changed');
    const status: HostStatus = failed ? 'failed' : changed ? 'changed' : !anyRan ? 'skipped' : 'ok';
    const registered = items
      ? { results: outcomes.map((o, i) => ({ ...o.result, item: list[i] })), changed, failed, skipped: !anyRan, msg: failed ? 'one or more items failed' : undefined }
      : outcomes[0]!.result;
    if (t.register) h.registered[t.register] = registered;
    for (const o of outcomes) if (o.setFacts) this.applySetFacts(t, h, o.setFacts);
    if (changed && !failed) for (const n of t.notify) h.notified.add(String(render(n, scope)));
    if (items && items.length === 0) emit({ status: 'skipped', msg: 'no items to loop over' });
    if (!items && outcomes.length) {
      const o = outcomes[0]!;
      emit({ status: o.status, msg: o.msg, changes: o.changes, diffs: diff ? o.diffs : undefined, failure: o.failure, ignored: failed && inh.ignoreErrors });
    }
    if (failed) {
      if (inh.ignoreErrors) {
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

  /** One item: run the module, then changed_when / failed_when, retrying while `until` is false. */
  private async attempt(t: ModuleTask, h: HostState, s: Scope, o: { become?: { user: string; password?: string }; check: boolean; diff: boolean; environment?: Record<string, string> }): Promise<ItemOutcome> {
    for (let n = 0; ; n++) {
      let outcome = await runModuleItem(t, h, s, this.envFor(h), o);
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
      if (this.interrupted) return outcome;
    }
  }

  private applySetFacts(t: ModuleTask, h: HostState, facts: Record<string, unknown>): void {
    if (t.moduleName === 'setup' && facts.facts && typeof facts.facts === 'object') {
      h.facts = facts.facts as Record<string, unknown>;
      return;
    }
    Object.assign(h.registered, facts);
  }

  private loopItems(loop: unknown, scope: Scope): unknown[] {
    if (loop && typeof loop === 'object' && !Array.isArray(loop) && '__dict2items' in loop) {
      const d = render((loop as { __dict2items: unknown }).__dict2items, scope);
      if (!d || typeof d !== 'object') throw new UserError('with_dict needs a mapping');
      return Object.entries(d).map(([key, value]) => ({ key, value }));
    }
    const v = render(loop, scope);
    if (!Array.isArray(v)) throw new UserError(`loop must give a list, got ${v === null ? 'null' : typeof v}`);
    return v;
  }

  private itemLabel(t: ModuleTask, s: Scope, item: unknown): string {
    if (t.loopLabel !== undefined) {
      try {
        return String(render(t.loopLabel, s));
      } catch {
        return t.loopLabel;
      }
    }
    // Masked before it is cut, so that no prefix of a secret is left to print.
    const text = this.bus.masker.mask(typeof item === 'string' ? item : JSON.stringify(item));
    return text.length > 60 ? text.slice(0, 57) + '...' : text;
  }

  private failAndEmit(h: HostState, msg: string, emit: (o: Omit<TaskHostResult, 'host' | 'durationMs'>) => void, ignore: boolean): HostStatus {
    emit({ status: 'failed', msg, ignored: ignore });
    if (ignore) h.counters.ignored++;
    else {
      h.failed = true;
      h.counters.failed++;
    }
    return 'failed';
  }

  private fail(_ctx: PlayRun, h: HostState, t: Task, msg: string): void {
    const id = ++this.taskId;
    this.bus.emit({ type: 'task:start', id, name: t.name ?? t.kind, module: t.kind, hosts: [h.name], handler: false, section: 'condition', pos: taskPos(t) });
    this.emitResult(id, t, h, { status: 'failed', msg, durationMs: 0 }, false);
    h.failed = true;
    h.counters.failed++;
  }

  /** Hides the result of a no_log task, then emits (the bus masks secrets in every event). */
  private emitResult(id: number, t: Task, h: HostState, r: Omit<TaskHostResult, 'host'>, noLog: boolean): void {
    const result: TaskHostResult = noLog
      ? { host: h.name, status: r.status, durationMs: r.durationMs, hidden: true, ignored: r.ignored, msg: 'the output has been hidden due to no_log: true', item: r.item !== undefined ? '(hidden)' : undefined }
      : { ...r, host: h.name };
    this.bus.emit({ type: 'task:host', id, result, pos: taskPos(t) });
  }

  // ---- handlers -----------------------------------------------------------------------------

  private async flushHandlers(ctx: PlayRun, inh: Inherited): Promise<void> {
    for (const handler of ctx.handlers) {
      if (this.interrupted) break;
      const names = [handler.name, ...handler.listen].filter((x): x is string => !!x);
      const hosts = ctx.active().filter((h) => names.some((n) => h.notified.has(n)));
      if (!hosts.length) continue;
      await this.runModuleTask(ctx, handler, hosts, inh, 'handlers', true);
    }
    for (const h of ctx.hosts) h.notified.clear();
  }
}

/** State of one play on one batch of hosts. */
class PlayRun {
  aborted = false;
  readonly handlers: Handler[];
  /** Loop variable of an include_tasks loop, per host. */
  readonly includeItem = new Map<HostState, Record<string, unknown>>();
  constructor(
    readonly play: Play,
    readonly hosts: HostState[],
    readonly names: string[],
  ) {
    const extra: Handler[] = [];
    const visit = (ts: Task[]) => {
      for (const t of ts) {
        if (t.kind === 'block') [t.block, t.rescue, t.always].forEach(visit);
        if (t.kind === 'include') {
          for (const hd of t.handlers) if (!play.handlers.includes(hd) && !extra.includes(hd)) extra.push(hd);
          visit(t.tasks);
        }
      }
    };
    visit([...play.preTasks, ...play.tasks, ...play.postTasks]);
    this.handlers = [...play.handlers, ...extra];
  }
  active(): HostState[] {
    return this.hosts.filter((h) => h.active);
  }
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

function matchesTaskName(name: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return name === pattern;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const x = items[next++]!;
      await fn(x);
    }
  });
  await Promise.all(workers);
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
