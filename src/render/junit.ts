/**
 * `--junit FILE`: a JUnit XML report for CI systems, built from the engine's events (so secrets
 * are masked as in every other output: the bus masks each event before a listener sees it).
 *
 * One <testsuite> per play, one <testcase> per task × host (the items of a loop are one case):
 * failed -> <failure>, unreachable -> <error>, skipped -> <skipped/>; changed is the `status`
 * property and the changes are in <system-out>. A failure that ignore_errors let pass is not a
 * failure (as in Ansible's junit callback), its status property says `failed (ignored)`.
 */
import { displayPath, formatPos, type SourcePos } from '../core/errors.js';
import type { EngineEvent, EventBus, HostStatus, TaskHostResult } from '../engine/events.js';

interface Case {
  host: string;
  task: string;
  handler: boolean;
  pos?: SourcePos;
  results: TaskHostResult[];
  warnings: string[];
}

interface Suite {
  name: string;
  cases: Case[];
  t0: number;
  ms: number;
}

export interface JunitReport {
  /** The report so far (complete once the run's recap was received). */
  xml(): string;
}

export function junitReporter(bus: EventBus, opts: { now?: () => number } = {}): JunitReport {
  const now = opts.now ?? Date.now;
  const suites: Suite[] = [];
  const tasks = new Map<number, { name: string; handler: boolean; pos?: SourcePos; cases: Map<string, Case> }>();
  let playbook = 'tsplay';
  let current: Suite | undefined;
  const suite = (): Suite => {
    if (!current) suites.push((current = { name: '(no play)', cases: [], t0: now(), ms: 0 }));
    return current;
  };
  bus.on((e: EngineEvent) => {
    switch (e.type) {
      case 'run:start':
        playbook = displayPath(e.playbook);
        break;
      case 'play:start':
        suites.push((current = { name: e.play, cases: [], t0: now(), ms: 0 }));
        break;
      case 'play:end':
        if (current) current.ms = now() - current.t0;
        current = undefined;
        break;
      case 'task:start':
        tasks.set(e.id, { name: e.name, handler: e.handler, pos: e.pos, cases: new Map() });
        break;
      case 'task:host': {
        const t = tasks.get(e.id);
        if (!t) break;
        let c = t.cases.get(e.result.host);
        if (!c) {
          c = { host: e.result.host, task: t.name, handler: t.handler, pos: e.pos ?? t.pos, results: [], warnings: [] };
          t.cases.set(e.result.host, c);
          suite().cases.push(c);
        }
        c.results.push(e.result);
        break;
      }
      case 'warning': {
        const c = e.id !== undefined && e.host ? tasks.get(e.id)?.cases.get(e.host) : undefined;
        if (c) c.warnings.push(e.item !== undefined ? `(item=${e.item}) ${e.msg}` : e.msg);
        break;
      }
    }
  });
  return { xml: () => toXml(playbook, suites) };
}

/** The status of a task on a host from its results (one per loop item). */
function caseStatus(rs: TaskHostResult[]): HostStatus | 'ignored' {
  if (rs.some((r) => r.status === 'unreachable')) return 'unreachable';
  if (rs.some((r) => r.status === 'failed' && !r.ignored)) return 'failed';
  if (rs.some((r) => r.status === 'failed')) return 'ignored';
  if (rs.some((r) => r.status === 'changed')) return 'changed';
  if (rs.every((r) => r.status === 'skipped')) return 'skipped';
  return 'ok';
}

function toXml(playbook: string, suites: Suite[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = suites.flatMap((s) => s.cases);
  const count = (cs: Case[], ...st: Array<ReturnType<typeof caseStatus>>) => cs.filter((c) => st.includes(caseStatus(c.results))).length;
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  out.push(`<testsuites name="${attr(playbook)}" tests="${all.length}" failures="${count(all, 'failed')}" errors="${count(all, 'unreachable')}" skipped="${count(all, 'skipped')}" time="${secs(suites.reduce((n, s) => n + s.ms, 0))}">`);
  for (const s of suites) {
    out.push(`  <testsuite name="${attr(s.name)}" tests="${s.cases.length}" failures="${count(s.cases, 'failed')}" errors="${count(s.cases, 'unreachable')}" skipped="${count(s.cases, 'skipped')}" time="${secs(s.ms)}">`);
    for (const c of s.cases) out.push(...testcase(s, c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

function testcase(s: Suite, c: Case): string[] {
  const status = caseStatus(c.results);
  const ms = c.results.reduce((n, r) => Math.max(n, r.durationMs), 0);
  const name = `[${c.host}] ${c.handler ? 'HANDLER: ' : ''}${c.task}`;
  const out = [`    <testcase name="${attr(name)}" classname="${attr(s.name)}" time="${(ms / 1000).toFixed(3)}"${c.pos ? ` file="${attr(displayPath(c.pos.file))}" line="${c.pos.line}"` : ''}>`];
  out.push('      <properties>');
  out.push(`        <property name="host" value="${attr(c.host)}"/>`);
  out.push(`        <property name="status" value="${status === 'ignored' ? 'failed (ignored)' : status}"/>`);
  if (c.pos) out.push(`        <property name="task" value="${attr(formatPos(c.pos))}"/>`);
  out.push('      </properties>');
  const lines = c.results.flatMap(resultLines);
  if (status === 'failed' || status === 'unreachable') {
    const first = c.results.find((r) => r.status === status && !r.ignored);
    const tag = status === 'failed' ? 'failure' : 'error';
    out.push(`      <${tag} message="${attr(first?.msg ?? status)}" type="${status}">${text(lines.join('\n'))}</${tag}>`);
  } else if (status === 'skipped') {
    out.push(`      <skipped message="${attr(c.results[0]?.msg ?? 'skipped')}"/>`);
  }
  if (lines.length && status !== 'failed' && status !== 'unreachable') out.push(`      <system-out>${text(lines.join('\n'))}</system-out>`);
  if (c.warnings.length) out.push(`      <system-err>${text(c.warnings.map((w) => `[WARNING] ${w}`).join('\n'))}</system-err>`);
  out.push('    </testcase>');
  return out;
}

/** What one result says, as lines: status, reason, changes, the failed command. */
function resultLines(r: TaskHostResult): string[] {
  const item = r.item !== undefined ? ` (item=${r.item})` : '';
  const out = [`${r.status}${r.ignored ? ' (ignored)' : ''}${item}${r.msg ? `: ${r.msg}` : ''}`];
  for (const ch of r.changes ?? []) out.push(`  change: ${ch}`);
  for (const d of r.diffs ?? []) out.push(`  file: ${d.path}`);
  const f = r.failure;
  if (f?.command) out.push(`  command: ${f.command}`);
  if (f?.meaning ?? f?.exitCode !== undefined) out.push(`  exit code: ${f?.meaning ?? f?.exitCode}`);
  for (const l of f?.stderrTail ?? []) out.push(`  | ${l}`);
  return out;
}

/** Characters XML 1.0 cannot hold at all (control characters other than tab, newline, return). */
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function text(s: string): string {
  return s.replace(INVALID, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
