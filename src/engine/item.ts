/**
 * What one module run on one host (one loop item) works with and what it gives: the task
 * environment (modes, secrets, exec counts) and the item's outcome, which the loop (loop.ts)
 * aggregates into the task's result for the host.
 */
import type { FileDiff, IncludedVars } from '../core/module.js';
import type { FailureDetail, HostStatus } from './events.js';
import type { Become } from './fact-reader.js';

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

/** How one item runs: as whom, in which modes, with which environment variables. */
export interface ItemOptions {
  become?: Become;
  check: boolean;
  diff: boolean;
  environment?: Record<string, string>;
  /** The task says it changes nothing (`changed_when: false`): its steps drop no cached fact. */
  changesNothing?: boolean;
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
  includeVars?: IncludedVars[];
  /** What the plan warned about (Plan.warnings), emitted as warning events. */
  warnings?: string[];
}

export function itemFailed(msg: string, failure?: FailureDetail): ItemOutcome {
  return { status: 'failed', msg, result: { changed: false, failed: true, msg }, failure };
}
