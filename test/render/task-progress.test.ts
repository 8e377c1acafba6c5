/**
 * A running task shows its hosts in progress before any finished (`0 done / 3 · 3 running`), the
 * slow ones after SLOW_HOST_AFTER_MS (`slow: web-2 12s`); plain output adds a line only for a
 * task still running after PLAIN_STILL_RUNNING_AFTER_MS; --json leaves task:progress out.
 * Fake timers (node:test's MockTimers: setInterval and Date).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock } from 'node:test';
import { EventBus, type EngineEvent, type HostStatus } from '../../src/engine/events.js';
import { HostsInProgress, makeChalk, PLAIN_STILL_RUNNING_AFTER_MS, progressTitle, SLOW_HOST_AFTER_MS, type TaskProgress } from '../../src/render/format.js';
import { jsonRenderer } from '../../src/render/json.js';
import { plainRenderer } from '../../src/render/plain.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const ch = makeChalk({ isTTY: false } as NodeJS.WriteStream);
const T0 = 1_700_000_000_000;

const progress = (host: string, state: 'start' | 'done', id = 1): TaskProgress => ({ type: 'task:progress', id, host, state, at: Date.now() });
/** Moves the fake clock second by second, as a real one would pass while the ticker runs. */
function advance(ms: number): void {
  for (; ms >= 1000; ms -= 1000) mock.timers.tick(1000);
  if (ms) mock.timers.tick(ms);
}
const zero = (): Record<HostStatus, number> => ({ ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 });

