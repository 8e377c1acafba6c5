/**
 * tsplay, Ansible and a raw SSH floor side by side on N plain sshd containers (issue 12).
 *
 *   npm run bench -- [--hosts 1,10,50,100,300] [--reps 3] [--tools tsplay,floor,ansible]
 *                    [--modes converged,check] [--tasks 30] [--ansible-max 100] [--ansible-reps R]
 *                    [--profile 100] [--execs-at 1,100] [--merge] [--keep]
 *   (--reps takes one count, or one per size: --hosts 1,10,300 --reps 3,3,1)
 *   npm run bench -- --report     # rewrite bench/RESULTS.md from the saved results, run nothing
 *
 * Needs root, Docker and `apt-get install -y ansible`; builds tsplay itself. Starts the sshd
 * containers for the largest N (bench-001 ...), writes the same workload for each tool, checks
 * that tsplay and Ansible leave the same end state, then times R interleaved repetitions of each
 * tool for each N and mode, counts execs per host, profiles one tsplay run, and writes
 * bench/RESULTS.md (method, machine, table, targets, profile). Containers and network are removed
 * at the end unless --keep.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { tryRun } from '../src/lab/exec.js';
import { methodText } from './ansible-compare/doc-text.js';
import { hostsCpuReader, hostsDown, hostsUp, resetHosts, snapshot, snapshotDiff, type BenchHost } from './ansible-compare/hosts.js';
import { benchTasks, FILE_KINDS, shape } from './ansible-compare/playbook.js';
import { consoleTable, execsKey, HEAD, profileTop, rotate, tableRows, writeResults, type BenchResult, type Cell } from './ansible-compare/report.js';
import { ansibleCfg, ansibleRoundTrips, closeAnsibleMasters, timed, toolArgv, tsplayRoundTrips, type Mode, type Projects, type TimedRun, type Tool, writeProjects } from './ansible-compare/tools.js';

// ---- arguments ----------------------------------------------------------------------------

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : (process.argv[i + 1] ?? fail(`--${name}: missing value`));
}

function int(name: string, fallback: number, min: number, max: number): number {
  const text = arg(name);
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name}: expected a whole number from ${min} to ${max}, got ${text}`);
  return n;
}

function list<T extends string>(name: string, fallback: string, allowed: readonly T[]): T[] {
  const items = (arg(name) ?? fallback).split(',').filter(Boolean);
  for (const x of items) if (!allowed.includes(x as T)) fail(`--${name}: ${x} is not one of ${allowed.join(', ')}`);
  return items as T[];
}

const SIZES = [...new Set((arg('hosts') ?? '1,10,50,100').split(',').map(Number))].sort((a, b) => a - b);
if (SIZES.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) fail(`--hosts: expected sizes from 1 to 500, e.g. 1,10,50`);
const TOOLS = list<Tool>('tools', 'tsplay,floor,ansible', ['tsplay', 'floor', 'ansible']);
const MODES = list<Mode>('modes', 'converged,check', ['fresh', 'converged', 'check']);
const TASKS = int('tasks', 30, 2, 200);
/** --reps 3, or one count per size (--hosts 1,10,300 --reps 3,3,1). */
const REPS_LIST = (arg('reps') ?? '3').split(',').map(Number);
if (REPS_LIST.some((n) => !Number.isInteger(n) || n < 1 || n > 50) || (REPS_LIST.length > 1 && REPS_LIST.length !== SIZES.length)) fail('--reps: one count from 1 to 50, or one per size of --hosts');
const repsAt = (n: number) => REPS_LIST[REPS_LIST.length > 1 ? SIZES.indexOf(n) : 0]!;
/** Ansible takes part in the first this-many repetitions of each cell only (it takes minutes per run here). */
const ANSIBLE_REPS = int('ansible-reps', 50, 1, 50);
/** Ansible is skipped above this many hosts (it takes minutes per run there). */
const ANSIBLE_MAX = int('ansible-max', 100, 1, 500);
/** Profile one converged tsplay run at this N (0: no profile). */
const PROFILE_N = int('profile', SIZES.includes(100) ? 100 : 0, 0, 500);
/** --execs-at 1,100: count tsplay's execs per host at these sizes only (an extra run each; default all). */
const EXECS_AT = arg('execs-at')?.split(',').map(Number);
const KEEP = process.argv.includes('--keep');
/** --merge: keep the saved results of the sizes this run does not measure (e.g. N=300 run apart, with fewer repetitions). */
const MERGE = process.argv.includes('--merge');
const REPORT_ONLY = process.argv.includes('--report');

