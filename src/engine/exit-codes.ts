/** How a failed command is told, zx style: what its exit code means, and the stderr lines worth showing. */

/** Exit-code meanings, zx style. */
export function exitCodeMeaning(code: number | undefined): string | undefined {
  if (code === undefined) return undefined;
  const known: Record<number, string> = {
    1: 'general error',
    2: 'misuse of shell builtins / bad usage',
    126: 'command not executable',
    127: 'command not found',
    128: 'invalid exit argument',
    130: 'interrupted (SIGINT)',
    137: 'killed (SIGKILL)',
    143: 'terminated (SIGTERM)',
  };
  if (known[code]) return `${code} (${known[code]})`;
  if (code > 128 && code < 160) return `${code} (killed by signal ${code - 128})`;
  return String(code);
}

/** Last `n` lines of stderr, preferring lines that mention an error. */
export function stderrTail(stderr: string, n = 20): string[] {
  const lines = stderr.split('\n').filter((l) => l.trim());
  if (lines.length <= n) return lines;
  const errorish = lines.filter((l) => /error|fail|fatal|denied|not found|cannot|unable/i.test(l));
  const tail = lines.slice(-n);
  if (errorish.length && !errorish.some((l) => tail.includes(l))) return [...errorish.slice(-Math.floor(n / 2)), '...', ...tail.slice(-Math.ceil(n / 2))];
  return tail;
}
