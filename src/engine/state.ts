/**
 * What the parts of a run share: the options, the event bus, the task environment (modes,
 * secrets, exec counts), each host's state, the task counter, whether the run was interrupted,
 * and one play's state on one batch of hosts (PlayRun). Results reach the bus through here
 * (no_log hides them first).
 */
import type { Connection } from '../connection/types.js';
import type { SourcePos } from '../core/errors.js';
import { collectSecrets } from '../core/secret.js';
import type { ConnectionDefaults, ConnectionVars } from '../inventory/connection.js';
import type { Inventory } from '../inventory/model.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { posOf, type Handler, type Play, type Playbook, type Task } from '../playbook/model.js';
import type { VarsSource } from '../vars/precedence.js';
import type { Layer, Scope } from '../vars/scope.js';
import { EventBus, type HostCounters, type TaskHostEvent, type TaskHostResult } from './events.js';
import { HostState } from './host.js';
import type { TaskEnv } from './item.js';

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
  /**
   * -v count: from 2, `trace` events with each command and exit code; from 3, also the
   * connection settings and each command's output (events.ts).
   */
  verbosity?: number;
  /**
   * Connection settings for hosts whose variables do not set them (the CLI's -u, --private-key,
   * -b, --become-user and the project config): below every variable, as Ansible's command line.
   */
  connectionDefaults?: ConnectionDefaults;
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

export class RunState {
  readonly bus: EventBus;
  readonly hosts = new Map<string, HostState>();
  readonly env: TaskEnv;
  readonly extraVars: VarsSource[];
  taskId = 0;
  /**
   * Tasks whose host events are held back and put in order (pipeline.ts): their results are
   * shown under their own row, after the rows of the tasks before them.
   */
  readonly held = new Map<number, (e: TaskHostEvent) => void>();
  /** False until --start-at-task's task is reached. */
  started: boolean;
  interrupted = false;
  /** Changes of any host's variables so far (register, set_fact, include_vars, facts, include loop items). */
  private varsChanges = 0;

  constructor(
    readonly pb: Playbook,
    readonly opts: RunOptions,
  ) {
    this.bus = opts.bus ?? new EventBus();
    this.env = { check: !!opts.check, diff: !!opts.diff, playbookDir: pb.dir, signal: opts.signal, secrets: this.bus.masker.secrets, stats: { probeExecs: 0, stepExecs: 0 } };
    this.started = !opts.startAtTask;
    this.extraVars = opts.extraVars ? [{ vars: opts.extraVars, label: 'extra vars (-e)' }] : [];
    collectSecrets(opts.extraVars, this.env.secrets);
  }

  get forks(): number {
    return this.opts.forks ?? 20;
  }

  host(name: string): HostState {
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

  /** The task environment for one host: its commands stop on the host's own signal. */
  envFor(h: HostState): TaskEnv {
    return this.opts.signal ? { ...this.env, signal: h.abort.signal } : this.env;
  }

  /** A host's registered results, set_fact values, included vars, facts or include loop item changed. */
  varsChanged(): void {
    this.varsChanges++;
  }

  /**
   * Grows whenever a scope built before can be out of date: any host's variables changed, or a
   * step ran on any host (a command may have changed what a lookup reads on the controller).
   * A scope built at the same version is the same snapshot (scope.ts hostScope reuses it).
   */
  get varsVersion(): number {
    return this.varsChanges + this.env.stats.stepExecs;
  }

  /** Secrets a template unwrapped are masked in all output from now on (see EventBus). */
  noteSecrets(scope: Scope): void {
    for (const s of scope.secretsUsed) this.env.secrets.add(s);
  }

  /** Hides the result of a no_log task, then emits (the bus masks secrets in every event). */
  emitResult(id: number, t: Task, h: HostState, r: Omit<TaskHostResult, 'host'>, noLog: boolean): void {
    const result: TaskHostResult = noLog
      ? { host: h.name, ...(r.delegate !== undefined ? { delegate: r.delegate } : {}), status: r.status, durationMs: r.durationMs, hidden: true, ignored: r.ignored, msg: 'the output has been hidden due to no_log: true', item: r.item !== undefined ? '(hidden)' : undefined }
      : { ...r, host: h.name };
    this.emitTaskEvent(id, { type: 'task:host', id, result, pos: taskPos(t) });
  }

  /** A host started or finished task `id` (the live view's hosts in progress). */
  emitProgress(id: number, h: HostState, state: 'start' | 'done'): void {
    this.emitTaskEvent(id, { type: 'task:progress', id, host: h.name, state, at: Date.now() });
  }

  private emitTaskEvent(id: number, e: TaskHostEvent): void {
    const hold = this.held.get(id);
    if (hold) hold(e);
    else this.bus.emit(e);
  }

  /** A plan's warnings on one host, with the task's position (no_log hides their text). */
  emitWarnings(id: number, t: Task, h: HostState, warnings: string[], noLog: boolean, item?: string): void {
    const where = { host: h.name, id, pos: taskPos(t), ...(item !== undefined ? { item: noLog ? '(hidden)' : item } : {}) };
    const msgs = noLog ? ['a warning was hidden due to no_log: true'] : warnings;
    for (const msg of msgs) this.emitTaskEvent(id, { type: 'warning', msg, ...where });
  }

  /** Fails a host outside a module task (a block's `when` that cannot be evaluated). */
  failTask(h: HostState, t: Task, msg: string): void {
    const id = ++this.taskId;
    this.bus.emit({ type: 'task:start', id, name: t.name ?? t.kind, module: t.kind, hosts: [h.name], handler: false, section: 'condition', pos: taskPos(t) });
    this.emitResult(id, t, h, { status: 'failed', msg, durationMs: 0 }, false);
    h.failed = true;
    h.counters.failed++;
  }
}

/** Where a task is written, for its events (a runtime failure points at it like a validation error). */
const taskPositions = new WeakMap<Task, SourcePos>();
export function taskPos(t: Task): SourcePos {
  let pos = taskPositions.get(t);
  if (!pos) taskPositions.set(t, (pos = posOf(t.src)));
  return pos;
}

/** State of one play on one batch of hosts. */
export class PlayRun {
  aborted = false;
  /** Loop variable of an include_tasks loop, per host. */
  readonly includeItem = new Map<HostState, Record<string, unknown>>();
  constructor(
    readonly play: Play,
    readonly hosts: HostState[],
    readonly names: string[],
    /** The play's handlers and those its imports bring (handlers.ts). */
    readonly handlers: Handler[],
  ) {}
  active(): HostState[] {
    return this.hosts.filter((h) => h.active);
  }
}

/** Runs `fn` on each item, at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const x = items[next++]!;
      await fn(x);
    }
  });
  await Promise.all(workers);
}
