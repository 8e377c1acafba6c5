/**
 * Processes on this machine, which is also the tests' ssh target: what a run left running there.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `pid: command line` of every other process whose command line contains `text`. */
export function processesMentioning(text: string): string[] {
  return readdirSync('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) return [];
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      return cmd.includes(text) ? [`${pid}: ${cmd.slice(0, 80)}`] : [];
    } catch {
      return [];
    }
  });
}

/** Waits until no process has `text` in its command line; returns those left after `timeoutMs`. */
export async function waitForNoProcessMentioning(text: string, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = processesMentioning(text);
    if (!busy.length || Date.now() > deadline) return busy;
    await sleep(50);
  }
}

/** Waits until `count` processes run exactly `command` (argv joined by spaces); returns how many do. */
export async function waitForProcessCount(command: string, count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = processesMentioning(command).filter((p) => p.slice(p.indexOf(': ') + 2) === command).length;
    if (n >= count || Date.now() > deadline) return n;
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
