/** Per-host state during a run: variables produced so far, facts, connection, counters. */
import type { IncludedVars } from '../core/module.js';
import type { Connection } from '../connection/types.js';
import type { ConnectionVars } from '../inventory/connection.js';
import type { Layer } from '../vars/scope.js';
import { emptyCounters, type HostCounters } from './events.js';
import { FactReader } from './fact-reader.js';

export class HostState {
  /** Facts from gather_facts / setup (data). */
  facts?: Record<string, unknown>;
  /** Registered results and set_fact values (data). */
  readonly registered: Record<string, unknown> = {};
  /** What include_vars read, in order (one layer per file; templates, rendered when used). */
  readonly included: IncludedVars[] = [];
  /** A host of some play (the recap lists these, not hosts only delegated to). */
  played = false;
  failed = false;
  /** Left the current play without failing (meta end_host / end_batch / end_play). */
  ended = false;
  unreachable = false;
  readonly counters: HostCounters = emptyCounters();
  /** Handler names / listen topics notified in the current section. */
  readonly notified = new Set<string>();
  /** Check mode: facts that earlier planned changes make true (keyed like Fact.key). */
  readonly assumed = new Map<string, unknown>();
  /** Check mode: what earlier tasks would have changed on this host. */
  readonly pending: string[] = [];
  /** Fact outputs read from this host, reused by later tasks until a step runs (fact-reader.ts). */
  readonly reader = new FactReader();
  conn?: Connection;
  /** The task running on this host is no_log: -vv traces do not show its commands. */
  quiet = false;
  connVars?: ConnectionVars;
  /**
   * Stops this host's running commands; the runner aborts it when the run's signal fires. Each
   * host has its own so that the run's signal keeps one listener however many hosts run at once.
   */
  readonly abort = new AbortController();

  constructor(
    readonly name: string,
    readonly inventoryLayers: Layer[],
  ) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}
