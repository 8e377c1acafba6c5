/**
 * Bulk reads of paths: the facts of a batch that declare a `bulk` form (core/module.ts) are read
 * together, with one `stat` for every path, one `stat -L` for the links among them, one
 * `find | tar | base64` fetching every small file's content (each file read once, so its size,
 * bytes and sha256 agree; the hash is computed on the controller) and one `sha256sum` for the
 * larger ones, through shell functions defined once per script. Builtins only otherwise
 * (`[ -L ]`, `[ -r ]`, `printf`): no subshell per fact. Records are NUL-terminated and carry the
 * path as given, so names with spaces, quotes or newlines, missing files and files that cannot
 * be read are told apart exactly; each fact's `render` then rebuilds the output its own command
 * would have printed.
 *
 * Each section of `sections` is one line of the batch script; `decode` takes their outputs in
 * the same order. A section that failed (exit code above 1, or the batch died) fails the read
 * of every bulk fact with its code and stderr (`BulkFailed`).
 */
import { hash } from 'node:crypto';
import { BULK_CONTENT_LIMIT, type BulkOp, type BulkPath, type BulkStat, type ExecResult } from '../core/module.js';
import { quote } from '../core/quote.js';

const FORMAT = '%F|%a|%u|%g|%U|%G|%s|%X|%Y|%Z|%i|%h|%d|%n\\0';
const FIELDS = ['type', 'mode', 'uid', 'gid', 'user', 'group', 'size', 'atime', 'mtime', 'ctime', 'inode', 'nlink', 'dev'] as const;

/** The shell functions, each defined once per script when a section uses it. */
const HELPERS = {
  // One stat for all paths; a path that cannot be stat'ed prints nothing (2>/dev/null).
  tsp_lstat: `tsp_lstat() { stat --printf '${FORMAT}' -- "$@" 2>/dev/null; }`,
  // The links among the paths, followed, in one `stat -L` (`for p` walks the arguments as given).
  tsp_follow:
    `tsp_follow() { n=$#; for p; do if [ -L "$p" ]; then set -- "$@" "$p"; fi; done; shift $n; ` +
    `if [ $# -gt 0 ]; then stat -L --printf '${FORMAT}' -- "$@" 2>/dev/null; fi; }`,
  // name NUL target NUL for each link; $1 is readlink's option ("" or -f).
  tsp_link:
    `tsp_link() { o=$1; shift; for p; do if [ -L "$p" ]; then printf '%s\\0%s\\0' "$p" "$(readlink $o -- "$p")"; fi; done; return 0; }`,
  tsp_access:
    `tsp_access() { for p; do a=; if [ -r "$p" ]; then a=r; fi; if [ -w "$p" ]; then a=\${a}w; fi; ` +
    `if [ -x "$p" ]; then a=\${a}x; fi; printf '%s\\0%s\\0' "$p" "$a"; done; }`,
  // The small readable regular files (after links) in one tar, each read once (so its size,
  // bytes and hash agree); hard links and links to the same file each keep their bytes.
  tsp_small:
    `tsp_small() { find -L "$@" -maxdepth 0 -type f -readable -size -${BULK_CONTENT_LIMIT}c -print0 2>/dev/null | ` +
    `tar -c -h --hard-dereference -P -b 1 --null -T - -f - 2>/dev/null | base64 -w0; }`,
  // The sha256 of the others (sha256sum runs only when there is one).
  tsp_big: `tsp_big() { find -L "$@" -maxdepth 0 -type f -readable ! -size -${BULK_CONTENT_LIMIT}c -exec sha256sum -z -- {} + 2>/dev/null; }`,
} as const;

type Helper = keyof typeof HELPERS;

/** A bulk section failed: every bulk fact of the batch reads as this. */
export class BulkFailed extends Error {
  constructor(readonly out: ExecResult) {
    super(`bulk read failed with exit code ${out.code}`);
  }
}

export interface BulkPlan {
  /** Lines of the batch script, in order. */
  sections: string[];
  /** What was read of each path, from the sections' outputs (in the same order). */
  decode(outs: ExecResult[]): (path: string) => BulkPath;
}

