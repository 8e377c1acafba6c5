/** Pieces shared by the renderers: colors, counters, diffs, failure details, recap table. */
import { Chalk, type ChalkInstance } from 'chalk';
import { createRequire } from 'node:module';
import { formatPos, type SourcePos } from '../core/errors.js';
import type { FileDiff } from '../core/module.js';
import type { EngineEvent, HostCounters, HostStatus, TaskHostResult } from '../engine/events.js';

// diff (about 20 files) is loaded on the first diff shown, not at start-up: most runs show none.
let diffLib: typeof import('diff') | undefined;
const loadDiff = () => (diffLib ??= createRequire(import.meta.url)('diff') as typeof import('diff'));

export function makeChalk(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  const force = process.env.FORCE_COLOR; // FORCE_COLOR=0 / false means "no colour", like chalk itself
  const forced = force !== undefined && force !== '' && force !== '0' && force !== 'false';
  return new Chalk({ level: noColor || !stream.isTTY ? (forced ? 1 : 0) : 1 });
}

export const STATUS_COLOR: Record<HostStatus, 'green' | 'yellow' | 'red' | 'cyan' | 'magenta'> = {
  ok: 'green',
  changed: 'yellow',
  failed: 'red',
  skipped: 'cyan',
  unreachable: 'magenta',
};

export function countersTitle(c: Record<HostStatus, number>, total: number, ch: ChalkInstance): string {
  const parts: string[] = [];
  if (c.ok) parts.push(ch.green(`${c.ok} ok`));
  if (c.changed) parts.push(ch.yellow(`${c.changed} changed`));
  if (c.failed) parts.push(ch.red(`${c.failed} failed`));
  if (c.skipped) parts.push(ch.cyan(`${c.skipped} skipped`));
  if (c.unreachable) parts.push(ch.magenta(`${c.unreachable} unreachable`));
  return `${parts.join(' · ') || '0 done'} / ${total}`;
}

export function renderDiff(d: FileDiff, ch: ChalkInstance): string {
  const out: string[] = [];
  if (d.before !== d.after) {
    const patch = loadDiff().createTwoFilesPatch(d.before === null ? '/dev/null' : `${d.path} (before)`, d.after === null ? '/dev/null' : `${d.path} (after)`, d.before ?? '', d.after ?? '', undefined, undefined, { context: 3 });
    for (const line of patch.split('\n').slice(1)) {
      if (line.startsWith('+') && !line.startsWith('+++')) out.push(ch.green(line));
      else if (line.startsWith('-') && !line.startsWith('---')) out.push(ch.red(line));
      else if (line.startsWith('@@')) out.push(ch.cyan(line));
      else if (line) out.push(line);
    }
  }
  if (d.beforeMode !== d.afterMode && d.afterMode) out.push(ch.yellow(`mode: ${d.beforeMode ?? '(none)'} -> ${d.afterMode}   ${d.path}`));
  if (d.beforeOwner !== d.afterOwner && d.afterOwner) out.push(ch.yellow(`owner: ${d.beforeOwner ?? '(none)'} -> ${d.afterOwner}   ${d.path}`));
  return out.join('\n');
}

/** The host of a result as Ansible shows it: `web1`, or `web1 -> db1` when the task ran on a delegate. */
export function hostLabel(r: Pick<TaskHostResult, 'host' | 'delegate'>): string {
  return r.delegate !== undefined ? `${r.host} -> ${r.delegate}` : r.host;
}

/** `pos`: where the task is written, shown as `task: site.yml:42:7` (the plain renderer puts it on its own failure line instead). */
export function failureLines(r: TaskHostResult, ch: ChalkInstance, pos?: SourcePos): string[] {
  const out = [ch.red(`  ✖ ${hostLabel(r)}${r.item !== undefined ? ` (item=${r.item})` : ''}: ${r.msg ?? 'failed'}${r.ignored ? ' (ignored)' : ''}`)];
  if (pos) out.push(ch.dim(`    task: ${formatPos(pos)}`));
  const f = r.failure;
  if (f?.command) out.push(ch.dim(`    command: ${f.command.split('\n')[0]}${f.command.includes('\n') ? ' …' : ''}`));
  if (f?.meaning) out.push(ch.dim(`    exit code: ${f.meaning}`));
  for (const l of f?.stderrTail ?? []) out.push(ch.dim(`    │ ${l}`));
  return out;
}

