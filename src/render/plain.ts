/** Line-per-result renderer for pipes, CI logs and -v. */
import { formatPos, type SourcePos } from '../core/errors.js';
import type { EngineEvent, EventBus, TaskHostResult } from '../engine/events.js';
import { ConnectBursts, connectedText, connectingText, failureLines, hostLabel, HostsInProgress, interruptedLine, makeChalk, PLAIN_STILL_RUNNING_AFTER_MS, PROGRESS_TICK_MS, recapTable, renderDiff, slowHostsText, STATUS_COLOR, warningLine } from './format.js';

/**
 * `connectAfterMs`: hosts still connecting after this long get a line with the counts (then one
 * when they all answered); quicker connects print nothing (default 1000).
 * `stillRunningAfterMs`: a task whose hosts are still on it after this long gets a line naming
 * them (`still running after 30 s: web-2 31s`), again at twice, four times... that long, so a
 * CI log does not look stuck; quicker tasks print nothing more than before (default 30 s).
 */
export function plainRenderer(bus: EventBus, out: NodeJS.WriteStream = process.stdout, opts: { verbose?: boolean; connectAfterMs?: number; stillRunningAfterMs?: number } = {}): void {
  const ch = makeChalk(out);
  const w = (s: string) => out.write(s + '\n');
  const names = new Map<number, string>();
  /** Tasks whose message is the point of the task (debug), shown without -v. */
  const shows = new Set<number>();
  /** Slow connecting: a line with the counts once it takes a while, one more when every host answered. */
  const bursts = new ConnectBursts();
  let shown = false;
  let timer: NodeJS.Timeout | undefined;
  const showConnecting = () => {
    const b = bursts.current();
    if (b && b.probed + b.unreachable < b.opened) {
      w(ch.dim(connectingText(b, ch)));
      shown = true;
    }
  };
  /** Hosts on the current task, and when its next "still running" line is due. */
  let current: { id: number; hosts: HostsInProgress; nextMs: number } | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const stillRunning = () => {
    if (!current?.hosts.running) return;
    const now = Date.now();
    const slow = current.hosts.slow(now, current.nextMs);
    if (!slow.length) return;
    w(ch.dim(`still running after ${Math.round(current.nextMs / 1000)} s: ${slowHostsText(slow, 5)}`));
    while (current.nextMs <= slow[0]!.seconds * 1000) current.nextMs *= 2;
  };
  bus.on((e: EngineEvent) => {
    if (e.type === 'task:progress') {
      if (current?.id !== e.id) current = { id: e.id, hosts: new HostsInProgress(), nextMs: opts.stillRunningAfterMs ?? PLAIN_STILL_RUNNING_AFTER_MS };
      current.hosts.progress(e);
      if (current.hosts.running && !ticker) (ticker = setInterval(stillRunning, PROGRESS_TICK_MS)).unref();
      else if (!current.hosts.running) {
        clearInterval(ticker);
        ticker = undefined;
      }
      return;
    }
    if (e.type === 'connect:progress') {
      if (bursts.progress(e)) {
        shown = false;
        const after = opts.connectAfterMs ?? 1000;
        if (after <= 0) showConnecting();
        else (timer = setTimeout(showConnecting, after)).unref();
      }
      return;
    }
    if ((e.type === 'task:end' && current?.id === e.id) || e.type === 'recap') {
      current = undefined;
      clearInterval(ticker);
      ticker = undefined;
    }
    const burst = bursts.settled();
    if (burst) {
      clearTimeout(timer);
      if (shown) w(ch.dim(connectedText(burst, ch)));
    }
    switch (e.type) {
      case 'run:start':
        if (e.check) w(ch.cyan('CHECK MODE: nothing will be changed'));
        break;
      case 'play:start':
        w('');
        w(ch.bold(`PLAY [${e.play}] `) + ch.dim(`(${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'})`));
        break;
      case 'task:start':
        names.set(e.id, e.name);
        if (e.module === 'debug') shows.add(e.id);
        w('');
        w(ch.bold(`${e.handler ? 'HANDLER' : 'TASK'} [${e.name}]`));
        break;
      case 'task:host':
        line(e.result, shows.has(e.id), e.pos);
        break;
      case 'trace':
        trace(e);
        break;
      case 'warning':
        w(warningLine(e, ch, e.id !== undefined ? names.get(e.id) : undefined));
        break;
      case 'recap':
        w('');
        w(recapTable(e.hosts, ch));
        if (e.interrupted) w(ch.yellow(interruptedLine(e.stoppedBy)));
        break;
    }
  });
  /** -vv/-vvv (Ansible's look): `<web1> EXEC ...`, continuation lines indented. */
  function trace(e: Extract<EngineEvent, { type: 'trace' }>) {
    const [first, ...rest] = e.msg.split('\n');
    w(ch.dim(`<${e.host}> ${e.kind.toUpperCase()} ${first}`));
    for (const l of rest) w(ch.dim(`    ${l}`));
  }
  /** `pos`: where the task is written; a failure line ends with it (`failed: [web1] site.yml:42:7`). */
  function line(r: TaskHostResult, show: boolean, pos?: SourcePos) {
    const color = ch[STATUS_COLOR[r.status]];
    const item = r.item !== undefined ? ` => (item=${r.item})` : '';
    if (r.status === 'failed') {
      w(color(`${r.ignored ? 'failed (ignored)' : 'failed'}: [${hostLabel(r)}]${item}${pos ? ` ${formatPos(pos)}` : ''}`));
      for (const l of failureLines(r, ch)) w(l);
      return;
    }
    const detail = r.status === 'changed' && r.changes?.length ? ` ${r.changes.join('; ')}` : (opts.verbose || show) && r.msg ? ` ${r.msg}` : r.status === 'unreachable' ? ` ${r.msg}` : '';
    w(color(`${r.status}: [${hostLabel(r)}]${item}`) + (detail ? ch.dim(detail) : ''));
    for (const d of r.diffs ?? []) {
      const text = renderDiff(d, ch);
      if (text) w(text);
    }
  }
}
