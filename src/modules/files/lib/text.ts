/** Text helpers for the line editors (lineinfile, blockinfile): lines that keep their endings. */

/** Splits text into lines that keep their "\n" (the last one may lack it). */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A line without its ending. */
export const bare = (line: string): string => line.replace(/\r?\n$/, '');

/** Appends `newLines` (without endings) after `lines`, making sure the last old line ends in "\n". */
export function withNewline(lines: string[]): string[] {
  const last = lines[lines.length - 1];
  if (last !== undefined && !last.endsWith('\n')) return [...lines.slice(0, -1), last + '\n'];
  return lines;
}

/**
 * Compiles a regular expression written for Ansible (Python `re`): named groups
 * `(?P<name>...)` and `(?P=name)` become JavaScript's. Throws a readable error.
 */
export function compileRegex(source: string, what: string): RegExp {
  const js = source.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    return new RegExp(js);
  } catch (e) {
    throw new Error(`${what} is not a valid regular expression: ${(e as Error).message}`);
  }
}
