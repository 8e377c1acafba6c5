/**
 * The engine's typed events. Renderers (src/render/*) subscribe; the engine never prints and
 * never imports a renderer. The engine hides no_log results; the bus masks secrets in every
 * string of every event before any listener sees it.
 */
import type { SourcePos } from '../core/errors.js';
import type { FileDiff } from '../core/module.js';
import { Masker } from '../core/secret.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface HostCounters {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rescued: number;
  ignored: number;
}

export const emptyCounters = (): HostCounters => ({ ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 });

/** Details of a failed command, execa/zx style. */
export interface FailureDetail {
  /** The command (secrets masked), or a description of the step. */
  command?: string;
  exitCode?: number;
  /** "127 (command not found)" */
  meaning?: string;
  /** Last lines of stderr, error lines preferred. */
  stderrTail?: string[];
}

export interface TaskHostResult {
  host: string;
  /** The host the task ran on for `host` (delegate_to, local_action); shown as `host -> delegate`. */
  delegate?: string;
  status: HostStatus;
  /** Loop item label, when the task loops. */
  item?: string;
  /** One line: why (noop reason, failure message, skip reason). */
  msg?: string;
  /** What changed or would change (check mode): "install squid". */
  changes?: string[];
  diffs?: FileDiff[];
  failure?: FailureDetail;
  ignored?: boolean;
  /** Result was hidden by no_log. */
  hidden?: boolean;
  durationMs: number;
}

/**
 * Version of the events' shape (the `schemaVersion` of each `--json` line, docs/events.md): raised
 * when a field is removed or changes meaning; new event types and new fields keep it.
 */
export const EVENTS_SCHEMA_VERSION = 1;

export type EngineEvent =
  | { type: 'run:start'; playbook: string; check: boolean; diff: boolean }
  | { type: 'play:start'; play: string; hosts: string[] }
  /** `pos`: where the task is written (file, line, column), so that a failure can point at it. */
  | { type: 'task:start'; id: number; name: string; module: string; hosts: string[]; handler: boolean; section: string; pos?: SourcePos }
  | { type: 'task:host'; id: number; result: TaskHostResult; pos?: SourcePos }
  /**
   * A host started (`start`) or finished (`done`) a task, all its loop items included; `at`: when
   * (ms since the epoch; a pipelined host's events may be held until the task's row, this keeps
   * the real time). For the live view (hosts in progress, slow hosts); `--json` leaves it out.
   */
  | { type: 'task:progress'; id: number; host: string; state: 'start' | 'done'; at: number }
  | { type: 'task:end'; id: number; counts: Record<HostStatus, number>; total: number }
  /** A module's plan warned (Plan.warnings): `id` and `pos` name the task, `item` the loop item. */
  | { type: 'warning'; msg: string; host?: string; id?: number; pos?: SourcePos; item?: string }
  | { type: 'play:end'; play: string }
  /**
   * Connections so far in the run, sent at each change: hosts whose connection was opened, that
   * connected, that answered their first command (probed), that could not be reached.
   */
  | { type: 'connect:progress'; opened: number; connected: number; probed: number; unreachable: number }
  /**
   * -vv and -vvv (RunOptions.verbosity): what happens on a host's connection. `level` 2: each
   * command run (`exec`) and its exit code (`exit`); 3: also the connection's settings
   * (`connect`) and each command's output (`output`). Commands of no_log tasks are not shown.
   */
  | { type: 'trace'; host: string; level: 2 | 3; kind: 'connect' | 'exec' | 'exit' | 'output'; msg: string }
  | { type: 'recap'; hosts: Record<string, HostCounters>; durationMs: number; interrupted: boolean; stoppedBy?: string };

/**
 * The reason to abort a run's signal with, naming what stopped it ("SIGTERM"): the recap says it.
 * An AbortError, like the reason of a plain abort().
 */
export class RunStopped extends Error {
  constructor(readonly by: string) {
    super(`interrupted by ${by}`);
    this.name = 'AbortError';
  }
}

/** The events of one host in one task, that per-host pipelines hold until the task's row is shown. */
export type TaskHostEvent = Extract<EngineEvent, { type: 'task:host' | 'task:progress' | 'warning' }>;

export type Listener = (e: EngineEvent) => void;

export class EventBus {
  private readonly listeners: Listener[] = [];
  /** The run's secrets: the engine adds to `masker.secrets`, every emitted event is masked. */
  constructor(readonly masker: Masker = new Masker()) {}
  on(l: Listener): () => void {
    this.listeners.push(l);
    return () => this.listeners.splice(this.listeners.indexOf(l), 1);
  }
  emit(e: EngineEvent): void {
    const masked = this.masker.maskDeep(e);
    for (const l of this.listeners) l(masked);
  }
}