/** Plans the bulk reads of `reads` (a path may come several times, with different ops). */
export function planBulk(reads: Array<{ path: string; ops: BulkOp[] }>): BulkPlan {
  const ops = new Map<string, Set<BulkOp>>();
  for (const r of reads) {
    const set = ops.get(r.path) ?? new Set<BulkOp>();
    for (const op of r.ops) set.add(op);
    ops.set(r.path, set);
  }
  const having = (...want: BulkOp[]) => [...ops].filter(([, s]) => want.some((o) => s.has(o))).map(([p]) => p);
  const all = [...ops.keys()];
  const follow = having('stat', 'content');
  const targets = having('target');
  const sources = having('source');
  const access = having('access');
  const contents = having('content');

  const used = new Set<Helper>();
  const sections: Array<{ kind: string; line: string }> = [];
  const section = (kind: string, helpers: Helper[], args: string[]) => {
    for (const h of helpers) used.add(h);
    sections.push({ kind, line: [...helpers, ...args.map(quote)].join(' ') });
  };
  section('lstat', ['tsp_lstat'], all);
  if (follow.length) section('follow', ['tsp_follow'], follow);
  if (targets.length) section('target', ['tsp_link'], ['', ...targets]);
  if (sources.length) section('source', ['tsp_link'], ['-f', ...sources]);
  if (access.length) section('access', ['tsp_access'], access);
  if (contents.length) {
    section('small', ['tsp_small'], contents.map(findable));
    section('big', ['tsp_big'], contents.map(findable));
  }
  const helpers = (Object.keys(HELPERS) as Helper[]).filter((h) => used.has(h)).map((h) => HELPERS[h]);
  const lines = sections.map((s) => `${s.line} </dev/null`);
  lines[0] = `${helpers.join('\n')}\n${lines[0]}`;

  return {
    sections: lines,
    decode(outs) {
      const failed = outs.find((o) => o.code > 1);
      if (failed) throw new BulkFailed(failed);
      const out = (kind: string) => outs[sections.findIndex((s) => s.kind === kind)]?.stdout ?? '';
      const lstat = statRecords(out('lstat'));
      const followed = statRecords(out('follow'));
      const target = pairs(out('target'));
      const source = pairs(out('source'));
      const acc = pairs(out('access'));
      const statOf = (p: string) => {
        const l = lstat.get(p);
        if (!l) return null;
        return l.type === 'symbolic link' ? (followed.get(p) ?? null) : l;
      };
      const content = contents.length ? readContents(contents, statOf, out('small'), out('big')) : new Map();
      return (path) => {
        const want = ops.get(path);
        if (!want) throw new Error(`${path} was not read in bulk`);
        const r: BulkPath = {};
        if (want.has('lstat')) r.lstat = lstat.get(path) ?? null;
        if (want.has('stat')) r.stat = statOf(path);
        if (want.has('target') && target.has(path)) r.target = target.get(path);
        if (want.has('source') && source.has(path)) r.source = source.get(path);
        if (want.has('access')) r.access = acc.get(path) ?? '';
        if (want.has('content')) {
          r.stat = statOf(path);
          const c = content.get(path);
          if (c) r.content = c;
        }
        return r;
      };
    },
  };
}

/** A start point find reads as a path whatever its first character. */
const findable = (p: string) => (p.startsWith('/') ? p : `./${p}`);

/** `stat --printf FORMAT` records: path -> fields. */
function statRecords(text: string): Map<string, BulkStat> {
  const map = new Map<string, BulkStat>();
  for (const rec of text.split('\0')) {
    const parts = rec.split('|');
    if (parts.length <= FIELDS.length) continue;
    const st = Object.fromEntries(FIELDS.map((f, i) => [f, parts[i]!])) as unknown as BulkStat;
    map.set(parts.slice(FIELDS.length).join('|'), st);
  }
  return map;
}

/** name NUL value NUL ... -> map. */
function pairs(text: string): Map<string, string> {
  const map = new Map<string, string>();
  const parts = text.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) map.set(parts[i]!, parts[i + 1]!);
  return map;
}

/**
 * The contents of the regular files among `paths`: the small ones from the tar (their sha256 is
 * computed here, from the very bytes read), the others' hash from `sha256sum -z`; a regular file
 * in neither could not be read.
 */
function readContents(
  paths: string[],
  statOf: (p: string) => BulkStat | null,
  smallOut: string,
  bigOut: string,
): Map<string, NonNullable<BulkPath['content']>> {
  const files = untar(Buffer.from(smallOut.trim(), 'base64'));
  const hashes = new Map<string, string>();
  for (const rec of bigOut.split('\0')) {
    const m = /^([0-9a-f]{64}) {2}([\s\S]*)$/.exec(rec);
    if (m) hashes.set(m[2]!, m[1]!);
  }
  const result = new Map<string, NonNullable<BulkPath['content']>>();
  for (const p of paths) {
    const st = statOf(p);
    if (!st || !isRegular(st.type)) continue;
    const bytes = files.get(findable(p));
    const sha256 = hashes.get(findable(p));
    if (bytes) result.set(p, { sha256: hash('sha256', bytes, 'hex'), bytes });
    else if (sha256) result.set(p, { sha256 });
    else result.set(p, { error: `cannot read ${p}` });
  }
  return result;
}

/** The regular files of a tar stream (GNU or ustar; long names in `L` entries): name -> bytes. */
export function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const field = (h: Buffer, at: number, len: number) => {
    const f = h.subarray(at, at + len);
    const end = f.indexOf(0);
    return (end < 0 ? f : f.subarray(0, end)).toString('utf8');
  };
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    const prefix = h.subarray(257, 263).toString('latin1') === 'ustar\0' ? field(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    if ((type === '0' || type === '\0') && data.length === size) files.set(name, Buffer.from(data));
  }
  return files;
}

/** `stat %F` of a regular file (what `[ -f ]` is true for, after links). */
export function isRegular(type: string): boolean {
  return type === 'regular file' || type === 'regular empty file';
}

/** A successful output. */
export function printed(stdout: string): ExecResult {
  return { stdout, stderr: '', code: 0 };
}
