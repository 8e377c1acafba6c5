/**
 * `findEntries(paths, opts)`: every entry below some folders (GNU find -printf), with type,
 * mode, ids and names, size, times, inode and link count, plus the host's clock (for age),
 * which regular files contain a regex (grep -P: Perl syntax, close to Python's), and their
 * checksums. The filtering by name, type, age and size is the module's (pure) job.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { factFailed, outputLines } from './util.js';

export interface FoundEntry {
  path: string;
  /** find's %y: f d l p s c b (with follow: the target's type; a broken link stays l). */
  type: string;
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  atime: number;
  mtime: number;
  ctime: number;
  inode: number;
  nlink: number;
}

export interface FindFact {
  /** The host's clock, seconds since the epoch. */
  now: number;
  entries: FoundEntry[];
  /** Paths that are not folders (or cannot be read), with why. */
  skipped: Record<string, string>;
  /** Regular files whose content matches `contains` (only when it was given). */
  containing?: string[];
  /** sha1 of regular files (only with checksum). */
  checksums?: Record<string, string>;
}

export interface FindOptions {
  recurse?: boolean;
  depth?: number;
  follow?: boolean;
  /** Perl-style regex; `wholeFile`: search the whole content, else match at the start of a line. */
  contains?: string;
  wholeFile?: boolean;
  checksum?: boolean;
}

const FORMAT = 'e|%y|%m|%U|%G|%u|%g|%s|%A@|%T@|%C@|%i|%n|%p\\n';

export function findEntries(paths: string[], opts: FindOptions = {}): Fact<FindFact> {
  const L = opts.follow ? '-L ' : '';
  const maxdepth = !opts.recurse ? 1 : opts.depth;
  const depth = maxdepth !== undefined ? `-maxdepth ${maxdepth} ` : '';
  const parts = ['date +%s'];
  for (const p of paths) {
    const base = sh`find ${raw(L)}${p} -mindepth 1 ${raw(depth)}`;
    let cmd = `${base}-printf '${FORMAT}'`;
    if (opts.contains !== undefined) {
      const re = opts.wholeFile ? opts.contains : `^(?:${opts.contains})`;
      cmd += `; ${base}-type f -exec env LC_ALL=C.UTF-8 grep -l${opts.wholeFile ? 'z' : ''}P -e ${sh`${re}`} -- {} + 2>/dev/null | sed 's/^/c|/'`;
    }
    if (opts.checksum) cmd += `; ${base}-type f -exec sha1sum -- {} + 2>/dev/null | sed 's/^/s|/'`;
    parts.push(sh`if [ -d ${p} ]; then ` + `{ ${cmd}; } 2>/dev/null; ` + sh`else echo ${`x|${p}`}; fi`);
  }
  const key = `find:${JSON.stringify([paths, opts])}`;
  return fact(key, parts.join('; '), (out) => parseFind(out, opts));
}

function parseFind(out: ExecResult, opts: FindOptions): FindFact {
  const lines = outputLines(out);
  const now = Number(lines[0]);
  if (!Number.isInteger(now)) throw factFailed('the files to find', out);
  const result: FindFact = { now, entries: [], skipped: {} };
  if (opts.contains !== undefined) result.containing = [];
  if (opts.checksum) result.checksums = {};
  for (const l of lines.slice(1)) {
    const tag = l.slice(0, 2);
    const rest = l.slice(2);
    if (tag === 'e|') {
      const f = rest.split('|');
      if (f.length < 13) throw factFailed('the files to find', out);
      const [type, mode, uid, gid, owner, group, size, atime, mtime, ctime, inode, nlink] = f as string[];
      result.entries.push({
        path: f.slice(12).join('|'),
        type: type!,
        mode: mode!.padStart(4, '0'),
        uid: Number(uid),
        gid: Number(gid),
        owner: owner!,
        group: group!,
        size: Number(size),
        atime: Number(atime),
        mtime: Number(mtime),
        ctime: Number(ctime),
        inode: Number(inode),
        nlink: Number(nlink),
      });
    } else if (tag === 'c|') result.containing!.push(rest);
    else if (tag === 's|') {
      const m = /^([0-9a-f]{40}) {2}(.*)$/.exec(rest);
      if (m) result.checksums![m[2]!] = m[1]!;
    } else if (tag === 'x|') result.skipped[rest] = `${rest} was skipped as it does not seem to be a valid directory or it cannot be accessed`;
  }
  return result;
}
