/**
 * Renderers as a user sees them: the CLI on a pseudo-terminal (listr2, one row per task with
 * host counters), piped (plain lines), and --json; against the local connection.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/events.js';
import { jsonRenderer } from '../../src/render/json.js';
import { plainRenderer } from '../../src/render/plain.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

function project(): { dir: string; playbook: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-render-'));
  const playbook = join(dir, 'site.yml');
  writeFileSync(
    playbook,
    `- hosts: localhost
  gather_facts: false
  tasks:
    - name: write a file
      copy:
        dest: ${dir}/out.txt
        content: "hello\\n"
    - name: always fails
      command: sh -c 'echo broken >&2; exit 3'
      ignore_errors: true
    - name: skipped one
      command: "true"
      when: false
    - name: say something
      debug:
        msg: "hello from {{ inventory_hostname }}"
`,
  );
  return { dir, playbook };
}

describe('renderers', function () {
  this.timeout(30000);
  before(function () {
    if (!existsSync(cli)) this.skip();
  });

  it('on a terminal: one listr row per task with host counters, failures expanded', function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip();
    const { playbook } = project();
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const r = spawnSync('script', ['-qec', `stty cols 120 rows 40; node ${cli} run ${playbook}`, '/dev/null'], { encoding: 'utf8', env });
    const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(out).to.match(/write a file\s+1 changed \/ 1/);
    expect(out).to.match(/always fails\s+1 failed \/ 1/);
    expect(out).to.match(/skipped one\s+1 skipped \/ 1/);
    expect(out).to.match(/✖ localhost: command failed with exit code 3 .*\(ignored\)/);
    expect(out).to.include('exit code: 3');
    expect(out).to.include('│ broken');
    expect(out).to.include('localhost: hello from localhost');
    expect(out).to.match(/localhost\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=1\s+rescued=0\s+ignored=1/);
    expect(r.status).to.equal(0);
  });

  it('piped: one line per result', () => {
    const { playbook } = project();
    const r = spawnSync(process.execPath, [cli, 'run', playbook], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stdout).to.include('TASK [write a file]\nchanged: [localhost]');
    expect(r.stdout).to.include('failed (ignored): [localhost]');
    expect(r.stdout).to.include('TASK [skipped one]\nskipped: [localhost]');
    expect(r.stdout).to.include('TASK [say something]\nok: [localhost] hello from localhost');
    expect(r.stdout).to.not.match(/\x1b\[/);
    // second run: converged
    const again = spawnSync(process.execPath, [cli, 'run', playbook], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(again.stdout).to.include('TASK [write a file]\nok: [localhost]');
  });

  it('--json: one event per line', () => {
    const { playbook } = project();
    const r = spawnSync(process.execPath, [cli, 'run', playbook, '--json'], { encoding: 'utf8' });
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].type).to.equal('run:start');
    expect(events.at(-1).type).to.equal('recap');
    const results = events.filter((e) => e.type === 'task:host').map((e) => e.result.status);
    expect(results).to.deep.equal(['changed', 'failed', 'skipped', 'ok']);
  });

  it('the recap of a stopped run names what stopped it (plain and --json)', () => {
    const hosts = { web1: { ok: 1, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 } };
    for (const [stoppedBy, line] of [
      ['SIGTERM', 'interrupted by SIGTERM: no new task was started'],
      ['SIGINT (Ctrl-C)', 'interrupted by SIGINT (Ctrl-C): no new task was started'],
    ]) {
      const bus = new EventBus();
      let text = '';
      const out = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
      plainRenderer(bus, out);
      let json = '';
      jsonRenderer(bus, { write: (s: string) => ((json += s), true) } as unknown as NodeJS.WritableStream);
      bus.emit({ type: 'recap', hosts, durationMs: 5, interrupted: true, stoppedBy } as never);
      expect(text).to.include(line);
      expect(text).not.to.include('after Ctrl-C');
      expect(JSON.parse(json).stoppedBy).to.equal(stoppedBy);
    }
  });
});

describe('renderers: delegated results', () => {
  it('a delegated result shows host -> delegate (plain, the listr failure block, --json)', () => {
    const bus = new EventBus();
    let text = '';
    plainRenderer(bus, { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream);
    let json = '';
    jsonRenderer(bus, { write: (s: string) => ((json += s), true) } as unknown as NodeJS.WritableStream);
    bus.emit({ type: 'task:start', id: 1, name: 'allow', module: 'command', hosts: ['web1', 'web2'], handler: false, section: 'tasks' });
    bus.emit({ type: 'task:host', id: 1, result: { host: 'web1', delegate: 'db1', status: 'changed', changes: ['run echo'], durationMs: 1 } });
    bus.emit({ type: 'task:host', id: 1, result: { host: 'web2', delegate: 'db1', status: 'failed', msg: 'boom', durationMs: 1 } });
    expect(text).to.include('changed: [web1 -> db1] run echo');
    expect(text).to.include('failed: [web2 -> db1]');
    expect(text).to.include('✖ web2 -> db1: boom');
    const lines = json.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((e) => e.type === 'task:host').map((e) => `${e.result.host}>${e.result.delegate}`)).to.deep.equal(['web1>db1', 'web2>db1']);
  });
});
