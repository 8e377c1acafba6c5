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
    stopWaiting?.();
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
  const stopWaiting = opts.signal && whenAborted(opts.signal, onAbort);
  return settle;
}

/**
 * The commands waiting on each signal. A signal gets one 'abort' listener however many commands
 * wait on it (a listener each would print Node's MaxListenersExceededWarning past 10).
 */
const waiting = new WeakMap<AbortSignal, { fns: Set<() => void>; listener: () => void }>();

/** Calls `fn` when `signal` aborts; returns the function that stops waiting. */
function whenAborted(signal: AbortSignal, fn: () => void): () => void {
  let w = waiting.get(signal);
  if (!w) {
    const fns = new Set<() => void>();
    const listener = () => {
      waiting.delete(signal);
      for (const f of [...fns]) f();
    };
    w = { fns, listener };
    waiting.set(signal, w);
    signal.addEventListener('abort', listener, { once: true });
  }
  const entry = w;
  entry.fns.add(fn);
  return () => {
    entry.fns.delete(fn);
    if (!entry.fns.size && waiting.get(signal) === entry) {
      waiting.delete(signal);
      signal.removeEventListener('abort', entry.listener);
    }
  };
}
