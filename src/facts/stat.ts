/**
 * `stat(path)`: whether a path exists, its type, mode, owner, group, size and link target.
 * Links are not followed (a symlink is reported as `link` with its `target`).
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { printed } from './bulk.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type PathType = 'file' | 'directory' | 'link' | 'other';

export type StatFact =
  | { exists: false }
  | {
      exists: true;
      type: PathType;
      /** Four octal digits, e.g. "0644", "1777". */
      mode: string;
      owner: string;
      group: string;
      uid: number;
      gid: number;
      size: number;
      /** Link target as stored in the link (links only). */
      target?: string;
    };

const TYPES: Record<string, PathType> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'link',
};

export function stat(path: string): Fact<StatFact> {
  const command =
    sh`if [ -e ${path} ] || [ -L ${path} ]; then stat -c '%F|%a|%U|%G|%u|%g|%s' -- ${path}; ` +
    sh`if [ -L ${path} ]; then readlink -- ${path}; fi; else echo absent; fi`;
  return fact(keys.stat(path), command, (out) => parseStat(path, out), {
    reads: [{ path, ops: ['lstat', 'target'] }],
    render(get) {
      const r = get(path);
      const s = r.lstat;
      if (!s) return printed('absent\n');
      const line = `${s.type}|${s.mode}|${s.user}|${s.group}|${s.uid}|${s.gid}|${s.size}\n`;
      return printed(s.type === 'symbolic link' ? `${line}${r.target ?? ''}\n` : line);
    },
  });
}

function parseStat(path: string, out: ExecResult): StatFact {
  const lines = outputLines(out);
  if (lines[0] === 'absent') return { exists: false };
  const fields = lines[0]?.split('|') ?? [];
  if (fields.length !== 7) throw factFailed(`stat of ${path}`, out);
  const [kind, mode, owner, group, uid, gid, size] = fields as [string, string, string, string, string, string, string];
  const type = TYPES[kind] ?? 'other';
  const result: StatFact = {
    exists: true,
    type,
    mode: mode.padStart(4, '0'),
    owner,
    group,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
  };
  if (type === 'link') result.target = lines.slice(1).join('\n');
  return result;
}
