/**
 * TTY renderer: listr2 with ONE row per playbook task (never one per host x task, which
 * collapses at ~50 hosts), host counters in the row's title (with the hosts in progress and, after
 * SLOW_HOST_AFTER_MS, the slow ones: `0 done / 3 · 3 running · slow: web-2 12s`), failures
 * expanded under it.
 * Each task gets its own short-lived Listr instance; rows are sequential (hosts that run ahead
 * have their results held until their row starts: engine/pipeline.ts),
 * so only one is live at a time and finished rows stay on screen.
 * listr2 is loaded when this renderer is created (only a terminal gets it), while the run starts.
 */
import type { Listr as ListrClass } from 'listr2';
import type { SourcePos } from '../core/errors.js';
import type { EngineEvent, EventBus, HostStatus, TaskHostResult } from '../engine/events.js';
import { ConnectBursts, connectedText, connectingText, countersTitle, failureLines, hostLabel, HostsInProgress, interruptedLine, makeChalk, progressTitle, PROGRESS_TICK_MS, recapTable, renderDiff, warningLine, warningsRecap } from './format.js';

interface Live {
  id: number;
  name: string;
  total: number;
  counts: Record<HostStatus, number>;
  failures: Array<{ result: TaskHostResult; pos?: SourcePos }>;
  ignored: number;
  /** Messages shown under the row (debug output). */
  messages: string[];
  show: boolean;
  diffs: string[];
  /** Plan warnings of this task, shown under the row. */
  warnings: string[];
  /** Hosts on the task now (task:progress), for `3 running · slow: web-2 12s`. */
  progress: HostsInProgress;
  /** The row's title as last computed (applied when the listr task starts). */
  title?: string;
  setTitle?: (t: string) => void;
  /** Set by task:end; the Listr task settles with it whenever it gets to run. */
  ended?: { title: string; failed: boolean };
  settle?: () => void;
  done: Promise<unknown>;
}

