/**
 * Numbers to words: medians of the timed runs, the ratios, the targets of issue 12 next to what
 * was measured, the top of a CPU profile, and bench/RESULTS.md. Pure functions except `writeResults`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Mode, Tool } from './tools.js';

export interface Sample {
  wallMs: number;
  /** CPU (user + sys) of the tool's process tree on the controller. */
  cpuS: number;
  /** Peak RSS of the tool's largest process, MiB. */
  rssMiB: number;
  /** CPU used in the hosts' containers during the run (NaN when not measurable). */
  hostsCpuS: number;
}

export interface Cell {
  hosts: number;
  mode: Mode;
  tool: Tool;
  samples: Sample[];
}

export interface ProfileItem {
  name: string;
  where: string;
  selfMs: number;
  pct: number;
}

export interface BenchResult {
  tasks: number;
  reps: number;
  date: string;
  machine: { nproc: number; memGiB: number; cpu: string; kernel: string; docker: string };
  versions: { node: string; tsplay: string; ansibleCore: string; python: string; openssh: string };
  shape: Record<string, number>;
  cells: Cell[];
  /** Execs per host of one untimed run, by `tool/hosts/mode` (floor: 1 by construction). */
  execs: Record<string, number>;
  endState: { identical: boolean; lines: number; diff: string[] };
  /** Load averages (1, 5, 15 min) sampled before, between cells, and after. */
  load: string[];
  /** Cells not measured, and why. */
  skipped: string[];
  profile?: { hosts: number; wallS: number; totalMs: number; idleMs: number; functions: ProfileItem[]; files: ProfileItem[] };
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fixed = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
/** A ratio as `2.61×`, or an empty cell when either side was not measured. */
export const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×` : '');

export const execsKey = (tool: Tool, hosts: number, mode: Mode) => `${tool}/${hosts}/${mode}`;

export interface CellStats {
  wallS: number;
  minS: number;
  maxS: number;
  cpuS: number;
  rssMiB: number;
  hostsCpuS: number;
}

export function stats(c: Cell): CellStats {
  const m = (f: (s: Sample) => number) => median(c.samples.map(f));
  const walls = c.samples.map((s) => s.wallMs / 1000);
  return { wallS: median(walls), minS: Math.min(...walls), maxS: Math.max(...walls), cpuS: m((s) => s.cpuS), rssMiB: m((s) => s.rssMiB), hostsCpuS: m((s) => s.hostsCpuS) };
}

export const HEAD = ['N', 'mode', 'tool', 'runs', 'wall median (s)', 'min – max (s)', 'ctrl CPU (s)', 'peak RSS (MiB)', 'host CPU (s)', 'execs/host', 'tsplay/floor', 'tsplay/ansible'];

const TOOLS: Tool[] = ['tsplay', 'floor', 'ansible'];

/** A, B, C / B, C, A / C, A, B ...: each tool goes first as often as the others. */
export const rotate = <T>(xs: T[], i: number): T[] => xs.map((_, k) => xs[(k + i) % xs.length]!);
const MODES: Mode[] = ['fresh', 'converged', 'check'];

/** One row per (N, mode, tool) measured; the ratios (of median walls) on the tsplay row. */
export function tableRows(r: BenchResult): string[][] {
  const rows: string[][] = [];
  const sizes = [...new Set(r.cells.map((c) => c.hosts))].sort((a, b) => a - b);
  for (const n of sizes) {
    for (const mode of MODES) {
      const wall = (tool: Tool) => {
        const c = r.cells.find((x) => x.hosts === n && x.mode === mode && x.tool === tool);
        return c ? stats(c).wallS : NaN;
      };
      for (const tool of TOOLS) {
        const c = r.cells.find((x) => x.hosts === n && x.mode === mode && x.tool === tool);
        if (!c) continue;
        const s = stats(c);
        const execs = r.execs[execsKey(tool, n, mode)];
        const ratios = tool === 'tsplay' ? [ratio(s.wallS, wall('floor')), ratio(s.wallS, wall('ansible'))] : ['', ''];
        rows.push([String(n), mode, tool, String(c.samples.length), fixed(s.wallS), `${fixed(s.minS)} – ${fixed(s.maxS)}`, fixed(s.cpuS), fixed(s.rssMiB, 0), fixed(s.hostsCpuS), execs === undefined ? '' : fixed(execs, execs % 1 ? 2 : 0), ...ratios]);
      }
    }
  }
  return rows;
}

export function markdownTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

export function consoleTable(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

/** The targets of issue 12, each with what this run measured and whether it holds. */
export function targetRows(r: BenchResult): string[][] {
  const cell = (n: number, mode: Mode, tool: Tool) => {
    const c = r.cells.find((x) => x.hosts === n && x.mode === mode && x.tool === tool);
    return c ? stats(c) : undefined;
  };
  const rows: string[][] = [];
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  const vs = (target: string, n: number, mode: Mode, other: Tool, limit: number) => {
    const a = cell(n, mode, 'tsplay');
    const b = cell(n, mode, other);
    const x = a && b ? a.wallS / b.wallS : undefined;
    rows.push([target, `N=${n} ${mode}`, x === undefined ? 'n/a' : `${x.toFixed(3)}×`, verdict(x === undefined ? undefined : x <= limit)]);
  };
  for (const mode of ['converged', 'check'] as Mode[]) for (const n of [10, 100]) vs('tsplay/floor ≤ 1.3', n, mode, 'floor', 1.3);
  vs('tsplay/ansible ≤ 0.05', 10, 'converged', 'ansible', 0.05);
  vs('tsplay/ansible ≤ 0.07', 1, 'converged', 'ansible', 0.07);
  const c100 = cell(100, 'converged', 'tsplay');
  rows.push(['100 hosts converged ≤ 6 s', 'N=100 converged', c100 ? `${c100.wallS.toFixed(2)} s` : 'n/a', verdict(c100 && c100.wallS <= 6)]);
  rows.push(['controller peak RSS ≤ 200 MB at 100 hosts', 'N=100 converged', c100 ? `${(c100.rssMiB * 1.048576).toFixed(0)} MB` : 'n/a', verdict(c100 && c100.rssMiB * 1.048576 <= 200)]);
  const c300 = r.cells.filter((x) => x.hosts === 300 && x.tool === 'tsplay');
  const runs300 = c300.reduce((k, c) => k + c.samples.length, 0);
  rows.push(['300 hosts complete, no failures', 'N=300, all modes', runs300 ? `${runs300} run(s), all ok` : 'n/a', verdict(runs300 ? true : undefined)]);
  const execs = Object.entries(r.execs).filter(([k]) => k.startsWith('tsplay/') && k.endsWith('/converged'));
  const worst = Math.max(...execs.map(([, v]) => v));
  rows.push(['1 exec per host converged', 'all N', execs.length ? `${worst} (worst N)` : 'n/a', verdict(execs.length ? worst <= 1 : undefined)]);
  return rows;
}

// ---- CPU profile (.cpuprofile from node --cpu-prof) -------------------------------------------

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where a script lives, shortened: `pkg:name/file` for node_modules, `src/...` for tsplay. */
export function shortUrl(url: string): string {
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (nm) return `${nm[1]}/${nm[2]}`;
  const own = /\/(?:dist|src)\/(.*)$/.exec(url);
  if (own) return `src/${own[1]}`;
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

/**
 * Self time per function (top `k`) and per file or package (top `k`), from a profile's samples.
 * Idle time is left out (`idleMs`): percentages are of the busy time of the main thread.
 */
export function profileTop(text: string, k = 10): { totalMs: number; idleMs: number; functions: ProfileItem[]; files: ProfileItem[] } {
  const p = JSON.parse(text) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  let idleMs = 0;
  const fns = new Map<string, ProfileItem>();
  const files = new Map<string, ProfileItem>();
  const add = (m: Map<string, ProfileItem>, key: string, name: string, where: string, ms: number) => {
    const it = m.get(key) ?? { name, where, selfMs: 0, pct: 0 };
    it.selfMs += ms;
    m.set(key, it);
  };
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    const name = f.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleMs += ms;
      continue;
    }
    const where = shortUrl(f.url);
    add(fns, `${name}@${where}:${f.lineNumber}`, name, f.url ? `${where}:${f.lineNumber + 1}` : where, ms);
    const file = f.url ? (/^(@[^/]+\/[^/]+|[^/:]+:[^/]+|[^/]+)\//.exec(where)?.[1] ?? where) : /^\(.*\)$/.test(name) ? name : '(native)';
    add(files, file, file, '', ms);
  }
  const totalMs = [...fns.values()].reduce((a, it) => a + it.selfMs, 0);
  const top = (m: Map<string, ProfileItem>) =>
    [...m.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, k).map((it) => ({ ...it, pct: (100 * it.selfMs) / totalMs }));
  return { totalMs, idleMs, functions: top(fns), files: top(files) };
}

// ---- bench/RESULTS.md ----------------------------------------------------------------------

/** Everything above this line is rewritten by the benchmark; what follows it is kept. */
export const GENERATED_END = '<!-- end of generated part: notes below are kept when the benchmark rewrites this file -->';

export function resultsMarkdown(r: BenchResult, method: string): string {
  const m = r.machine;
  const v = r.versions;
  const shape = Object.entries(r.shape).map(([k, n]) => `${n} ${k}`).join(', ');
  const profile = r.profile
    ? [
        `## Where tsplay's time goes (N=${r.profile.hosts}, one converged run, \`node --cpu-prof\`)`,
        '',
        `The profiled run took ${fixed(r.profile.wallS)} s (profiling slows it); its main thread was busy ${fixed(r.profile.totalMs / 1000)} s and idle ${fixed(r.profile.idleMs / 1000)} s ` +
          '(waiting for hosts, or for a core on this loaded machine). Percentages are of the busy time. Top self time by function:',
        '',
        markdownTable(['function', 'where', 'self (ms)', '%'], r.profile.functions.map((f) => [`\`${f.name}\``, f.where, fixed(f.selfMs, 0), fixed(f.pct, 1)])),
        '',
        'By file or package (self time summed):',
        '',
        markdownTable(['file / package', 'self (ms)', '%'], r.profile.files.map((f) => [f.name, fixed(f.selfMs, 0), fixed(f.pct, 1)])),
        '',
      ]
    : [];
  return [
    method,
    '## This run',
    '',
    `Measured ${r.date}, tools interleaved (runs: timed repetitions per cell). Machine: ${m.nproc} cores (${m.cpu}), ${m.memGiB} GiB RAM, ` +
      `kernel ${m.kernel}, Docker ${m.docker}. node ${v.node}, tsplay ${v.tsplay}, ansible-core ${v.ansibleCore} (python ${v.python}), ${v.openssh}. ` +
      `Workload: ${r.tasks} tasks (${shape}).`,
    '',
    `**Under load**: other sessions' builds and tests shared the 2 cores. Load averages (1/5/15 min) sampled during the run: ${r.load.join('; ')}.`,
    '',
    markdownTable(HEAD, tableRows(r)),
    '',
    r.skipped.length ? `Not measured: ${r.skipped.join('; ')}.\n` : '',
    r.endState.identical
      ? `End state: identical (snapshot of the first host after a first run of each tool, ${r.endState.lines} lines: paths, types, modes, owners, sizes, sha256 of every file); every converged and check run of each tool, on hosts the other tool converged last, reported changed=0 on every host.`
      : `End state: **DIFFERENT**:\n\n\`\`\`\n${r.endState.diff.join('\n')}\n\`\`\``,
    '',
    '## Targets of issue 12 and what was measured',
    '',
    markdownTable(['target', 'cell', 'measured', ''], targetRows(r)),
    '',
    ...profile,
    GENERATED_END,
  ].join('\n');
}

/** Writes the results file, keeping what a person wrote below GENERATED_END. */
export function writeResults(path: string, r: BenchResult, method: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const i = old.indexOf(GENERATED_END);
  const kept = i >= 0 ? old.slice(i + GENERATED_END.length) : '\n';
  writeFileSync(path, resultsMarkdown(r, method) + kept);
}
