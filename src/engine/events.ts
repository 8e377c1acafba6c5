/**
 * The engine's typed events. Renderers (src/render/*) subscribe; the engine never prints and
 * never imports a renderer. The engine hides no_log results; the bus masks secrets in every
 * string of every event before any listener sees it.
 */
import type { SourcePos } from '../errors.js';
import type { FileDiff } from '../modules/define.js';
import { Masker } from '../vars/secret.js';

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

export type EngineEvent =
  | { type: 'run:start'; playbook: string; check: boolean; diff: boolean }
  | { type: 'play:start'; play: string; hosts: string[] }
  /** `pos`: where the task is written (file, line, column), so that a failure can point at it. */
  | { type: 'task:start'; id: number; name: string; module: string; hosts: string[]; handler: boolean; section: string; pos?: SourcePos }
  | { type: 'task:host'; id: number; result: TaskHostResult; pos?: SourcePos }
  | { type: 'task:end'; id: number; counts: Record<HostStatus, number>; total: number }
  | { type: 'warning'; msg: string; host?: string }
  | { type: 'play:end'; play: string }
  | { type: 'recap'; hosts: Record<string, HostCounters>; durationMs: number; interrupted: boolean };

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

/** Exit-code meanings, zx style. */
export function exitCodeMeaning(code: number | undefined): string | undefined {
  if (code === undefined) return undefined;
  const known: Record<number, string> = {
    1: 'general error',
    2: 'misuse of shell builtins / bad usage',
    126: 'command not executable',
    127: 'command not found',
    128: 'invalid exit argument',
    130: 'interrupted (SIGINT)',
    137: 'killed (SIGKILL)',
    143: 'terminated (SIGTERM)',
  };
  if (known[code]) return `${code} (${known[code]})`;
  if (code > 128 && code < 160) return `${code} (killed by signal ${code - 128})`;
  return String(code);
}

/** Last `n` lines of stderr, preferring lines that mention an error. */
export function stderrTail(stderr: string, n = 20): string[] {
  const lines = stderr.split('\n').filter((l) => l.trim());
  if (lines.length <= n) return lines;
  const errorish = lines.filter((l) => /error|fail|fatal|denied|not found|cannot|unable/i.test(l));
  const tail = lines.slice(-n);
  if (errorish.length && !errorish.some((l) => tail.includes(l))) return [...errorish.slice(-Math.floor(n / 2)), '...', ...tail.slice(-Math.ceil(n / 2))];
  return tail;
}
