/** Small helpers shared by fact parsers. Parsers are pure: output text in, value out. */
import type { ExecResult } from '../core/module.js';

/** Output lines without the trailing empty line. */
export function outputLines(out: ExecResult): string[] {
  const text = out.stdout.replace(/\r\n/g, '\n').replace(/\n+$/, '');
  return text === '' ? [] : text.split('\n');
}

/** The error a parser throws when a fact command failed in a way it cannot interpret. */
export function factFailed(what: string, out: ExecResult): Error {
  const detail = out.stderr.trim().split('\n').slice(-3).join(' | ') || `exit code ${out.code}`;
  return new Error(`could not read ${what}: ${detail}`);
}