const WORK_DIR = resolve('.tsplay/bench/compare');
/** tsplay's own build for this benchmark: others rebuilding dist/ mid-run cannot change it. */
const BUILD_DIR = resolve('.tsplay/bench/dist');
const RESULTS_JSON = resolve('.tsplay/bench/results.json');
const RESULTS_MD = resolve('bench/RESULTS.md');

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// ---- facts about this machine and the tools ------------------------------------------------

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

async function output(cmd: string, args: string[]): Promise<string> {
  const r = await tryRun(cmd, args);
  return (r.stdout + r.stderr).trim();
}

async function versions(): Promise<BenchResult['versions']> {
  const ansible = await output('ansible-playbook', ['--version']);
  const commit = (await output('git', ['rev-parse', '--short=12', 'HEAD'])) + ((await output('git', ['status', '--porcelain', 'src'])) ? ' + uncommitted src changes' : '');
  return {
    node: process.version,
    tsplay: commit,
    ansibleCore: /core ([\d.]+)/.exec(ansible)?.[1] ?? 'unknown',
    python: /python version = ([\d.]+)/.exec(ansible)?.[1] ?? 'unknown',
    openssh: (await output('ssh', ['-V'])).split(',')[0] ?? 'unknown',
  };
}

async function machine(): Promise<BenchResult['machine']> {
  return {
    nproc: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    cpu: cpuModel(),
    kernel: release(),
    docker: await output('docker', ['version', '--format', '{{.Server.Version}}']),
  };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// ---- runs ---------------------------------------------------------------------------------

/** Fails loudly when a run did not do what the benchmark assumes (so no number hides a failure). */
function expectRun(what: string, tool: Tool, run: TimedRun, hosts: BenchHost[], changed: number): void {
  const problems: string[] = [];
  if (run.code !== 0) problems.push(`exit code ${run.code}`);
  if (tool !== 'floor') {
    for (const { name } of hosts) {
      const r = run.recap[name];
      if (!r) problems.push(`${name}: no recap line`);
      else if (r.failed || r.unreachable || r.changed !== changed) problems.push(`${name}: changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable}, expected changed=${changed}`);
    }
  }
  if (problems.length) throw new Error(`${what}: ${problems.slice(0, 10).join('; ')}\n--- output (tail) ---\n${run.output.split('\n').slice(-40).join('\n')}`);
}

function reportOnly(): void {
  if (!existsSync(RESULTS_JSON)) fail(`no saved results in ${RESULTS_JSON}: run the benchmark first`);
  writeResults(RESULTS_MD, JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as BenchResult, methodText(ansibleCfg(join(WORK_DIR, 'cp'))));
  console.log(`wrote ${RESULTS_MD} from ${RESULTS_JSON}`);
}

async function main(): Promise<void> {
  if (REPORT_ONLY) return reportOnly();
  if (TOOLS.includes('ansible') && (await tryRun('sh', ['-c', 'command -v ansible-playbook'])).code !== 0) fail('ansible-playbook not found: apt-get install -y ansible');
  log(`building tsplay into ${BUILD_DIR} (the CLI timed below)`);
  const tsc = await tryRun(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', '.', '--outDir', BUILD_DIR, '--declaration', 'false', '--sourceMap', 'false']);
  if (!existsSync(join(BUILD_DIR, 'cli/main.js'))) throw new Error(`tsc did not build ${BUILD_DIR}/cli/main.js:\n${tsc.stdout}${tsc.stderr}`);
  if (tsc.code !== 0) log(`tsc reported type errors (built anyway):\n${tsc.stdout.split('\n').slice(0, 10).join('\n')}`);

  const load = [`before ${loadavg()}`];
  const maxN = SIZES[SIZES.length - 1]!;
  const bench = await hostsUp(maxN, join(WORK_DIR, '..', 'hosts'), log);
  try {
    const tasks = benchTasks(TASKS, FILE_KINDS);
    const p = writeProjects(WORK_DIR, tasks, bench, SIZES);
    const first = (n: number) => bench.hosts.slice(0, n);
    const containers = (n: number) => first(n).map((h) => h.container);

    // Same end state (and the warm-up of each tool): Ansible on the first host(s), reset, then tsplay
    // on all hosts (converging them for the runs below; only the reset ones must change every task).
    const endState: BenchResult['endState'] = { identical: true, lines: 0, diff: [] };
    const probe = bench.hosts[0]!.container;
    const n0 = SIZES[0]!;
    await resetHosts(containers(n0));
    let ansibleSnap: string | undefined;
    if (TOOLS.includes('ansible')) {
      log(`first run of ansible on ${n0} fresh host(s)`);
      expectRun('ansible first run', 'ansible', await timed(...argvOf('ansible', p, 'fresh', n0)), first(n0), TASKS);
      ansibleSnap = await snapshot(probe);
      await resetHosts(containers(n0));
    }
    log(`first run of tsplay on ${maxN} host(s) (${bench.reused ? 'some reused, ' : ''}the first ${n0} fresh)`);
    const converge = await timed(...argvOf('tsplay', p, 'fresh', maxN));
    expectRun('tsplay first run', 'tsplay', converge, first(n0), TASKS);
    const bad = first(maxN).filter((h) => !converge.recap[h.name] || converge.recap[h.name]!.failed || converge.recap[h.name]!.unreachable);
    if (bad.length) throw new Error(`tsplay first run failed on ${bad.map((h) => h.name).join(', ')}`);
    const tsplaySnap = await snapshot(probe);
    endState.lines = tsplaySnap.trim().split('\n').length;
    if (ansibleSnap !== undefined && ansibleSnap !== tsplaySnap) Object.assign(endState, { identical: false, diff: ['ansible (-) vs tsplay (+):', ...snapshotDiff(ansibleSnap, tsplaySnap)] });
    log(`end state ${ansibleSnap === undefined ? 'not compared (no ansible)' : endState.identical ? 'identical' : 'DIFFERENT'}`);
    if (TOOLS.includes('floor')) expectRun('floor warm-up', 'floor', await timed(...argvOf('floor', p, 'converged', maxN)), [], 0);

    const result: BenchResult = {
      tasks: TASKS,
      reps: Math.max(...REPS_LIST),
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      machine: await machine(),
      versions: await versions(),
      shape: shape(tasks),
      cells: [],
      execs: {},
      endState,
      load,
      skipped: MODES.includes('fresh') ? ['the floor in fresh mode (it only reads)'] : [],
    };
    const old = MERGE && existsSync(RESULTS_JSON) ? (JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as BenchResult) : undefined;
    /** Saves what is measured so far (after every N: a run stopped midway keeps its numbers). */
    const save = () => {
      const r: BenchResult = JSON.parse(JSON.stringify(result));
      if (old) mergeSaved(r, old);
      mkdirSync(join(RESULTS_JSON, '..'), { recursive: true });
      writeFileSync(RESULTS_JSON, JSON.stringify(r, null, 2));
      writeResults(RESULTS_MD, r, methodText(p.ansible.cfgText));
      return r;
    };
    const { cells, execs, skipped } = result;
    for (const n of SIZES) {
      const hostsCpu = hostsCpuReader(first(n).map((h) => h.id));
      const tools = TOOLS.filter((t) => t !== 'ansible' || n <= ANSIBLE_MAX);
      if (tools.length < TOOLS.length) skipped.push(`Ansible at N=${n} (over --ansible-max ${ANSIBLE_MAX})`);
      for (const mode of MODES) {
        log(`N=${n} ${mode} (${repsAt(n)} repetition(s) of ${tools.join(', ')}; Ansible in ${Math.min(ANSIBLE_REPS, repsAt(n))})`);
        for (let i = 0; i < repsAt(n); i++) {
          for (const tool of rotate(tools, i)) {
            if ((mode === 'fresh' && tool === 'floor') || (tool === 'ansible' && i >= ANSIBLE_REPS)) continue;
            if (mode === 'fresh') await resetHosts(containers(n));
            if (tool === 'ansible') await closeAnsibleMasters(p);
            const before = hostsCpu();
            const r = await timed(...argvOf(tool, p, mode, n));
            const hostsCpuS = hostsCpu() - before;
            expectRun(`N=${n} ${mode} ${tool}`, tool, r, first(n), mode === 'fresh' ? TASKS : 0);
            let c = cells.find((x) => x.hosts === n && x.mode === mode && x.tool === tool);
            if (!c) cells.push((c = { hosts: n, mode, tool, samples: [] }));
            c.samples.push({ wallMs: r.wallMs, cpuS: r.cpuS, rssMiB: r.rssMiB, hostsCpuS });
            log(`  ${tool.padEnd(7)} ${(r.wallMs / 1000).toFixed(2)} s wall, CPU ${r.cpuS.toFixed(2)} s ctrl + ${hostsCpuS.toFixed(2)} s hosts, RSS ${r.rssMiB.toFixed(0)} MiB, load ${loadavg().split(' ')[0]}`);
          }
        }
        load.push(`N=${n} ${mode} ${loadavg()}`);
      }

      // Execs per host, one untimed run each (tsplay through the library API, Ansible at -vvv at its smallest N).
      if (TOOLS.includes('floor')) for (const mode of MODES) if (mode !== 'fresh') execs[execsKey('floor', n, mode)] = 1;
      if (TOOLS.includes('tsplay') && (!EXECS_AT || EXECS_AT.includes(n))) {
        log(`N=${n}: counting tsplay's execs per host`);
        for (const mode of MODES) {
          if (mode === 'fresh') await resetHosts(containers(n));
          const { summary, trips } = await tsplayRoundTrips(p, mode, n);
          if (summary.failed || summary.unreachable || (mode !== 'fresh' && summary.changed)) throw new Error(`tsplay ${mode} run (library, N=${n}) did not succeed`);
          execs[execsKey('tsplay', n, mode)] = trips.execs / n;
        }
      }
      if (tools.includes('ansible') && n === SIZES[0]) {
        log(`N=${n}: counting Ansible's execs per host (-vvv, converged only: a run takes minutes here)`);
        for (const mode of (MODES.includes('converged') ? ['converged'] : []) as Mode[]) {
          if (mode === 'fresh') await resetHosts(containers(n));
          const { run, trips } = await ansibleRoundTrips(p, mode, n);
          expectRun(`ansible -vvv ${mode}`, 'ansible', run, first(n), mode === 'fresh' ? TASKS : 0);
          for (const m of SIZES.filter((k) => k <= ANSIBLE_MAX)) execs[execsKey('ansible', m, mode)] = trips.execs / n;
        }
        await closeAnsibleMasters(p);
      }

      if (n === PROFILE_N && TOOLS.includes('tsplay')) {
        log(`profiling one converged tsplay run on ${n} host(s)`);
        const dir = join(WORK_DIR, '..', 'profile');
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const { argv, cwd, env } = toolArgv('tsplay', p, 'converged', n, BUILD_DIR, ['--cpu-prof', '--cpu-prof-dir', dir]);
        const prof = await timed(argv, cwd, env);
        expectRun('profiled run', 'tsplay', prof, first(n), 0);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (file) result.profile = { hosts: n, wallS: prof.wallMs / 1000, ...profileTop(readFileSync(join(dir, file), 'utf8')) };
        log(`profile: ${join(dir, file ?? '(none)')}`);
      }
      save();
      log(`N=${n} done, saved to ${RESULTS_MD}`);
    }

    load.push(`after ${loadavg()}`);
    const saved = save();
    console.log(`\n${TASKS} tasks, medians\n`);
    console.log(consoleTable(HEAD, tableRows(saved)));
    console.log(`\nend state: ${endState.identical ? 'identical' : `DIFFERENT\n${endState.diff.join('\n')}`}`);
    console.log(`load: ${load.join('; ')}\nwrote ${RESULTS_MD} and ${RESULTS_JSON}`);
  } finally {
    if (KEEP) log('hosts kept (bench-* containers, network bench-net)');
    else log(`removed ${await hostsDown()} container(s) and the network ${'bench-net'}`);
  }
}

/** Adds to `r` what `old` measured at sizes `r` did not (cells, execs, skips), and its load samples. */
function mergeSaved(r: BenchResult, old: BenchResult): void {
  const fresh = new Set(r.cells.map((c) => c.hosts));
  const sizeOf = (key: string) => Number(key.split('/')[1]);
  r.cells = [...old.cells.filter((c) => !fresh.has(c.hosts)), ...r.cells];
  r.execs = { ...Object.fromEntries(Object.entries(old.execs).filter(([k]) => !fresh.has(sizeOf(k)))), ...r.execs };
  r.skipped = [...new Set([...old.skipped.filter((s) => ![...fresh].some((n) => s.includes(`N=${n} `))), ...r.skipped])];
  r.load = [`(earlier run, ${old.date}) ${old.load.join('; ')}`, `(this run, ${r.date}) ${r.load.join('; ')}`];
  r.reps = Math.max(r.reps, old.reps);
  r.profile ??= old.profile;
  if (!old.endState.identical) r.endState = old.endState;
}

/** `timed`'s arguments for one run of `tool` (the CLI build of this benchmark for tsplay). */
function argvOf(tool: Tool, p: Projects, mode: Mode, n: number): [string[], string, NodeJS.ProcessEnv] {
  const { argv, cwd, env } = toolArgv(tool, p, mode, n, BUILD_DIR);
  return [argv, cwd, env];
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
