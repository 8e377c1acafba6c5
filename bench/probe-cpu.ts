/**
 * Host CPU of one probe: the fact batch of a converged play of 30 file/copy/lineinfile tasks
 * (5 directories and 5 files by `file`, 10 `copy` destinations, 10 `lineinfile` configs: the
 * facts those modules probe), run here under dash as the host would, each fact in its own
 * subshell (before: the facts without their bulk form) against the bulk probe (after).
 *   node --import tsx bench/probe-cpu.ts [rounds]
 * Prints, old vs new: median task-clock (perf stat, user+sys of the shell and all it starts;
 * runs interleaved A/B), user-space instructions (valgrind callgrind, children included;
 * repeatable under load), and processes started (strace -f: execve, clone/fork).
 * With `--wrap` (or `--wrap-only`, `--become`: see hostCommand), each script runs as the connection sends it (ssh.ts: sh -c PRELUDE...) from
 * a bash "login shell", plain and through sudo, instead of dash alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fact } from '../src/core/module.js';
import { BecomeSession } from '../src/connection/become.js';
import { PRELUDE } from '../src/connection/process-group.js';
import { remoteCommand } from '../src/connection/ssh.js';
import { quote } from '../src/core/quote.js';
import { batchFacts } from '../src/engine/facts-batch.js';
import { fileContent, stat } from '../src/facts/index.js';

const ROUNDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 21);

const dir = mkdtempSync(join(tmpdir(), 'tsplay-probe-bench-'));
const config = (i: number, kb: number) => Array.from({ length: kb * 16 }, (_, l) => `option_${i}_${l} = value ${l}\n`).join('').slice(0, kb * 1024);
const facts: Fact[] = [];
for (let i = 0; i < 5; i++) {
  mkdirSync(join(dir, `d${i}`));
  facts.push(stat(join(dir, `d${i}`)));
  writeFileSync(join(dir, `f${i}`), '');
  facts.push(stat(join(dir, `f${i}`)));
}
for (let i = 0; i < 10; i++) {
  writeFileSync(join(dir, `copy${i}.conf`), config(i, 2));
  facts.push(stat(join(dir, `copy${i}.conf`)), fileContent(join(dir, `copy${i}.conf`)));
  writeFileSync(join(dir, `line${i}.conf`), config(i + 10, 3));
  facts.push(stat(join(dir, `line${i}.conf`)), fileContent(join(dir, `line${i}.conf`)));
}
symlinkSync(join(dir, 'copy0.conf'), join(dir, 'link'));
facts.push(stat(join(dir, 'link')));

const legacy = facts.map(({ key, command, parse }) => ({ key, command, parse }));
const batches = { old: batchFacts(legacy), new: batchFacts(facts) };
const scripts = { old: batches.old.script, new: batches.new.script };
/** A Debian host's PATH (this machine's is long, and sh tries execve along it). */
const env = { ...process.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

const SAME = process.argv.includes('--wrap-only');
const WRAP = SAME || process.argv.includes('--wrap');
const BECOME = process.argv.includes('--become');
/**
 * What the host runs. Plain: dash runs the script. --wrap: the login shell (bash) gets the
 * connection's command line: before, `sh -c 'PRELUDE; SCRIPT'` or, with --become,
 * `sh -c 'PRELUDE; exec sudo -H -n -u root -- sh -c "echo MARKER; SCRIPT"'`; after, what
 * ssh.ts remoteCommand sends now. --wrap-only: both run the new script, only the wrapping differs.
 */
function hostCommand(name: 'old' | 'new', script: string): string[] {
  if (!WRAP) return ['dash', '-c', script];
  const sudo = BECOME ? new BecomeSession(script, { user: 'root' }, undefined, 'bench', name === 'new' ? PRELUDE : undefined) : undefined;
  const line = name === 'new' ? remoteCommand(script, sudo) : `sh -c ${quote(`${PRELUDE}\n${sudo ? `exec ${sudo.command}` : script}`)}`;
  return ['bash', '-c', line];
}
const files = Object.fromEntries(
  Object.entries(scripts).map(([name, s]) => {
    const f = join(dir, `${name}.sh`);
    writeFileSync(f, s);
    return [name, f];
  }),
) as Record<keyof typeof scripts, string>;
const argv = { old: hostCommand('old', SAME ? scripts.new : scripts.old), new: hostCommand('new', scripts.new) };

// The outputs agree (parsed), so both scripts read the same facts.
const parsed = (name: keyof typeof files) => {
  const [cmd, ...args] = argv[name];
  const r = spawnSync(cmd!, args, { encoding: 'utf8', maxBuffer: 1 << 26, env });
  // the process group line and sudo's marker are the connection's to take out of stderr
  return JSON.stringify(batches[SAME ? 'new' : name].split({ stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 }).map((o, i) => facts[i]!.parse(o)));
};
if (parsed('old') !== parsed('new')) throw new Error('old and new probes read different facts');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function taskClock(cmd: string[]): number {
  const r = spawnSync('perf', ['stat', '-x', ',', '-e', 'task-clock', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  const line = r.stderr.split('\n').find((l) => l.includes('task-clock'));
  return Number(line?.split(',')[0]);
}

function instructions(cmd: string[]): number {
  const out = mkdtempSync(join(tmpdir(), 'tsplay-cg-'));
  spawnSync('valgrind', ['--tool=callgrind', '--trace-children=yes', `--callgrind-out-file=${out}/cg.%p`, ...cmd], { maxBuffer: 1 << 26, env });
  let total = 0;
  for (const f of readdirSync(out)) {
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(out, f), 'utf8'));
    total += Number(m?.[1] ?? 0);
  }
  rmSync(out, { recursive: true, force: true });
  return total;
}

function processes(cmd: string[]): { execs: number; forks: number } {
  const r = spawnSync('strace', ['-f', '-c', '-e', 'trace=execve,clone,clone3,fork,vfork', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  // strace -c: % time, seconds, usecs/call, calls, errors (optional), syscall; successful calls only.
  const calls = (name: string) => {
    const m = new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(\\d+\\s+)?${name}$`, 'm').exec(r.stderr);
    return Number(m?.[1] ?? 0) - Number(m?.[2] ?? 0);
  };
  return { execs: calls('execve'), forks: calls('clone') + calls('clone3') + calls('fork') + calls('vfork') };
}

const clock: Record<string, number[]> = { old: [], new: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const name of (i % 2 ? ['new', 'old'] : ['old', 'new']) as Array<keyof typeof argv>) clock[name]!.push(taskClock(argv[name]));
}
const ir = { old: instructions(argv.old), new: instructions(argv.new) };
const procs = { old: processes(argv.old), new: processes(argv.new) };

console.log(`probe of ${facts.length} facts (${Object.keys(scripts).map((k) => `${k}: ${scripts[k as keyof typeof scripts].length} bytes`).join(', ')})`);
console.log(`host command: ${WRAP ? `bash -c <connection's command line${BECOME ? ', become root via sudo' : ''}>` : 'dash -c <script>'}`);
console.log(`load: ${readFileSync('/proc/loadavg', 'utf8').trim()}; ${ROUNDS} interleaved rounds`);
for (const name of ['old', 'new'] as const) {
  console.log(
    `${name}: task-clock median ${median(clock[name]!).toFixed(2)} ms (min ${Math.min(...clock[name]!).toFixed(2)}), ` +
      `${(ir[name] / 1e6).toFixed(2)} M instructions (user space), ${procs[name].execs} execve, ${procs[name].forks} forks`,
  );
}
console.log(`new/old: task-clock ${(median(clock.new!) / median(clock.old!)).toFixed(2)}, instructions ${(ir.new / ir.old).toFixed(2)}`);
rmSync(dir, { recursive: true, force: true });
