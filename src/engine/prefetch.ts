/**
 * Prefetching facts: at the start of each section, the engine renders every task's parameters
 * it can (skipping those that depend on results not known yet), asks each module which facts
 * it will probe, and reads them all in ONE exec per host (per become user). Tasks then find
 * their facts in the host's cache; any step run on a host clears its cache, so a fact is never
 * reused across a change. On a converged host a whole section costs one probe exec.
 */
import type { ExecResult, Fact } from '../core/module.js';
import { batchFacts } from './facts-batch.js';
import type { HostState } from './host.js';
import { factCacheKey, type TaskEnv } from './task.js';

export interface WantedFact {
  fact: Fact;
  become?: { user: string; password?: string };
}

/** Reads the wanted facts that are not cached yet, one exec per become user. */
export async function prefetchFacts(hs: HostState, wanted: WantedFact[], env: TaskEnv): Promise<number> {
  const groups = new Map<string, { become?: WantedFact['become']; facts: Map<string, Fact> }>();
  for (const w of wanted) {
    const key = factCacheKey(w.fact, w.become);
    if (hs.factCache.has(key)) continue;
    const g = groups.get(w.become?.user ?? '') ?? { become: w.become, facts: new Map() };
    g.facts.set(key, w.fact);
    groups.set(w.become?.user ?? '', g);
  }
  let execs = 0;
  for (const g of groups.values()) {
    const keys = [...g.facts.keys()];
    const facts = [...g.facts.values()];
    const batch = batchFacts(facts);
    env.stats.probeExecs++;
    execs++;
    const out: ExecResult = await hs.conn!.run(batch.script, { become: g.become, signal: env.signal });
    batch.split(out).forEach((r, i) => hs.factCache.set(keys[i]!, r));
  }
  return execs;
}
