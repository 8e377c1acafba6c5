/**
 * Running local programs for the lab (docker, debootstrap, tar, ssh-keygen). A failed command
 * becomes a CommandError: a UserError with a one-line summary and the tail of its stderr, so the
 * CLI prints it without a stack trace (a broken Docker engine is not a bug in tsplay).
 */
import { spawn } from 'node:child_process';
import { UserError } from '../core/errors.js';
import { quote } from '../core/quote.js';

export interface RunOptions {
  /** Written to the program's standard input, then closed. */
  input?: string | Buffer;
  /** Kill the program after this long (default 10 minutes). */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Each line the program prints (stdout and stderr), as it comes: for progress. */
  onLine?: (line: string) => void;
}

/** Calls `onLine` with each whole line of a stream's chunks (the last partial one at `flush`). */
function lineSplitter(onLine: (line: string) => void): { push: (b: Buffer) => void; flush: () => void } {
  let rest = '';
  return {
    push: (b) => {
      const parts = (rest + b.toString('utf8')).split(/\r?\n|\r/);
      rest = parts.pop()!;
      for (const l of parts) onLine(l);
    },
    flush: () => {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class CommandError extends UserError {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
    readonly shortMessage: string,
  ) {
    const tail = stderrTail(stderr);
    super(tail ? `${shortMessage}\n${tail}` : shortMessage);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

/** The last lines of stderr, preferring those that mention an error (at most 20). */
export function stderrTail(stderr: string, max = 20): string {
  const lines = stderr.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const errors = lines.filter((l) => /error|fail|denied|not found|cannot|unable|^E: /i.test(l)); // E: is apt's
  const picked = errors.length ? errors.slice(-max) : lines.slice(-max);
  return picked.map((l) => `  ${l}`).join('\n');
}

function describeExit(code: number | null, signal: NodeJS.Signals | null, timedOut: boolean): string {
  if (timedOut) return 'timed out';
  if (signal) return `was killed by ${signal}`;
  if (code === 127) return 'failed with exit code 127 (command not found)';
  return `failed with exit code ${code}`;
}

/** Runs a program and returns its output whatever its exit code (throws only if it cannot start). */
export function tryRun(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const lines = opts.onLine ? [lineSplitter(opts.onLine), lineSplitter(opts.onLine)] : undefined;
    child.stdout.on('data', (b: Buffer) => (out.push(b), lines?.[0]!.push(b)));
    child.stderr.on('data', (b: Buffer) => (err.push(b), lines?.[1]!.push(b)));
    child.stdin.on('error', () => {}); // the program may exit without reading its input
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const line = commandLine(cmd, args);
      reject(e.code === 'ENOENT' ? new CommandError(line, null, '', `command not found: ${cmd}`) : e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      lines?.forEach((l) => l.flush());
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut || signal) {
        const line = commandLine(cmd, args);
        reject(new CommandError(line, code, stderr, `Command ${describeExit(code, signal, timedOut)}: ${line}`));
        return;
      }
      resolve({ stdout, stderr, code: code ?? 1 });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a program; a non-zero exit throws a CommandError. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await tryRun(cmd, args, opts);
  if (r.code !== 0) {
    const line = commandLine(cmd, args);
    throw new CommandError(line, r.code, r.stderr || r.stdout, `Command ${describeExit(r.code, null, false)}: ${line}`);
  }
  return r;
}

/** `docker ARGS...`, throwing on failure; returns trimmed stdout. */
export async function docker(args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run('docker', args, opts)).stdout.trim();
}

/** Runs `a | b`; throws if either side fails. Returns b's output. */
export function pipe(
  a: { cmd: string; args: readonly string[] },
  b: { cmd: string; args: readonly string[] },
  opts: { timeoutMs?: number; onBytes?: (total: number) => void } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const left = spawn(a.cmd, a.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const right = spawn(b.cmd, b.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    left.stdout.pipe(right.stdin);
    let bytes = 0;
    if (opts.onBytes) left.stdout.on('data', (d: Buffer) => opts.onBytes!((bytes += d.length)));
    right.stdin.on('error', () => {}); // reported through the exit codes instead
    const leftErr: Buffer[] = [];
    const rightOut: Buffer[] = [];
    const rightErr: Buffer[] = [];
    left.stderr.on('data', (d: Buffer) => leftErr.push(d));
    right.stdout.on('data', (d: Buffer) => rightOut.push(d));
    right.stderr.on('data', (d: Buffer) => rightErr.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      left.kill('SIGKILL');
      right.kill('SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      left.kill('SIGKILL');
      right.kill('SIGKILL');
      reject(e);
    };
    for (const [child, spec] of [[left, a], [right, b]] as const) {
      child.on('error', (e: NodeJS.ErrnoException) =>
        fail(e.code === 'ENOENT' ? new CommandError(spec.cmd, null, '', `command not found: ${spec.cmd}`) : e),
      );
    }
    const exits = [
      new Promise<[number | null, NodeJS.Signals | null]>((r) => left.on('close', (c, s) => r([c, s]))),
      new Promise<[number | null, NodeJS.Signals | null]>((r) => right.on('close', (c, s) => r([c, s]))),
    ];
    void Promise.all(exits).then(([[lc, ls], [rc, rs]]) => {
      if (failed) return;
      clearTimeout(timer);
      const line = `${commandLine(a.cmd, a.args)} | ${commandLine(b.cmd, b.args)}`;
      if (timedOut || lc !== 0 || ls) {
        const stderr = Buffer.concat(leftErr).toString('utf8');
        return fail(new CommandError(line, lc, stderr, `Command ${describeExit(lc, ls, timedOut)}: ${commandLine(a.cmd, a.args)}`));
      }
      if (rc !== 0 || rs) {
        const stderr = Buffer.concat(rightErr).toString('utf8');
        return fail(new CommandError(line, rc, stderr, `Command ${describeExit(rc, rs, false)}: ${commandLine(b.cmd, b.args)}`));
      }
      resolve({ stdout: Buffer.concat(rightOut).toString('utf8'), stderr: Buffer.concat(rightErr).toString('utf8'), code: 0 });
    });
  });
}

/** True when `cmd` is on PATH. */
export async function hasCommand(cmd: string): Promise<boolean> {
  const r = await tryRun('/bin/sh', ['-c', `command -v ${quote(cmd)}`]);
  return r.code === 0;
}
