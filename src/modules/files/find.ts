/**
 * `find`: files below some folders matching names, type, age, size and content, registered as
 * Ansible's find does (`files: [{path, mode, size, mtime, ...}]`, `matched`, `examined`).
 * Read-only: one find per folder on the host, the filtering here.
 */
import { globToRegex } from '../../core/glob.js';
import { posix } from 'node:path';
import { z } from 'zod';
import { defineModule, failPlan, noop } from '../../core/module.js';
import { findEntries, type FindFact, type FoundEntry } from '../../facts/find.js';
import { compileRegex } from './lib/text.js';

const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean)));

const AGE = /^(-?\d+)([smhdw]?)$/;
const SIZE = /^(-?\d+)([bkmgt]?)$/;

const params = z
  .object({
    paths: list.describe('Folders to search (a list, or a comma-separated string)'),
    patterns: list
      .default([])
      .describe('Names (basename) to find: shell globs like "*.log", or with use_regex regular expressions matched from the start; default: every name'),
    excludes: list.default([]).describe('Names to leave out, in the same syntax as patterns'),
    use_regex: z.boolean().default(false).describe('patterns and excludes are regular expressions (matched from the start of the name), not globs'),
    file_type: z.enum(['file', 'directory', 'link', 'any']).default('file').describe('The type of entries to return'),
    recurse: z.boolean().default(false).describe('Search below the folders too (default: their direct entries only)'),
    depth: z.number().int().min(1).optional().describe('With recurse: how many levels down at most'),
    hidden: z.boolean().default(false).describe('Include names starting with a dot'),
    follow: z.boolean().default(false).describe('Follow symlinks (find -L)'),
    age: z
      .string()
      .regex(AGE, 'age is a number with an optional unit s, m, h, d or w, e.g. "2d" (older than) or "-1h" (younger than)')
      .optional()
      .describe('Older than this (e.g. "2d"), or younger than it when negative ("-1h"); units s m h d w'),
    age_stamp: z.enum(['atime', 'mtime', 'ctime']).default('mtime').describe('The time age compares'),
    size: z
      .string()
      .regex(SIZE, 'size is a number with an optional unit b, k, m, g or t, e.g. "10m" (at least) or "-1k" (at most)')
      .optional()
      .describe('At least this size (e.g. "10m"), or at most when negative ("-1k"); units b k m g t (powers of 1024)'),
    contains: z
      .string()
      .optional()
      .describe('Regular files whose content matches this regex (Perl syntax, grep -P): at the start of a line, or anywhere with read_whole_file'),
    read_whole_file: z.boolean().default(false).describe('contains searches the whole file (multi-line) instead of matching line by line'),
    get_checksum: z.boolean().default(false).describe('Add the sha1 checksum of each regular file found'),
  })
  .refine((p) => p.paths.length > 0, { message: 'give at least one folder in paths', path: ['paths'] });

type Params = z.output<typeof params>;
type Facts = { found: FindFact };

const fileShape = z.object({
  path: z.string().describe('Absolute path'),
  mode: z.string().describe('Permission bits, e.g. "0644"'),
  isdir: z.boolean().describe('A directory'),
  isreg: z.boolean().describe('A regular file'),
  islnk: z.boolean().describe('A symlink'),
  uid: z.number().describe('Owner uid'),
  gid: z.number().describe('Group gid'),
  pw_name: z.string().describe('Owner name'),
  gr_name: z.string().describe('Group name'),
  size: z.number().describe('Size in bytes'),
  atime: z.number().describe('Last access, seconds since the epoch'),
  mtime: z.number().describe('Last modification, seconds since the epoch'),
  ctime: z.number().describe('Last status change, seconds since the epoch'),
  inode: z.number().describe('Inode number'),
  nlink: z.number().describe('Hard links'),
  checksum: z.string().optional().describe('sha1, with get_checksum'),
});

const output = z.object({
  files: z.array(fileShape).describe('What matched, sorted by path'),
  matched: z.number().describe('How many matched'),
  examined: z.number().describe('How many entries were looked at'),
  skipped_paths: z.record(z.string(), z.string()).describe('Paths that are no folder or could not be read, with why'),
});

