/**
 * tsplay and Ansible side by side, on the same lab hosts, with the same playbook.
 *
 *   node --import tsx bench/compare-ansible.ts [--hosts N] [--tasks M] [--reps R] [--keep]
 *   node --import tsx bench/compare-ansible.ts --report    # rewrite the doc from saved results
 *
 * Needs root, Docker (as `tsplay lab`) and `apt-get install -y ansible`; builds tsplay itself.
 * Brings up the lab `bench` (N hosts, default 5), installs python3 there (untimed), writes an
 * equivalent playbook of M tasks (default 20) for each tool, then times R runs (default 5) of
 * each tool in three situations: first run on fresh hosts (reset between runs, untimed),
 * converged run, check mode on converged hosts. Checks every recap, compares the end state of
 * both tools on one host, counts round trips, prints a table and updates docs/benchmarks.md.
 * The lab is taken down at the end unless --keep.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { tryRun } from '../src/lab/exec.js';
import { benchLabDown, benchLabUp, hostsCpuReader, installPython, resetHosts, snapshot, snapshotDiff, LAB_NAME } from './ansible-compare/hosts.js';
import { methodText, NOTES } from './ansible-compare/doc-text.js';
import { benchTasks, shape } from './ansible-compare/playbook.js';
import { consoleTable, consoleTrips, median, writeDoc, type BenchResult, type Cell, type Variant } from './ansible-compare/report.js';
import {
  ansibleCfg,
  ansibleRoundTrips,
  closeAnsibleMasters,
  timed,
  toolArgv,
  tsplayRoundTrips,
  type Mode,
  type TimedRun,
  type Tool,
  writeProjects,
} from './ansible-compare/tools.js';

// ---- arguments ----------------------------------------------------------------------------

function option(name: string, fallback: number, min: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name}: expected a whole number from ${min} to ${max}, got ${process.argv[i + 1]}`);
    process.exit(1);
  }
  return n;
}
const HOSTS = option('hosts', 5, 1, 20);
const TASKS = option('tasks', 20, 2, 200);
const REPS = option('reps', 5, 1, 50);
const KEEP = process.argv.includes('--keep');
/** --report: rewrite docs/benchmarks.md from the saved results, run nothing. */
const REPORT_ONLY = process.argv.includes('--report');
const WORK_DIR = resolve('.tsplay/bench/compare-ansible');
/** tsplay's own build for this benchmark: others rebuilding dist/ mid-run cannot change it. */
const BUILD_DIR = resolve('.tsplay/bench/dist');
const DOC = resolve('docs/benchmarks.md');

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

// ---- facts about this machine and the tools ------------------------------------------------

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

