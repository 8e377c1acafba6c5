/**
 * `fileTimes(path, stamps)`: a file's access and modification times (whole seconds since the
 * epoch) and, for each wanted time written "YYYY-MM-DD HH:MM:SS", its epoch in the HOST's local
 * time zone (`date -d`), so a timestamp compares as Ansible's file module does. Key `times:PATH`.
 */
import { fact, type BulkForm, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { printed } from './bulk.js';
import { normPath } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type FileTimesFact = { exists: false; stamps: number[] } | { exists: true; atime: number; mtime: number; stamps: number[] };

export function fileTimes(path: string, stamps: string[]): Fact<FileTimesFact> {
  const command =
    sh`if [ -e ${path} ]; then stat -c '%X %Y' -- ${path}; else echo absent; fi` + stamps.map((s) => sh`; date -d ${s} +%s`).join('');
  const parse = (out: ExecResult): FileTimesFact => {
    const [head, ...rest] = outputLines(out);
    const nums = rest.map(Number);
    if (head === undefined || nums.length !== stamps.length || nums.some((n) => !Number.isInteger(n))) throw factFailed(`the times of ${path}`, out);
    if (head === 'absent') return { exists: false, stamps: nums };
    const m = /^(\d+) (\d+)$/.exec(head);
    if (!m) throw factFailed(`the times of ${path}`, out);
    return { exists: true, atime: Number(m[1]), mtime: Number(m[2]), stamps: nums };
  };
  // `date -d` runs once per stamp: only the times alone are read in bulk.
  const bulk: BulkForm | undefined = stamps.length
    ? undefined
    : {
        reads: [{ path, ops: ['lstat', 'stat'] }],
        render(get) {
          const r = get(path);
          return printed(r.stat && r.lstat ? `${r.lstat.atime} ${r.lstat.mtime}\n` : 'absent\n');
        },
      };
  return fact(`times:${normPath(path)}`, command, parse, bulk);
}