export function listrRenderer(bus: EventBus, out: NodeJS.WriteStream = process.stdout): { idle: () => Promise<void> } {
  const ch = makeChalk(out);
  let live: Live | undefined;
  /** Every warning of the run, repeated after the recap table. */
  const warnings: string[] = [];
  const listr2 = import('listr2');
  let chain: Promise<unknown> = listr2;
  const write = (s: string) => (chain = chain.then(() => void out.write(s + '\n')));

  const start = (id: number, name: string, total: number, handler: boolean) => {
    const l: Live = { id, name: (handler ? 'handler: ' : '') + name, total, counts: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 }, failures: [], ignored: 0, messages: [], show: false, diffs: [], warnings: [], progress: new HostsInProgress(), done: Promise.resolve() };
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const makeList = (Listr: typeof ListrClass) => new Listr(
      [
        {
          title: l.name,
          task: (_ctx, task) =>
            new Promise<void>((resolve, reject) => {
              l.setTitle = (t) => (task.title = t);
              if (l.title && !l.ended) task.title = l.title;
              l.settle = () => {
                task.title = l.ended!.title;
                if (l.ended!.failed) reject(new Error(l.ended!.title));
                else resolve();
              };
              ready();
              if (l.ended) l.settle();
            }),
        },
      ],
      { renderer: 'default', registerSignalListeners: false, exitOnError: false, rendererOptions: { collapseErrors: false, showErrorMessage: false } },
    );
    l.done = chain = chain.then(async () => {
      const run = makeList((await listr2).Listr).run().catch(() => undefined);
      await isReady;
      await run;
      for (const m of l.messages) out.write(m + '\n');
      for (const d of l.diffs) out.write(d + '\n');
      for (const w of l.warnings) out.write(w + '\n');
      for (const f of l.failures) out.write(failureLines(f.result, ch, f.pos).join('\n') + '\n');
    });
    live = l;
    void isReady;
  };

  /** The live row's title from its counters and hosts in progress; ticks while hosts are on it (elapsed times). */
  let ticker: NodeJS.Timeout | undefined;
  const refresh = (l: Live) => {
    const counters = progressTitle(l.counts, l.total, l.progress, ch);
    l.title = counters ? `${l.name}  ${counters}` : l.name;
    l.setTitle?.(l.title);
    if (l.progress.running && !ticker) {
      ticker = setInterval(() => (live?.id === l.id && !l.ended ? refresh(l) : stopTicker()), PROGRESS_TICK_MS);
      ticker.unref();
    } else if (!l.progress.running) stopTicker();
  };
  const stopTicker = () => {
    clearInterval(ticker);
    ticker = undefined;
  };

  /** Connecting: a live row while hosts connect outside a task (the facts read before a section's first task). */
  const bursts = new ConnectBursts();
  const CONNECT_ROW = -1;
  bus.on((e: EngineEvent) => {
    if (e.type === 'connect:progress') {
      const started = bursts.progress(e);
      if (started && !live) start(CONNECT_ROW, 'connect', 0, false);
      const b = bursts.current();
      if (b && live?.id === CONNECT_ROW) {
        live.name = connectingText(b, ch);
        live.setTitle?.(live.name);
      }
      return;
    }
    const burst = bursts.settled();
    if (live?.id === CONNECT_ROW) {
      // The row ends with the burst, or when a task starts while hosts are still connecting.
      const b = burst ?? bursts.current();
      live.ended = { title: b ? (burst ? connectedText(b, ch) : connectingText(b, ch)) : 'connect', failed: false };
      live.settle?.();
      live = undefined;
    }
    switch (e.type) {
      case 'run:start':
        if (e.check) write(ch.cyan('CHECK MODE: nothing will be changed'));
        break;
      case 'play:start':
        write(ch.bold(`\nPLAY [${e.play}] `) + ch.dim(`(${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'})`));
        break;
      case 'task:start':
        start(e.id, e.name, e.hosts.length, e.handler);
        live!.show = e.module === 'debug';
        break;
      case 'task:host': {
        const l = live;
        if (!l || l.id !== e.id) break;
        const r = e.result;
        l.counts[r.status]++;
        if (r.status === 'failed') l.failures.push({ result: r, pos: e.pos });
        else if (r.status === 'unreachable') l.failures.push({ result: r });
        if (r.ignored) l.ignored++;
        if (l.show && r.msg && r.status !== 'failed') l.messages.push(`  ${hostLabel(r)}${r.item !== undefined ? ` (item=${r.item})` : ''}: ${r.msg}`);
        for (const d of r.diffs ?? []) {
          const t = renderDiff(d, ch);
          if (t) l.diffs.push(ch.dim(`--- ${hostLabel(r)}`) + '\n' + t);
        }
        refresh(l);
        break;
      }
      case 'task:progress': {
        const l = live;
        if (!l || l.id !== e.id) break;
        l.progress.progress(e);
        refresh(l);
        break;
      }
      case 'task:end': {
        const l = live;
        if (!l || l.id !== e.id) break;
        stopTicker();
        l.ended = { title: `${l.name}  ${countersTitle(e.counts, e.total, ch)}`, failed: e.counts.failed > l.ignored || e.counts.unreachable > 0 };
        l.settle?.();
        live = undefined;
        break;
      }
      case 'warning': {
        const line = warningLine(e, ch, live && e.id === live.id ? live.name : undefined);
        warnings.push(line);
        if (live && e.id === live.id) live.warnings.push(line);
        else write(line);
        break;
      }
      case 'recap':
        write('\n' + recapTable(e.hosts, ch));
        if (e.interrupted) write(ch.yellow(interruptedLine(e.stoppedBy)));
        for (const l of warningsRecap(warnings, ch)) write(l);
        break;
    }
  });
  return { idle: async () => void (await chain) };
}
