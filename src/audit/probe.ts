/**
 * `--probe`: TCP connects from the controller to a host's address (the inventory's, nothing
 * else), a short timeout each, a few at a time. Connect and close: nothing is sent.
 */
import { Socket } from 'node:net';
import type { ProbeResult } from './rows.js';

export function probeTcp(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = new Socket();
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    s.once('connect', () => finish('open'));
    s.once('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' ? 'timeout' : 'error'));
    s.connect({ host: address, port });
  });
}

/** Probes every port, at most `concurrency` at once; port -> result. */
export async function probePorts(address: string, ports: number[], o: { timeoutMs: number; concurrency?: number }): Promise<Map<number, ProbeResult>> {
  const out = new Map<number, ProbeResult>();
  const queue = [...new Set(ports)];
  const worker = async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) out.set(p, await probeTcp(address, p, o.timeoutMs));
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 16, queue.length) }, worker));
  return out;
}