/** The commit of the work tree, read from .git without running git. */
function tsplayCommit(): string {
  try {
    const head = readFileSync('.git/HEAD', 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 12);
    const ref = head.slice(5);
    if (existsSync(join('.git', ref))) return readFileSync(join('.git', ref), 'utf8').trim().slice(0, 12);
    const packed = readFileSync('.git/packed-refs', 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
    return packed?.split(' ')[0]?.slice(0, 12) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function output(cmd: string, args: string[]): Promise<string> {
  const r = await tryRun(cmd, args);
  return (r.stdout + r.stderr).trim();
}

async function versions(): Promise<BenchResult['versions']> {
  const ansible = await output('ansible-playbook', ['--version']);
  return {
    node: process.version,
    tsplay: tsplayCommit(),
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
function expectRecap(what: string, run: TimedRun, hosts: string[], changed: number): void {
  const problems: string[] = [];
  if (run.code !== 0) problems.push(`exit code ${run.code}`);
  for (const h of hosts) {
    const r = run.recap[h];
    if (!r) problems.push(`${h}: no recap line`);
    else if (r.failed || r.unreachable || r.changed !== changed) problems.push(`${h}: changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable}, expected changed=${changed}`);
  }
  if (problems.length) throw new Error(`${what}: ${problems.join('; ')}\n--- output (tail) ---\n${run.output.split('\n').slice(-40).join('\n')}`);
}

const RESULTS_DIR = join(WORK_DIR, '..', 'results');

/** Rewrites the doc from every saved result (one section per lab size). */
function reportOnly(): void {
  const files = existsSync(RESULTS_DIR) ? readdirSync(RESULTS_DIR).filter((f) => /^N\d+-M\d+\.json$/.test(f)) : [];
  if (!files.length) throw new Error(`no saved results in ${RESULTS_DIR}: run the benchmark first`);
  for (const f of files) {
    const result = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as BenchResult;
    writeDoc(DOC, result, methodText(ansibleCfg(join(WORK_DIR, 'cp'))), NOTES);
  }
  console.log(`wrote ${DOC} from ${files.join(', ')}`);
}

async function main(): Promise<void> {
  if (REPORT_ONLY) return reportOnly();
  if ((await tryRun('sh', ['-c', 'command -v ansible-playbook'])).code !== 0) throw new Error('ansible-playbook not found: apt-get install -y ansible');
  log(`building tsplay into ${BUILD_DIR} (the CLI timed below)`);
  const tsc = await tryRun(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', '.', '--outDir', BUILD_DIR, '--declaration', 'false', '--sourceMap', 'false']);
  if (!existsSync(join(BUILD_DIR, 'cli/main.js'))) throw new Error(`tsc did not build ${BUILD_DIR}/cli/main.js:\n${tsc.stdout}${tsc.stderr}`);
  if (tsc.code !== 0) log(`tsc reported type errors (built anyway):\n${tsc.stdout.split('\n').slice(0, 10).join('\n')}`);
  const builtAt = new Date().toISOString().slice(0, 16).replace('T', ' ');

  const loadBefore = loadavg();
  log(`lab ${LAB_NAME}: ${HOSTS} host(s)`);
  const lab = await benchLabUp(HOSTS);
  const hostNames = lab.hosts.map((h) => h.name);
  const containers = lab.hosts.map((h) => h.container);
  const probeHost = lab.hosts[0]!;
  try {
    log('installing python3 and python3-apt on the hosts (untimed)');
    for (const line of await installPython(containers)) log(`  ${line}`);

    const tasks = benchTasks(TASKS);
    const p = writeProjects(WORK_DIR, tasks, lab);
    const freshChanged = TASKS - tasks.filter((t) => t.module === 'apt').length;
    log(`projects in ${p.dir}; a fresh run changes ${freshChanged} of ${TASKS} tasks per host`);

    // What each tool costs before it talks to any host.
    const startup = { tsplay: [] as number[], ansible: [] as number[] };
    for (let i = 0; i < REPS; i++) {
      startup.tsplay.push((await timed(['node', join(BUILD_DIR, 'cli/main.js'), '--version'], p.tsplay.dir)).wallMs);
      startup.ansible.push((await timed(['ansible-playbook', '--version'], p.ansible.dir, toolArgv('ansible', p, 'fresh', BUILD_DIR).env)).wallMs);
    }

    const hostsCpu = hostsCpuReader(lab.hosts.map((h) => h.id));
    /** One timed run, with the CPU time the lab's containers used meanwhile. */
    const run = async (tool: Tool, mode: Mode): Promise<TimedRun & { hostsCpuS: number }> => {
      const { argv, cwd, env } = toolArgv(tool, p, mode, BUILD_DIR);
      const before = hostsCpu();
      const r = await timed(argv, cwd, env);
      return { ...r, hostsCpuS: hostsCpu() - before };
    };

    // Warm-up (untimed): controller caches (page cache, python bytecode, V8 code cache) of both.
    for (const tool of ['tsplay', 'ansible'] as Tool[]) {
      await resetHosts(containers);
      await closeAnsibleMasters(p);
      expectRecap(`warm-up ${tool}`, await run(tool, 'fresh'), hostNames, freshChanged);
    }

    const cells: Cell[] = [];
    const cell = (variant: Variant, mode: Mode) => {
      let c = cells.find((x) => x.variant === variant && x.mode === mode);
      if (!c) cells.push((c = { variant, mode, samples: [] }));
      return c;
    };
    const record = (variant: Variant, mode: Mode, r: TimedRun & { hostsCpuS: number }) => {
      cell(variant, mode).samples.push({ wallMs: r.wallMs, recapMs: r.recapMs, cpuS: r.cpuS, hostsCpuS: r.hostsCpuS });
      log(`  ${mode.padEnd(9)} ${variant.padEnd(12)} ${(r.wallMs / 1000).toFixed(2)} s wall (recap at ${(r.recapMs / 1000).toFixed(2)} s), CPU ${r.cpuS.toFixed(2)} s tool + ${r.hostsCpuS.toFixed(2)} s hosts, load ${loadavg().split(' ')[0]}`);
    };
    const order = (i: number): Tool[] => (i % 2 ? ['ansible', 'tsplay'] : ['tsplay', 'ansible']);

    // (a) first run on fresh hosts, and the end state of each tool on one host.
    let reference: { tool: Tool; text: string } | undefined;
    const endState = { identical: true, comparisons: 0, lines: 0, diff: [] as string[] };
    log(`first runs on fresh hosts (${REPS} each)`);
    for (let i = 0; i < REPS; i++) {
      for (const tool of order(i)) {
        await resetHosts(containers);
        await closeAnsibleMasters(p);
        const r = await run(tool, 'fresh');
        expectRecap(`fresh ${tool}`, r, hostNames, freshChanged);
        record(tool, 'fresh', r);
        const snap = await snapshot(probeHost.container);
        endState.comparisons++;
        if (!reference) {
          reference = { tool, text: snap };
          endState.lines = snap.trim().split('\n').length;
        } else if (snap !== reference.text) {
          endState.identical = false;
          endState.diff.push(`${reference.tool} (-) vs ${tool} (+), repetition ${i + 1}:`, ...snapshotDiff(reference.text, snap));
        }
      }
    }

    // (b) converged runs and (c) check mode: Ansible cold (masters closed), then warm (reused).
    for (const mode of ['converged', 'check'] as Mode[]) {
      log(`${mode} runs (${REPS} each)`);
      for (let i = 0; i < REPS; i++) {
        for (const tool of order(i)) {
          if (tool === 'ansible') await closeAnsibleMasters(p);
          const r = await run(tool, mode);
          expectRecap(`${mode} ${tool}`, r, hostNames, 0);
          record(tool, mode, r);
          if (tool === 'ansible') {
            const warm = await run('ansible', mode);
            expectRecap(`${mode} ansible (warm)`, warm, hostNames, 0);
            record('ansible-warm', mode, warm);
          }
        }
      }
    }

    // Round trips, one untimed run per tool and situation.
    log('counting round trips');
    const trips: BenchResult['trips'] = { tsplay: {}, ansible: {} };
    await resetHosts(containers);
    for (const mode of ['fresh', 'converged', 'check'] as Mode[]) {
      const { summary, trips: t } = await tsplayRoundTrips(p, mode);
      if (summary.failed || summary.unreachable || (mode !== 'fresh' && summary.changed)) throw new Error(`tsplay ${mode} run (library) did not succeed`);
      trips.tsplay[mode] = t;
    }
    await resetHosts(containers);
    for (const mode of ['fresh', 'converged', 'check'] as Mode[]) {
      const { run: r, trips: t } = await ansibleRoundTrips(p, mode, HOSTS);
      expectRecap(`ansible -vvv ${mode}`, r, hostNames, mode === 'fresh' ? freshChanged : 0);
      trips.ansible[mode] = t;
    }
    await closeAnsibleMasters(p);

    const result: BenchResult = {
      hosts: HOSTS,
      tasks: TASKS,
      reps: REPS,
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      machine: await machine(),
      versions: { ...(await versions()), tsplay: `${tsplayCommit()} (work tree built at ${builtAt} UTC)` },
      shape: shape(tasks),
      cells,
      startup,
      trips,
      endState,
      load: { before: loadBefore, after: loadavg() },
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `N${HOSTS}-M${TASKS}.json`), JSON.stringify(result, null, 2));
    writeDoc(DOC, result, methodText(p.ansible.cfgText), NOTES);

    console.log(`\n${HOSTS} host(s) x ${TASKS} tasks, ${REPS} repetitions (wall seconds)\n`);
    console.log(consoleTable(result));
    console.log(`\nstartup (--version, median): tsplay ${(median(startup.tsplay) / 1000).toFixed(2)} s, ansible-playbook ${(median(startup.ansible) / 1000).toFixed(2)} s\n`);
    console.log(consoleTrips(result));
    console.log(`\nend state: ${endState.identical ? 'identical' : 'DIFFERENT'} (${endState.comparisons} snapshots of ${probeHost.name}, ${endState.lines} lines)`);
    if (!endState.identical) console.log(endState.diff.join('\n'));
    console.log(`load average before/after: ${result.load.before} / ${result.load.after}\nwrote ${DOC}`);
  } finally {
    if (KEEP) log(`lab kept: tsplay lab down --name ${LAB_NAME}`);
    else {
      log(`taking lab ${LAB_NAME} down`);
      await benchLabDown();
    }
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
