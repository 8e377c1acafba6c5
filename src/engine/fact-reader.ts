/**
 * The one fact reader of a host: a cache of fact outputs and the reads that fill it. Both the
 * section prefetch (prefetch.ts) and a task's own probe (phases.ts) go through `read`: the facts
 * not cached yet run as ONE exec per become user (facts-batch.ts joins them). A fact's output is
 * reused by later tasks until a step runs that can have changed it (touches.ts), which
 * `invalidate`s it, so a fact is never reused across a change (a refused write re-reads its
 * file this way too). The facts the section's tasks still expect (`expect`) that a step dropped
 * are read again together with the next read, so a section costs one exec more per change, not
 * one per task after it.
 */
import type { Connection, RunOptions } from '../connection/types.js';
import type { ExecResult, Fact } from '../core/module.js';
import { batchFacts } from './facts-batch.js';
import { overlaps } from './touches.js';

export type Become = NonNullable<RunOptions['become']>;

export interface WantedFact {
  fact: Fact;
  become?: Become;
}

/** Where a fact's output is cached: the same command run as the same user. */
const cacheKey = (f: Fact, become?: { user: string }) => `${become?.user ?? ''}\0${f.key}\0${f.command}`;

export class FactReader {
  private readonly cache = new Map<string, { key: string; out: ExecResult }>();
  /** Facts the rest of the section will ask for, with how many times. */
  private expected = new Map<string, WantedFact & { n: number }>();

  /** The facts the section's tasks will ask for (replaces the previous section's). */
  expect(wanted: WantedFact[]): void {
    this.expected = new Map();
    for (const w of wanted) {
      const key = cacheKey(w.fact, w.become);
      const e = this.expected.get(key);
      if (e) e.n++;
      else this.expected.set(key, { ...w, n: 1 });
    }
  }

  /**
   * Reads the wanted facts that are not cached yet, one exec per become user, together with
   * the expected facts of those users that a step dropped; returns the execs run.
   */
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
    for (const [key, e] of this.expected) {
      if (!this.cache.has(key)) groups.get(e.become?.user ?? '')?.facts.set(key, e.fact);
    }
    for (const g of groups.values()) {
      const keys = [...g.facts.keys()];
      const facts = [...g.facts.values()];
      const batch = batchFacts(facts);
      env.stats.probeExecs++;
      const out = await conn.run(batch.script, { become: g.become, signal: env.signal });
      batch.split(out).forEach((r, i) => this.cache.set(keys[i]!, { key: facts[i]!.key, out: r }));
    }
    return groups.size;
  }

  /** The output of a fact read before (undefined when it was not, or a step dropped it since). */
  get(fact: Fact, become?: { user: string }): ExecResult | undefined {
    const key = cacheKey(fact, become);
    const e = this.expected.get(key);
    if (e && --e.n <= 0) this.expected.delete(key);
    return this.cache.get(key)?.out;
  }

  /**
   * The host is about to change: drops what `touches` can have changed (touches.ts), or every
   * fact when it is undefined (a step that does not say what it touches).
   */
  invalidate(touches?: string[]): void {
    if (!touches) return this.cache.clear();
    if (!touches.length) return;
    for (const [k, e] of this.cache) if (touches.some((t) => overlaps(t, e.key))) this.cache.delete(k);
  }
}
