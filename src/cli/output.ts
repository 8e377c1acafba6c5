/** Printing diagnostics and bugs from the CLI. */
import chalk from 'chalk';
import { formatDiagnostic, UserError, type Diagnostic } from '../errors.js';

export function printDiagnostics(diags: Diagnostic[], stream: NodeJS.WriteStream = process.stderr): void {
  const color = (kind: 'error' | 'warning' | 'dim', s: string) => (kind === 'error' ? chalk.red(s) : kind === 'warning' ? chalk.yellow(s) : chalk.dim(s));
  for (const d of diags) stream.write(formatDiagnostic(d, { color }) + '\n');
}

/** Exit code policy: user errors print diagnostics and exit 1; anything else is a bug. */
export function handleError(e: unknown): never {
  if (e instanceof UserError) {
    printDiagnostics(e.diagnostics);
    const n = e.diagnostics.filter((d) => d.severity === 'error').length;
    if (n > 1) process.stderr.write(chalk.red(`${n} errors\n`));
    process.exit(1);
  }
  process.stderr.write(`${chalk.red('tsplay crashed: this is a bug in tsplay, please report it with the output below.')}\n`);
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(70);
}