export function recapTable(hosts: Record<string, HostCounters>, ch: ChalkInstance): string {
  const names = Object.keys(hosts).sort();
  const width = Math.max(4, ...names.map((n) => n.length));
  const lines = [ch.bold('PLAY RECAP')];
  const cell = (label: string, n: number, color: (s: string) => string) => {
    const text = `${label}=${n}`.padEnd(label.length + 4);
    return n ? color(text) : text;
  };
  for (const n of names) {
    const c = hosts[n]!;
    const nameColor = c.failed || c.unreachable ? ch.red : c.changed ? ch.yellow : ch.green;
    lines.push(
      `${nameColor(n.padEnd(width))} : ${cell('ok', c.ok, ch.green)} ${cell('changed', c.changed, ch.yellow)} ${cell('unreachable', c.unreachable, ch.magenta)} ${cell('failed', c.failed, ch.red)} ${cell('skipped', c.skipped, ch.cyan)} ${cell('rescued', c.rescued, (s) => s)} ${cell('ignored', c.ignored, (s) => s)}`,
    );
  }
  if (!names.length) lines.push('(no hosts)');
  return lines.join('\n');
}

/** The recap's last line when the run was stopped early, naming what stopped it when known. */
export function interruptedLine(stoppedBy: string | undefined): string {
  return `interrupted${stoppedBy ? ` by ${stoppedBy}` : ''}: no new task was started`;
}

export type WarningEvent = Extract<EngineEvent, { type: 'warning' }>;

/** `[WARNING] web1 (item=x): msg  (task "deploy", site.yml:42:7)`: who, what, and where the task is written. */
export function warningLine(e: WarningEvent, ch: ChalkInstance, task?: string): string {
  const who = e.host ? ` ${e.host}${e.item !== undefined ? ` (item=${e.item})` : ''}:` : '';
  const where = [task !== undefined ? `task "${task}"` : undefined, e.pos ? formatPos(e.pos) : undefined].filter(Boolean).join(', ');
  return ch.yellow(`[WARNING]${who} ${e.msg}`) + (where ? ch.dim(`  (${where})`) : '');
}

/** The recap's list of the run's warnings (empty when there were none). */
export function warningsRecap(warnings: string[], ch: ChalkInstance): string[] {
  return warnings.length ? ['', ch.bold(ch.yellow(`WARNINGS (${warnings.length})`)), ...warnings] : [];
}

export type ConnectProgress = Extract<EngineEvent, { type: 'connect:progress' }>;

/** What one burst of connecting did: counts since it started, and how long it took. */
export interface ConnectBurst {
  opened: number;
  connected: number;
  probed: number;
  unreachable: number;
  seconds: number;
}

/**
 * Groups connect:progress events into bursts: a burst starts when a host starts connecting while
 * none is, and ends once every host of it answered or was found unreachable, as seen at the next
 * event of another kind (so that hosts connecting one after the other make one burst, not one
 * each). Renderers show a burst as one line or row, not a line per host.
 */
export class ConnectBursts {
  private start?: { base: ConnectProgress; t0: number };
  private last?: ConnectProgress;

  /** Feeds a connect:progress event; true when it starts a burst. */
  progress(e: ConnectProgress, now = Date.now()): boolean {
    const prev = this.last ?? { type: 'connect:progress', opened: 0, connected: 0, probed: 0, unreachable: 0 };
    this.last = e;
    if (this.start) return false;
    this.start = { base: { ...prev, opened: e.opened - 1 }, t0: now };
    return true;
  }

