/**
 * What `command` and `shell` share: `creates`/`removes` guards (a stat fact each), `chdir`,
 * the plan "run it" (always a change, like Ansible) and the registered output.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { change, noop, type ExecResult, type Plan, type ExecStep } from '../../../core/module.js';
import { sh } from '../../../core/quote.js';
import { stat, type StatFact } from '../../../facts/stat.js';

export const guardParams = {
  chdir: z.string().optional().describe('Folder to change into before running'),
  creates: z.string().optional().describe('Skip the command when this path exists on the host (relative paths are taken from chdir)'),
  removes: z.string().optional().describe('Skip the command when this path does not exist on the host (relative paths are taken from chdir)'),
  stdin: z.string().optional().describe('Text passed to the command on standard input'),
};

export interface GuardParams {
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
}

export type GuardFacts = { creates?: StatFact; removes?: StatFact };

export const commandOutput = z.object({
  cmd: z.string().describe('The command as run'),
  rc: z.number().describe('Exit code'),
  stdout: z.string().describe('Standard output, trailing newlines removed'),
  stderr: z.string().describe('Standard error, trailing newlines removed'),
  stdout_lines: z.array(z.string()).describe('stdout split into lines'),
  stderr_lines: z.array(z.string()).describe('stderr split into lines'),
});

function guardPath(p: GuardParams, path: string): string {
  return posix.isAbsolute(path) || !p.chdir ? path : posix.join(p.chdir, path);
}

export function probeGuards(p: GuardParams) {
  const facts: { creates?: ReturnType<typeof stat>; removes?: ReturnType<typeof stat> } = {};
  if (p.creates) facts.creates = stat(guardPath(p, p.creates));
  if (p.removes) facts.removes = stat(guardPath(p, p.removes));
  return facts;
}

/**
 * A word of a free-form command, as Ansible's split_args sees it: `{{ }}` and `{% %}` templates
 * and quoted strings stay whole, even with spaces inside (`chdir={{ base }}/app`).
 */
const WORD = /(?:\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|"(?:\\.|[^"\\])*"|'[^']*'|\S)+/g;

/** Extracts Ansible's inline `creates=... removes=... chdir=...` words from a free-form command. */
export function inlineGuards(text: string): { rest: string; guards: GuardParams } {
  const guards: GuardParams = {};
  let rest = '';
  let from = 0;
  for (const m of text.matchAll(WORD)) {
    const kv = /^(creates|removes|chdir)=([\s\S]*)$/.exec(m[0]);
    if (!kv) continue;
    const value = kv[2]!;
    guards[kv[1] as 'creates' | 'removes' | 'chdir'] = /^(?:"(?:\\.|[^"\\])*"|'[^']*')$/.test(value) ? value.slice(1, -1) : value;
    rest += text.slice(from, m.index).replace(/\s+$/, '');
    from = m.index + m[0].length;
  }
  return { rest: (rest + text.slice(from)).trim(), guards };
}

function skipped(cmd: string, why: string): Plan {
  const msg = `skipped, since ${why}`;
  return noop(msg, { output: { cmd, rc: 0, stdout: msg, stderr: '', stdout_lines: [msg], stderr_lines: [] } });
}

/** The plan for running `cmd` (already a complete shell command line); `shown` is what users read. */
export function planRun(p: GuardParams, facts: GuardFacts, cmd: string, shown: string): Plan {
  if (p.creates && facts.creates?.exists) return skipped(shown, `${p.creates} exists`);
  if (p.removes && facts.removes && !facts.removes.exists) return skipped(shown, `${p.removes} does not exist`);
  const step: ExecStep = { kind: 'exec', cmd: p.chdir ? sh`cd ${p.chdir} && ` + cmd : cmd, description: shown };
  if (p.stdin !== undefined) step.stdin = p.stdin;
  return change(`run ${shown}`, [step], { output: { cmd: shown } });
}

const trimEnd = (s: string) => s.replace(/\n+$/, '');
const lines = (s: string) => (s === '' ? [] : s.split('\n'));

export function runResult(shown: string, results: ExecResult[]): Record<string, unknown> {
  const r = results[results.length - 1];
  if (!r) return {};
  const stdout = trimEnd(r.stdout);
  const stderr = trimEnd(r.stderr);
  return { cmd: shown, rc: r.code, stdout, stderr, stdout_lines: lines(stdout), stderr_lines: lines(stderr) };
}