const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800, b: 1, k: 1024, g: 1024 ** 3, t: 1024 ** 4 };

/** "2d" -> 172800; "-10k" -> -10240 (m is minutes for age, MiB for size). */
function amount(text: string, re: RegExp, isSize: boolean): number {
  const m = re.exec(text)!;
  const unit = m[2]!;
  return Number(m[1]) * (isSize && unit === 'm' ? 1024 ** 2 : UNITS[unit]!);
}


/** Which entries match (pure); sorted by path. */
export function selectEntries(p: Params, f: FindFact): FoundEntry[] {
  const toRe = (x: string) => (p.use_regex ? new RegExp(`^(?:${compileRegex(x, 'pattern').source})`) : globToRegex(x));
  const patterns = p.patterns.map(toRe);
  const excludes = p.excludes.map(toRe);
  const types = { file: ['f'], directory: ['d'], link: ['l'], any: ['f', 'd', 'l', 'p', 's', 'c', 'b'] }[p.file_type];
  const age = p.age !== undefined ? amount(p.age, AGE, false) : undefined;
  const size = p.size !== undefined ? amount(p.size, SIZE, true) : undefined;
  const containing = p.contains !== undefined ? new Set(f.containing ?? []) : undefined;
  return f.entries
    .filter((e) => {
      const name = posix.basename(e.path);
      if (!p.hidden && name.startsWith('.')) return false;
      if (!types.includes(e.type)) return false;
      if (patterns.length && !patterns.some((r) => r.test(name))) return false;
      if (excludes.some((r) => r.test(name))) return false;
      if (age !== undefined) {
        const elapsed = f.now - e[p.age_stamp];
        if (age >= 0 ? elapsed < age : elapsed > -age) return false;
      }
      if (size !== undefined && e.type === 'f' && (size >= 0 ? e.size < size : e.size > -size)) return false;
      if (containing && e.type === 'f' && !containing.has(e.path)) return false;
      return true;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export default defineModule<typeof params, Facts>({
  name: 'find',
  summary: 'Find files by name, type, age, size or content; the list is registered (read-only).',
  description:
    'Like Ansible\'s find: the registered result has `files` (path, mode, isdir, isreg, islnk, uid, gid, pw_name, gr_name, size, atime, mtime, ctime, ...), ' +
    '`matched`, `examined` and `skipped_paths`. Never changed; check mode reads the host too. Differences: contains uses grep -P (Perl regex); ' +
    'with use_regex, patterns are JavaScript regexes matched from the start of the name; times are whole seconds.',
  examples: [
    {
      title: 'Old logs',
      task: { name: 'Logs older than a week', find: { paths: '/var/log/app', patterns: '*.log,*.gz', age: '1w', recurse: true }, register: 'old_logs' },
    },
    {
      title: 'Config files that mention a host',
      task: { name: 'Who points at the old mirror', find: { paths: ['/etc/apt'], patterns: ['*.list'], contains: '.*old-mirror', recurse: true }, register: 'lists' },
    },
  ],
  params,
  output,
  probe: (p) => ({
    found: findEntries(p.paths, { recurse: p.recurse, depth: p.depth, follow: p.follow, contains: p.contains, wholeFile: p.read_whole_file, checksum: p.get_checksum }),
  }),
  plan: (p, f) => {
    let files;
    try {
      files = selectEntries(p, f.found).map((e) => ({
        path: e.path,
        mode: e.mode,
        isdir: e.type === 'd',
        isreg: e.type === 'f',
        islnk: e.type === 'l',
        uid: e.uid,
        gid: e.gid,
        pw_name: e.owner,
        gr_name: e.group,
        size: e.size,
        atime: e.atime,
        mtime: e.mtime,
        ctime: e.ctime,
        inode: e.inode,
        nlink: e.nlink,
        ...(f.found.checksums?.[e.path] !== undefined ? { checksum: f.found.checksums[e.path] } : {}),
      }));
    } catch (e) {
      return failPlan((e as Error).message);
    }
    const out = { files, matched: files.length, examined: f.found.entries.length, skipped_paths: f.found.skipped };
    const skipped = Object.keys(f.found.skipped);
    return noop(`${files.length} of ${f.found.entries.length} entries matched${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`, { output: out });
  },
});
