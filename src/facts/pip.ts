/**
 * Python packages as pip sees them, for the pip module: whether the virtualenv exists, what
 * `pip list` says is installed, and what `pip install --dry-run --report -` would install for
 * the module's arguments (pip 22.2 or newer: exact for specifiers, requirements files, --upgrade
 * and local wheel folders, without changing anything). Key `pip:WHERE:DIGEST`.
 */
import { createHash } from 'node:crypto';
import { fact, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';

export interface PipPackage {
  name: string;
  version: string;
}

export type PipStateFact =
  | { venv: false }
  | { venv: true; pip: false }
  | {
      venv: true;
      pip: true;
      installed: PipPackage[];
      /** What the install would do; null when it was not asked for. */
      wouldInstall: PipPackage[] | null;
      /** The dry run failed: pip's last error lines. */
      error?: string;
    };

export interface PipQuery {
  /** The pip command, as shell text (e.g. `/opt/venv/bin/pip`, `python3 -m pip`). */
  pip: string;
  /** A virtualenv that must exist first (its bin/python). */
  venv?: string;
  chdir?: string;
  /** Arguments of a dry-run `pip install` (requirements, specifiers, extra args); none: no dry run. */
  install?: string[];
}

/** PEP 503 normalized name. */
export const normName = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

const MARK = 'tsplay-pip:';

export function pipState(q: PipQuery): Fact<PipStateFact> {
  const digest = createHash('sha256').update(JSON.stringify([q.pip, q.chdir ?? '', q.install ?? null])).digest('hex').slice(0, 16);
  const lines: string[] = [];
  if (q.chdir) lines.push(sh`cd ${q.chdir} || exit 1`);
  if (q.venv) lines.push(sh`if [ ! -x ${`${q.venv}/bin/python`} ]; then echo ${`${MARK}no-venv`}; exit 0; fi`);
  lines.push(`if ! ${q.pip} --version >/dev/null 2>&1; then echo ${MARK}no-pip; exit 0; fi`);
  lines.push(`echo ${MARK}list; ${q.pip} list --format=json --disable-pip-version-check 2>/dev/null; echo`);
  if (q.install) {
    lines.push(
      // stdout (the JSON report) goes on; stderr is kept to explain a failure.
      `echo ${MARK}report; { err=$( { ${q.pip} install --dry-run --quiet --report - --disable-pip-version-check ${sh`${q.install}`} 3>&-; } 2>&1 1>&3 ); } 3>&1; rc=$?; ` +
        `echo; echo ${MARK}rc:$rc; if [ $rc -ne 0 ]; then printf '%s\n' "$err" | tail -n 5; fi`,
    );
  }
  return fact(`pip:${q.venv ?? q.pip}:${digest}`, lines.join('\n'), (out) => parsePip(out.stdout, out.stderr, out.code));
}

function parsePip(stdout: string, stderr: string, code: number): PipStateFact {
  if (stdout.startsWith(`${MARK}no-venv`)) return { venv: false };
  if (stdout.startsWith(`${MARK}no-pip`)) return { venv: true, pip: false };
  const list = new RegExp(`^${MARK}list\\n([\\s\\S]*?)\\n(?:${MARK}report\\n|$)`).exec(stdout);
  if (!list) throw new Error(`could not read pip's state: ${(stderr.trim().split('\n').pop() ?? '') || `exit code ${code}`}`);
  const installed = (JSON.parse(list[1]!.trim() || '[]') as PipPackage[]).map((p) => ({ name: p.name, version: p.version }));
  const rep = new RegExp(`${MARK}report\\n([\\s\\S]*?)\\n${MARK}rc:(\\d+)\\n?([\\s\\S]*)$`).exec(stdout);
  if (!rep) return { venv: true, pip: true, installed, wouldInstall: null };
  if (rep[2] !== '0') return { venv: true, pip: true, installed, wouldInstall: null, error: rep[3]!.trim() || `pip install --dry-run failed (exit ${rep[2]})` };
  const report = JSON.parse(rep[1]!.trim() || '{}') as { install?: Array<{ metadata?: { name?: string; version?: string } }> };
  const wouldInstall = (report.install ?? []).map((i) => ({ name: i.metadata?.name ?? '?', version: i.metadata?.version ?? '?' }));
  return { venv: true, pip: true, installed, wouldInstall };
}
