/**
 * Connect and probe progress: the engine's connect:progress events grouped into bursts, shown as
 * a live row on a terminal and, when connecting takes a while, as two lines in plain output.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { ConnectBursts, type ConnectProgress } from '../../src/render/format.js';
import { plainRenderer } from '../../src/render/plain.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

/** The events of `n` hosts connecting: all opened, then `connected` of them connect and answer, `down` are unreachable. */
function connecting(n: number) {
  const c = { opened: 0, connected: 0, probed: 0, unreachable: 0 };
  const ev = (): ConnectProgress => ({ type: 'connect:progress', ...c });
  return {
    open: (k = n) => Array.from({ length: k }, () => (c.opened++, ev())),
    connect: (k: number) => Array.from({ length: k }, () => (c.connected++, ev())),
    probe: (k: number) => Array.from({ length: k }, () => (c.probed++, ev())),
    down: (k: number) => Array.from({ length: k }, () => (c.unreachable++, ev())),
  };
}

const taskStart = (id = 1): EngineEvent => ({ type: 'task:start', id, name: 'first', module: 'command', hosts: ['h1'], handler: false, section: 'tasks' });

function plain(opts: { connectAfterMs?: number } = {}): { bus: EventBus; text: () => string } {
  const bus = new EventBus();
  let text = '';
  const out = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  plainRenderer(bus, out, opts);
  return { bus, text: () => text };
}

describe('connect and probe progress', () => {
  describe('bursts', () => {
    it('a burst runs from the first host opened to every host answered, seen at the next other event', () => {
      const b = new ConnectBursts();
      const h = connecting(3);
      const [first, ...rest] = h.open();
      expect(b.progress(first!, 1000)).to.equal(true);
      for (const e of [...rest, ...h.connect(2), ...h.probe(2), ...h.down(1)]) expect(b.progress(e, 1500)).to.equal(false);
      expect(b.current(1500)).to.deep.equal({ opened: 3, connected: 2, probed: 2, unreachable: 1, seconds: 0.5 });
      expect(b.settled(2000)).to.deep.equal({ opened: 3, connected: 2, probed: 2, unreachable: 1, seconds: 1 });
      expect(b.settled()).to.equal(undefined);
    });

    it('hosts connecting one after the other (forks 1) make one burst; a later one counts only its own hosts', () => {
      const b = new ConnectBursts();
      const h = connecting(3);
      const starts = [...h.open(1), ...h.connect(1), ...h.probe(1), ...h.open(1), ...h.connect(1), ...h.probe(1)].map((e) => b.progress(e));
      expect(starts.filter(Boolean)).to.have.length(1);
      expect(b.settled()).to.include({ opened: 2, probed: 2 });
      expect(b.settled()).to.equal(undefined);
      const later = [...h.open(1), ...h.connect(1)].map((e) => b.progress(e));
      expect(later).to.deep.equal([true, false]);
      expect(b.settled(), 'still connecting').to.equal(undefined);
      h.probe(1).forEach((e) => b.progress(e));
      expect(b.settled()).to.include({ opened: 1, connected: 1, probed: 1, unreachable: 0 });
    });
  });

  describe('plain output', () => {
    it('slow connecting: one line with the counts once it takes a while, one when all answered; none per host', async () => {
      const { bus, text } = plain({ connectAfterMs: 30 });
      const h = connecting(12);
      [...h.open(), ...h.connect(5), ...h.probe(2)].forEach((e) => bus.emit(e));
      await new Promise((r) => setTimeout(r, 80));
      [...h.connect(6), ...h.probe(9), ...h.down(1)].forEach((e) => bus.emit(e));
      bus.emit(taskStart());
      const lines = text().split('\n').filter(Boolean);
      expect(lines[0]).to.equal('connecting: 5 of 12 hosts connected, 2 probed');
      expect(lines[1]).to.match(/^connected to 11 hosts, 1 unreachable in 0\.\d s$/);
      expect(lines.slice(2)).to.deep.equal(['TASK [first]']);
    });

    it('quick connecting prints nothing', async () => {
      const { bus, text } = plain({ connectAfterMs: 1000 });
      const h = connecting(3);
      [...h.open(), ...h.connect(3), ...h.probe(3)].forEach((e) => bus.emit(e));
      bus.emit(taskStart());
      await new Promise((r) => setTimeout(r, 20));
      expect(text().split('\n').filter(Boolean)).to.deep.equal(['TASK [first]']);
    });
  });

  describe('the CLI', function () {
    this.timeout(30000);
    let dir: string;
    let playbook: string;
    before(function () {
      if (!existsSync(cli)) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'tsplay-connect-'));
      playbook = join(dir, 'site.yml');
      // Two probing tasks: the section's facts are read before its first task, connecting first.
      writeFileSync(playbook, `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: one\n      copy: { dest: ${dir}/a, content: "a" }\n    - name: two\n      copy: { dest: ${dir}/b, content: "b" }\n`);
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));

    it('--json: connect:progress events, the first before any result', () => {
      const r = spawnSync(process.execPath, [cli, 'run', playbook, '--json'], { encoding: 'utf8' });
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as EngineEvent & { ts: string; schemaVersion: number });
      const progress = events.filter((e) => e.type === 'connect:progress');
      expect(progress.map(({ ts: _, schemaVersion: __, ...e }) => e)).to.deep.equal([
        { type: 'connect:progress', opened: 1, connected: 0, probed: 0, unreachable: 0 },
        { type: 'connect:progress', opened: 1, connected: 1, probed: 0, unreachable: 0 },
        { type: 'connect:progress', opened: 1, connected: 1, probed: 1, unreachable: 0 },
      ]);
      expect(events.findIndex((e) => e.type === 'connect:progress')).to.be.below(events.findIndex((e) => e.type === 'task:host'));
    });

    it('on a terminal: a connect row before the first task row', function () {
      if (spawnSync('script', ['--version']).status !== 0) this.skip();
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
      delete env.CI;
      const r = spawnSync('script', ['-qec', `stty cols 120 rows 40; node ${cli} run ${playbook}`, '/dev/null'], { encoding: 'utf8', env });
      const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      expect(out).to.match(/connected to 1 host in \d+\.\d s[\s\S]*one\s+1 (changed|ok) \/ 1/);
      expect(r.status).to.equal(0);
    });
  });
});
