/**
 * `pathInfo(path, {follow, checksum})`: everything Ansible's `stat` module reports about a path,
 * in one POSIX sh snippet: type, mode, ids and names, size, times, inode, device, link count,
 * link target (readlink) and source (readlink -f), whether the connecting user may read, write
 * or execute it, and optionally a checksum (md5sum, sha1sum, ... of a regular, readable file).
 * With `follow`, links are followed (a broken link is then absent, like Ansible).
 */
import { fact, type BulkForm, type ExecResult, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { printed } from './bulk.js';
import { normPath } from './keys.js';
import { factFailed, outputLines } from './util.js';

export const CHECKSUM_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export type PathKind = 'file' | 'directory' | 'link' | 'fifo' | 'socket' | 'char' | 'block' | 'other';

export type PathInfoFact =
  | { exists: false }
  | {
      exists: true;
      kind: PathKind;
      /** Permission bits as four octal digits, e.g. "0644". */
      mode: string;
      uid: number;
      gid: number;
      /** null when the uid/gid has no name on the host. */
      owner: string | null;
      group: string | null;
      size: number;
      atime: number;
      mtime: number;
      ctime: number;
      inode: number;
      dev: number;
      nlink: number;
      readable: boolean;
      writeable: boolean;
      executable: boolean;
      /** Links: the target as stored, and the resolved absolute path. */
      linkTarget?: string;
      linkSource?: string;
      checksum?: string;
    };

const KINDS: Record<string, PathKind> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'link',
  fifo: 'fifo',
  socket: 'socket',
  'character special file': 'char',
  'block special file': 'block',
};

export function pathInfo(path: string, opts: { follow?: boolean; checksum?: ChecksumAlgorithm } = {}): Fact<PathInfoFact> {
  const follow = opts.follow === true;
  const exists = follow ? sh`[ -e ${path} ]` : sh`{ [ -e ${path} ] || [ -L ${path} ]; }`;
  const isReg = follow ? sh`[ -f ${path} ]` : sh`[ -f ${path} ] && [ ! -L ${path} ]`;
  const sum = opts.checksum
    ? sh`if ${raw(isReg)} && [ -r ${path} ]; then echo "checksum:$(${raw(opts.checksum)}sum < ${path} | cut -d ' ' -f 1)"; fi; `
    : '';
  const command =
    `if ${exists}; then ` +
    sh`stat ${raw(follow ? '-L ' : '')}-c '%F|%a|%u|%g|%U|%G|%s|%X|%Y|%Z|%i|%h|%d' -- ${path} && ` +
    sh`if [ -L ${path} ] && ${raw(follow ? 'false' : 'true')}; then echo "target:$(readlink -- ${path})"; echo "source:$(readlink -f -- ${path})"; fi; ` +
    sh`a=; if [ -r ${path} ]; then a=r; fi; if [ -w ${path} ]; then a=\${a}w; fi; if [ -x ${path} ]; then a=\${a}x; fi; echo "access:$a"; ` +
    sum +
    'else echo absent; fi';
  const key = `pathinfo:${follow ? 'follow:' : ''}${opts.checksum ?? ''}:${normPath(path)}`;
  // A checksum runs md5sum, sha1sum, ... on the one file: only the rest is read in bulk.
  const bulk: BulkForm | undefined = opts.checksum
    ? undefined
    : {
        reads: [{ path, ops: follow ? ['stat', 'access'] : ['lstat', 'target', 'source', 'access'] }],
        render(get) {
          const r = get(path);
          const s = follow ? r.stat : r.lstat;
          if (!s) return printed('absent\n');
          const fields = [s.type, s.mode, s.uid, s.gid, s.user, s.group, s.size, s.atime, s.mtime, s.ctime, s.inode, s.nlink, s.dev];
          const link = !follow && s.type === 'symbolic link' ? `target:${r.target ?? ''}\nsource:${r.source ?? ''}\n` : '';
          return printed(`${fields.join('|')}\n${link}access:${r.access ?? ''}\n`);
        },
      };
  return fact(key, command, (out) => parsePathInfo(path, out), bulk);
}

function parsePathInfo(path: string, out: ExecResult): PathInfoFact {
  const lines = outputLines(out);
  if (lines[0] === 'absent') return { exists: false };
  const f = lines[0]?.split('|') ?? [];
  if (f.length !== 13) throw factFailed(`stat of ${path}`, out);
  const [kind, mode, uid, gid, owner, group, ...nums] = f as [string, string, string, string, string, string, ...string[]];
  const [size, atime, mtime, ctime, inode, nlink, dev] = nums.map(Number) as [number, number, number, number, number, number, number];
  const tagged = (tag: string) => lines.find((l) => l.startsWith(`${tag}:`))?.slice(tag.length + 1);
  const access = tagged('access') ?? '';
  const result: PathInfoFact = {
    exists: true,
    kind: KINDS[kind] ?? 'other',
    mode: mode.padStart(4, '0'),
    uid: Number(uid),
    gid: Number(gid),
    owner: owner === 'UNKNOWN' ? null : owner,
    group: group === 'UNKNOWN' ? null : group,
    size,
    atime,
    mtime,
    ctime,
    inode,
    dev,
    nlink,
    readable: access.includes('r'),
    writeable: access.includes('w'),
    executable: access.includes('x'),
  };
  const target = tagged('target');
  if (target !== undefined) {
    result.linkTarget = target;
    result.linkSource = tagged('source') ?? '';
  }
  const checksum = tagged('checksum');
  if (checksum) result.checksum = checksum;
  return result;
}
