/**
 * The one fact reader of a host: a cache of fact outputs and the reads that fill it. Both the
 * section prefetch (prefetch.ts) and a task's own probe (phases.ts) go through `read`: the facts
 * not cached yet run as ONE exec per become user (facts-batch.ts joins them). A fact's output is
 * reused by later tasks until a step runs on the host, which `invalidate`s the whole cache, so a
 * fact is never reused across a change (a refused write re-reads its file this way too).
 */
import type { Connection } from '../connection/types.js';
import type { ExecResult, Fact } from '../core/module.js';
import { batchFacts } from './facts-batch.js';

export type Become = { user: string; password?: string };

export interface WantedFact {
  fact: Fact;
  become?: Become;
}

/** Where a fact's output is cached: the same command run as the same user. */
const cacheKey = (f: Fact, become?: { user: string }) => `${become?.user ?? ''}\0${f.key}\0${f.command}`;

export class FactReader {
  private readonly cache = new Map<string, ExecResult>();

  /** Reads the wanted facts that are not cached yet, one exec per become user; returns the execs run. */
  async read(conn: Connection, wanted: WantedFact[], env: { signal?: AbortSignal; stats: { probeExecs: number } }): Promise<number> {
    const groups = new Map<string, { become?: Become; facts: Map<string, Fact> }>();
    for (const w of wanted) {
      const key = cacheKey(w.fact, w.become);
      if (this.cache.has(key)) continue;
      const user = w.become?.user ?? '';
      const g = groups.get(user) ?? { become: w.become, facts: new Map() };
      g.facts.set(key, w.fact);
      groups.set(user, g);
    }
    for (const g of groups.values()) {
      const keys = [...g.facts.keys()];
      const batch = batchFacts([...g.facts.values()]);
      env.stats.probeExecs++;
      const out = await conn.run(batch.script, { become: g.become, signal: env.signal });
      batch.split(out).forEach((r, i) => this.cache.set(keys[i]!, r));
    }
    return groups.size;
  }

  /** The output of a fact read before (undefined when it was not, or a step ran since). */
  get(fact: Fact, become?: { user: string }): ExecResult | undefined {
    return this.cache.get(cacheKey(fact, become));
  }

  /** The host is about to change: nothing read before may still hold. */
  invalidate(): void {
    this.cache.clear();
  }
}