  /** The running burst so far (undefined when none). */
  current(now = Date.now()): ConnectBurst | undefined {
    if (!this.start || !this.last) return undefined;
    const b = this.start.base;
    const l = this.last;
    return { opened: l.opened - b.opened, connected: l.connected - b.connected, probed: l.probed - b.probed, unreachable: l.unreachable - b.unreachable, seconds: (now - this.start.t0) / 1000 };
  }

  /** At an event of another kind: the burst, if one is running and every host of it settled (it is then over). */
  settled(now = Date.now()): ConnectBurst | undefined {
    const c = this.current(now);
    if (!c || c.probed + c.unreachable < c.opened) return undefined;
    this.start = undefined;
    return c;
  }
}

/** `connecting: 12 of 40 hosts connected, 3 probed` (a burst under way). */
export function connectingText(b: ConnectBurst, ch: ChalkInstance): string {
  return `connecting: ${b.connected} of ${b.opened} host${b.opened === 1 ? '' : 's'} connected, ${b.probed} probed${b.unreachable ? ch.magenta(`, ${b.unreachable} unreachable`) : ''}`;
}

/** `connected to 40 hosts in 1.2 s` (a burst that ended). */
export function connectedText(b: ConnectBurst, ch: ChalkInstance): string {
  return `connected to ${b.probed} host${b.probed === 1 ? '' : 's'}${b.unreachable ? ch.magenta(`, ${b.unreachable} unreachable`) : ''} in ${b.seconds.toFixed(1)} s`;
}

export type TaskProgress = Extract<EngineEvent, { type: 'task:progress' }>;

/** The live row names a host as slow once it has been on the row's task this long. */
export const SLOW_HOST_AFTER_MS = 5_000;
/** Plain output: a line when a task still has hosts on it after this long (then at 2x, 4x, ...). */
export const PLAIN_STILL_RUNNING_AFTER_MS = 30_000;
/** How often the live row's elapsed times and the plain "still running" check are refreshed. */
export const PROGRESS_TICK_MS = 1_000;

export interface SlowHost {
  host: string;
  seconds: number;
}

/** The hosts on one task now (from its task:progress events), and since when. */
export class HostsInProgress {
  private readonly since = new Map<string, number>();
  /** Hosts that started the task (running or done). */
  started = 0;

  progress(e: TaskProgress): void {
    if (e.state === 'start') {
      this.since.set(e.host, e.at);
      this.started++;
    } else this.since.delete(e.host);
  }

  get running(): number {
    return this.since.size;
  }

  /** Hosts on the task for at least `afterMs`, the longest first (then by name). */
  slow(now = Date.now(), afterMs = SLOW_HOST_AFTER_MS): SlowHost[] {
    return [...this.since]
      .filter(([, at]) => now - at >= afterMs)
      .map(([host, at]) => ({ host, seconds: Math.floor((now - at) / 1000) }))
      .sort((a, b) => b.seconds - a.seconds || a.host.localeCompare(b.host));
  }
}

/** `web-2 12s, web-3 9s +4`: the first `max` slow hosts, and how many more. */
export function slowHostsText(slow: SlowHost[], max = 2): string {
  const shown = slow.slice(0, max).map((s) => `${s.host} ${s.seconds}s`).join(', ');
  return slow.length > max ? `${shown} +${slow.length - max}` : shown;
}

/**
 * A live row's counters: `0 done / 3 · 3 running · slow: web-2 12s` (hosts in progress before any
 * finished, the slow ones once they took SLOW_HOST_AFTER_MS); empty before any host started.
 */
export function progressTitle(counts: Record<HostStatus, number>, total: number, p: HostsInProgress, ch: ChalkInstance, now = Date.now()): string {
  const finished = Object.values(counts).some((n) => n > 0);
  if (!finished && !p.started) return '';
  const slow = p.slow(now);
  return `${countersTitle(counts, total, ch)}${p.running ? ` · ${p.running} running` : ''}${slow.length ? ch.yellow(` · slow: ${slowHostsText(slow)}`) : ''}`;
}
