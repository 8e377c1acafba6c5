/**
 * The one-line APT source files: /etc/apt/sources.list and /etc/apt/sources.list.d/*.list, each
 * with its sha256 and content (base64 on one line, so any content survives), key `apt:lists`.
 * apt_repository reads them all: a repository is present wherever a file has it.
 */
import { fact, type Fact } from '../core/module.js';
import { factFailed, outputLines } from './util.js';

export interface AptListFile {
  path: string;
  sha256: string;
  content: string;
}

export interface AptSourceListsFact {
  files: AptListFile[];
}

export function aptSourceLists(): Fact<AptSourceListsFact> {
  const command =
    'for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do ' +
    '[ -f "$f" ] || continue; ' +
    'printf \'%s %s %s\\n\' "$(sha256sum < "$f" | cut -d \' \' -f 1)" "$(base64 -w 0 < "$f")" "$f"; done';
  return fact('apt:lists', command, (out) => {
    const files = outputLines(out).map((line) => {
      const m = /^([0-9a-f]{64}) ([A-Za-z0-9+/=]*) (\/.+)$/.exec(line);
      if (!m) throw factFailed('the APT source lists', { ...out, stderr: out.stderr || `unexpected line: ${line.slice(0, 80)}` });
      return { path: m[3]!, sha256: m[1]!, content: Buffer.from(m[2]!, 'base64').toString('utf8') };
    });
    return { files };
  });
}
