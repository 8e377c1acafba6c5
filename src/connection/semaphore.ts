/**
 * A counting semaphore: at most `limit` holders at once, waiters served first come, first served.
 * The limit can be lowered while in use (holders keep their slots; new ones wait).
 */

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private max: number) {
    if (!(max >= 1)) throw new Error(`semaphore limit must be >= 1 (got ${max})`);
  }

  get limit(): number {
    return this.max;
  }

  /** Lowers the limit (never below 1, never raises it). */
  lowerLimit(to: number): void {
    this.max = Math.max(1, Math.min(this.max, to));
  }

  /** Number of current holders. */
  get inUse(): number {
    return this.active;
  }

  /** Resolves with a release function once a slot is free. Call release exactly once. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          if (this.active < this.max) this.waiters.shift()?.();
        });
      };
      if (this.active < this.max) grant();
      else this.waiters.push(grant);
    });
  }

  /** Runs `fn` while holding a slot. */
  async use<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
