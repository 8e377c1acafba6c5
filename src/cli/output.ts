/** Printing diagnostics and bugs from the CLI, through the process's secret masker. */
import chalk from 'chalk';
import { formatDiagnostic, UserError, type Diagnostic } from '../core/errors.js';
import { Masker } from '../core/secret.js';

/**
 * The secrets of this process. `tsplay run` hands it to the event bus, so the engine fills it
 * during the run; every line this file prints (errors at the end included) is masked with it.
 */
export const outputMasker = new Masker();

export function printDiagnostics(diags: Diagnostic[], stream: NodeJS.WriteStream = process.stderr): void {
  const color = (kind: 'error' | 'warning' | 'dim', s: string) => (kind === 'error' ? chalk.red(s) : kind === 'warning' ? chalk.yellow(s) : chalk.dim(s));
  for (const d of diags) stream.write(outputMasker.mask(formatDiagnostic(d, { color })) + '\n');
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
  process.stderr.write(`${outputMasker.mask((e as Error)?.stack ?? String(e))}\n`);
  process.exit(70);
}
