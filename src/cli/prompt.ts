/** A hidden prompt on the terminal (for -K and --ask-vault-pass). */
import { UserError } from '../core/errors.js';

/** Reads a line from the terminal without echoing it (for -K). */
export async function promptHidden(question: string, noTerminal = '--ask-become-pass needs a terminal; set become_password (e.g. with !secret) instead'): Promise<string> {
  const { createInterface } = await import('node:readline');
  if (!process.stdin.isTTY) throw new UserError(noTerminal);
  const out = process.stderr;
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  const rlAny = rl as unknown as { _writeToOutput: (s: string) => void };
  out.write(question);
  rlAny._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  out.write('\n');
  return answer;
}