describe('hosts in progress on a running task', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: T0 }));
  afterEach(() => mock.timers.reset());

  it('the constants the brief names: slow after 5 s on a terminal, a plain line after 30 s', () => {
    expect(SLOW_HOST_AFTER_MS).to.equal(5000);
    expect(PLAIN_STILL_RUNNING_AFTER_MS).to.equal(30_000);
  });

  it('counts hosts running before any finished, then names the slow ones, longest first', () => {
    const p = new HostsInProgress();
    const counts = zero();
    expect(progressTitle(counts, 3, p, ch), 'nothing started: no counters').to.equal('');
    p.progress(progress('web-1', 'start'));
    p.progress(progress('web-3', 'start'));
    mock.timers.tick(1000);
    p.progress(progress('web-2', 'start'));
    expect(progressTitle(counts, 3, p, ch)).to.equal('0 done / 3 · 3 running');
    mock.timers.tick(2000);
    p.progress(progress('web-3', 'done'));
    counts.ok++;
    expect(progressTitle(counts, 3, p, ch)).to.equal('1 ok / 3 · 2 running');
    mock.timers.tick(SLOW_HOST_AFTER_MS - 3000 - 1);
    expect(progressTitle(counts, 3, p, ch), 'just under 5 s').to.equal('1 ok / 3 · 2 running');
    mock.timers.tick(1);
    expect(progressTitle(counts, 3, p, ch)).to.equal('1 ok / 3 · 2 running · slow: web-1 5s');
    mock.timers.tick(7000);
    expect(progressTitle(counts, 3, p, ch)).to.equal('1 ok / 3 · 2 running · slow: web-1 12s, web-2 11s');
    p.progress(progress('web-1', 'done'));
    counts.changed++;
    expect(progressTitle(counts, 3, p, ch)).to.equal('1 ok · 1 changed / 3 · 1 running · slow: web-2 11s');
    p.progress(progress('web-2', 'done'));
    counts.ok++;
    expect(progressTitle(counts, 3, p, ch)).to.equal('2 ok · 1 changed / 3');
  });

  it('many slow hosts: the two slowest and how many more', () => {
    const p = new HostsInProgress();
    for (let i = 1; i <= 6; i++) {
      p.progress(progress(`h${i}`, 'start'));
      mock.timers.tick(1000);
    }
    mock.timers.tick(10_000);
    expect(progressTitle(zero(), 6, p, ch)).to.equal('0 done / 6 · 6 running · slow: h1 16s, h2 15s +4');
  });

  describe('plain output', () => {
    function plain(opts: { stillRunningAfterMs?: number } = {}) {
      const bus = new EventBus();
      let text = '';
      plainRenderer(bus, { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream, opts);
      return { bus, lines: () => text.split('\n').filter(Boolean) };
    }
    const start = (id = 1): EngineEvent => ({ type: 'task:start', id, name: `task ${id}`, module: 'command', hosts: ['web-1', 'web-2'], handler: false, section: 'tasks' });
    const result = (host: string, id = 1): EngineEvent => ({ type: 'task:host', id, result: { host, status: 'ok', durationMs: 1 } });

    it('a quick task prints what it printed before: no line per host starting or finishing', () => {
      const { bus, lines } = plain();
      bus.emit(start());
      for (const h of ['web-1', 'web-2']) bus.emit(progress(h, 'start'));
      advance(10_000);
      for (const h of ['web-1', 'web-2']) {
        bus.emit(result(h));
        bus.emit(progress(h, 'done'));
      }
      bus.emit({ type: 'task:end', id: 1, counts: { ...zero(), ok: 2 }, total: 2 });
      advance(60_000);
      expect(lines()).to.deep.equal(['TASK [task 1]', 'ok: [web-1]', 'ok: [web-2]']);
    });

    it('a host still on its task after 30 s gets a line, again at 60 s and 120 s, none after the task ended', () => {
      const { bus, lines } = plain();
      bus.emit(start());
      for (const h of ['web-1', 'web-2']) bus.emit(progress(h, 'start'));
      advance(3000);
      bus.emit(result('web-1'));
      bus.emit(progress('web-1', 'done'));
      advance(26_000);
      expect(lines(), 'at 29 s').to.deep.equal(['TASK [task 1]', 'ok: [web-1]']);
      advance(1000);
      expect(lines().slice(2)).to.deep.equal(['still running after 30 s: web-2 30s']);
      advance(29_000);
      expect(lines().slice(2), 'nothing new before 60 s').to.have.length(1);
      advance(1000);
      advance(60_000);
      expect(lines().slice(2)).to.deep.equal(['still running after 30 s: web-2 30s', 'still running after 60 s: web-2 60s', 'still running after 120 s: web-2 120s']);
      bus.emit(result('web-2'));
      bus.emit(progress('web-2', 'done'));
      bus.emit({ type: 'task:end', id: 1, counts: { ...zero(), ok: 2 }, total: 2 });
      advance(600_000);
      expect(lines()).to.have.length(6);
    });

    it('each task has its own clock: a new task starts counting again', () => {
      const { bus, lines } = plain({ stillRunningAfterMs: 10_000 });
      bus.emit(start(1));
      bus.emit(progress('web-1', 'start', 1));
      advance(11_000);
      bus.emit(result('web-1', 1));
      bus.emit(progress('web-1', 'done', 1));
      bus.emit({ type: 'task:end', id: 1, counts: { ...zero(), ok: 1 }, total: 1 });
      bus.emit(start(2));
      bus.emit(progress('web-2', 'start', 2));
      advance(9000);
      expect(lines().filter((l) => l.startsWith('still'))).to.deep.equal(['still running after 10 s: web-1 10s']);
      advance(1000);
      expect(lines().filter((l) => l.startsWith('still'))).to.deep.equal(['still running after 10 s: web-1 10s', 'still running after 10 s: web-2 10s']);
    });
  });

  it('--json leaves task:progress out (one line per result, as before)', () => {
    const bus = new EventBus();
    let text = '';
    jsonRenderer(bus, { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream);
    bus.emit(progress('web-1', 'start'));
    bus.emit({ type: 'task:host', id: 1, result: { host: 'web-1', status: 'ok', durationMs: 1 } });
    bus.emit(progress('web-1', 'done'));
    expect(text.trim().split('\n').map((l) => JSON.parse(l).type)).to.deep.equal(['task:host']);
  });
});

describe('hosts in progress on a terminal (the CLI on a pseudo-terminal)', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    if (!existsSync(cli) || spawnSync('script', ['--version']).status !== 0) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'tsplay-task-progress-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('a task that takes 7 s shows `0 done / 1 · 1 running`, then `slow: localhost 5s`, and ends with its counters', () => {
    const playbook = join(dir, 'site.yml');
    writeFileSync(playbook, `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: takes a while\n      command: sleep 7\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const r = spawnSync('script', ['-qec', `stty cols 120 rows 40; node ${cli} run ${playbook}`, '/dev/null'], { encoding: 'utf8', env });
    const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(out).to.match(/takes a while\s+0 done \/ 1 · 1 running(?! · slow)/);
    expect(out).to.match(/takes a while\s+0 done \/ 1 · 1 running · slow: localhost [5-7]s/);
    expect(out).to.match(/takes a while\s+1 changed \/ 1\s*\n/);
    expect(r.status).to.equal(0);
  });
});
