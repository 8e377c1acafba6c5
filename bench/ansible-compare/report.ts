/**
 * Numbers to words: medians and ranges of the timed runs, the console table, and
 * docs/benchmarks.md. The doc keeps one results section per lab size (`<!-- results:N5-M20 -->`
 * ... `<!-- /results:N5-M20 -->`): a run replaces its own section and keeps the others, and
 * rewrites the method text around them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Mode, RoundTrips } from './tools.js';

/** Rows of the results table: tsplay, Ansible with its SSH masters closed before each run, and
 * Ansible reusing the masters of the run just before (ControlPersist across runs). */
export type Variant = 'tsplay' | 'ansible' | 'ansible-warm';

export interface Sample {
  wallMs: number;
  recapMs: number;
  /** CPU of the tool's process tree on the controller. */
  cpuS: number;
  /** CPU used in the lab's containers during the run (NaN when not measurable). */
  hostsCpuS: number;
}

export interface Cell {
  variant: Variant;
  mode: Mode;
  samples: Sample[];
}

export interface BenchResult {
  hosts: number;
  tasks: number;
  reps: number;
  date: string;
  machine: { nproc: number; memGiB: number; cpu: string; kernel: string; docker: string };
  versions: { node: string; tsplay: string; ansibleCore: string; python: string; openssh: string };
  shape: Record<string, number>;
  cells: Cell[];
  /** `--version` wall times: the cost of starting each tool, without any host. */
  startup: { tsplay: number[]; ansible: number[] };
  trips: Record<'tsplay' | 'ansible', Partial<Record<Mode, RoundTrips>>>;
  endState: { identical: boolean; comparisons: number; lines: number; diff: string[] };
  load: { before: string; after: string };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sec = (ms: number) => (ms / 1000).toFixed(2);

function wallStats(c: Cell) {
  const w = c.samples.map((s) => s.wallMs);
  return { med: median(w), min: Math.min(...w), max: Math.max(...w), recap: median(c.samples.map((s) => s.recapMs)), cpu: median(c.samples.map((s) => s.cpuS)), hostsCpu: median(c.samples.map((s) => s.hostsCpuS)) };
}

const MODE_TITLE: Record<Mode, string> = {
  fresh: 'first run, fresh hosts',
  converged: 'converged run (changed=0)',
  check: 'check mode, converged hosts',
};

const VARIANT_TITLE: Record<Variant, string> = {
  tsplay: 'tsplay',
  ansible: 'Ansible (cold: own SSH connections)',
  'ansible-warm': 'Ansible (warm: ControlPersist masters of the previous run)',
};

/** Rows of the main table: mode, variant, median/min/max wall, median CPU, Ansible/tsplay ratio. */
export function resultRows(r: BenchResult): string[][] {
  const rows: string[][] = [];
  for (const mode of ['fresh', 'converged', 'check'] as Mode[]) {
    const ts = r.cells.find((c) => c.mode === mode && c.variant === 'tsplay');
    const base = ts ? wallStats(ts).med : NaN;
    for (const variant of ['tsplay', 'ansible', 'ansible-warm'] as Variant[]) {
      const c = r.cells.find((x) => x.mode === mode && x.variant === variant);
      if (!c) continue;
      const s = wallStats(c);
      rows.push([MODE_TITLE[mode], VARIANT_TITLE[variant], sec(s.med), `${sec(s.min)} – ${sec(s.max)}`, sec(s.recap), s.cpu.toFixed(2), Number.isNaN(s.hostsCpu) ? 'n/a' : s.hostsCpu.toFixed(2), variant === 'tsplay' ? '1×' : `${(s.med / base).toFixed(1)}×`]);
    }
  }
  return rows;
}

const HEAD = ['run', 'tool', 'wall median (s)', 'wall min – max (s)', 'recap printed, median (s)', 'CPU tool, median (s)', 'CPU in hosts, median (s)', 'vs tsplay (wall)'];

function markdownTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The console table (fixed-width columns). */
export function consoleTable(r: BenchResult): string {
  const rows = [HEAD, ...resultRows(r)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

function tripRows(r: BenchResult): string[][] {
  const rows: string[][] = [];
  for (const mode of ['fresh', 'converged', 'check'] as Mode[]) {
    const t = r.trips.tsplay[mode];
    const a = r.trips.ansible[mode];
    const perHostTask = (n: number) => (n / r.hosts / r.tasks).toFixed(2);
    if (t) rows.push([MODE_TITLE[mode], 'tsplay', String(t.connects), `${t.execs} (${t.probeExecs} probe + ${t.stepExecs} apply)`, perHostTask(t.execs), '0', t.engineMs === undefined ? '' : sec(t.engineMs)]);
    if (a) rows.push([MODE_TITLE[mode], 'Ansible', `${a.connects} (masters)`, String(a.execs), perHostTask(a.execs), String(a.transfers), '']);
  }
  return rows;
}

export function consoleTrips(r: BenchResult): string {
  const head = ['run', 'tool', 'connects', 'execs', 'execs/host/task', 'file transfers', 'engine time in-process (s)'];
  const rows = [head, ...tripRows(r)];
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

const key = (r: { hosts: number; tasks: number }) => `N${r.hosts}-M${r.tasks}`;

/** One results section of the doc. */
export function resultsSection(r: BenchResult): string {
  const shape = Object.entries(r.shape).map(([k, n]) => `${n} ${k}`).join(', ');
  const st = (xs: number[]) => `${sec(median(xs))} s (min ${sec(Math.min(...xs))})`;
  const tripHead = ['run', 'tool', 'connects', 'execs', 'execs per host per task', 'file transfers', 'engine time in-process (s)'];
  return [
    `<!-- results:${key(r)} -->`,
    `### ${r.hosts} host${r.hosts > 1 ? 's' : ''} × ${r.tasks} tasks`,
    '',
    `Measured ${r.date}: ${r.reps} timed repetitions per row; ${r.machine.nproc} cores (${r.machine.cpu}), ${r.machine.memGiB} GiB; ` +
      `node ${r.versions.node}, tsplay ${r.versions.tsplay}, ansible-core ${r.versions.ansibleCore} (python ${r.versions.python}), ${r.versions.openssh}. ` +
      `Load average before/after: ${r.load.before} / ${r.load.after}. Playbook: ${shape}.`,
    '',
    markdownTable(HEAD, resultRows(r)),
    '',
    `Starting the tool with nothing to do (\`--version\`, median of ${r.startup.tsplay.length}): tsplay ${st(r.startup.tsplay)}, ` +
      `ansible-playbook ${st(r.startup.ansible)}.`,
    '',
    'Round trips (one untimed run each; tsplay from `runPlaybook` stats, Ansible from the `-vvv` log, masters cold):',
    '',
    markdownTable(tripHead, tripRows(r)),
    '',
    r.endState.identical
      ? `End state: identical. ${r.endState.comparisons} snapshots of host lab1 after first runs (${r.endState.lines} lines: paths, types, modes, owners, sizes, sha256 of every file, passwd/group/shadow lines) were compared, both tools alternating; every converged and check run of either tool on hosts the other tool had just converged reported changed=0.`
      : `End state: **DIFFERENT** (${r.endState.comparisons} snapshots compared):\n\n\`\`\`\n${r.endState.diff.join('\n')}\n\`\`\``,
    `<!-- /results:${key(r)} -->`,
  ].join('\n');
}

/** The sections already in the doc, by key. */
function existingSections(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/<!-- results:(N\d+-M\d+) -->[\s\S]*?<!-- \/results:\1 -->/g)) out.set(m[1]!, m[0]);
  return out;
}

/** Writes the doc: method text, then every results section (this run's replaced), smallest lab first. */
export function writeDoc(path: string, r: BenchResult, method: string, notes: string): void {
  const sections = existsSync(path) ? existingSections(readFileSync(path, 'utf8')) : new Map<string, string>();
  sections.set(key(r), resultsSection(r));
  const order = (k: string) => k.split('-').map((x) => Number(x.slice(1)));
  const sorted = [...sections.entries()].sort(([a], [b]) => {
    const [ha, ta] = order(a);
    const [hb, tb] = order(b);
    return ha! - hb! || ta! - tb!;
  });
  writeFileSync(path, `${method}\n## Results\n\n${sorted.map(([, s]) => s).join('\n\n')}\n\n${notes}`);
}
