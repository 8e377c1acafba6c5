/**
 * Ending a running command exactly once: when it finishes, when `timeoutMs` passes, or when
 * `signal` aborts (both kill it first). Shared by the ssh and local connectors.
 */
import { CommandTimeoutError } from './types.js';

export interface SettleOptions {
  host: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  kill: () => void;
  /** Runs once, whatever ended the command. */
  cleanup?: () => void;
}

/** Returns `settle(fn)`: the first call runs `fn`, later calls do nothing. */
export function commandSettler(opts: SettleOptions, reject: (err: unknown) => void): (fn: () => void) => void {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    opts.cleanup?.();
    opts.signal?.removeEventListener('abort', onAbort);
    fn();
  };
  const onAbort = () => {
    opts.kill();
    settle(() => reject(opts.signal!.reason));
  };
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      opts.kill();
      settle(() => reject(new CommandTimeoutError(`command timed out after ${opts.timeoutMs! / 1000} s on ${opts.host}`)));
    }, opts.timeoutMs);
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  return settle;
}
