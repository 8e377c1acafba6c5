/**
 * `stat`: reads a path's status and registers it shaped like Ansible's (`result.stat.exists`,
 * `.isdir`, `.mode`, `.checksum`, ...). Read-only: never changed, and the same in check mode.
 */
import { z } from 'zod';
import { defineModule, noop } from '../../core/module.js';
import { normPath } from '../../facts/keys.js';
import { CHECKSUM_ALGORITHMS, pathInfo, type PathInfoFact } from '../../facts/path-info.js';

const params = z.object({
  path: z.string().min(1).describe('The path to read (absolute)'),
  follow: z.boolean().default(false).describe('Follow a symlink and report its target (a broken link then does not exist)'),
  get_checksum: z.boolean().default(true).describe('Compute the checksum of a regular, readable file (reads the whole file)'),
  checksum_algorithm: z.enum(CHECKSUM_ALGORITHMS).default('sha1').describe('Algorithm of checksum: md5, sha1 (the default, like Ansible), sha224, sha256, sha384, sha512'),
  get_mime: z.boolean().default(false).describe('Accepted for Ansible compatibility; tsplay does not report mime types'),
  get_attributes: z.boolean().default(false).describe('Accepted for Ansible compatibility; tsplay does not report lsattr attributes'),
});

type Params = z.output<typeof params>;
type Facts = { info: PathInfoFact };

const statShape = z.object({
  exists: z.boolean().describe('Whether the path exists'),
  path: z.string().optional().describe('The path'),
  mode: z.string().optional().describe('Permission bits, e.g. "0644"'),
  isdir: z.boolean().optional().describe('A directory'),
  isreg: z.boolean().optional().describe('A regular file'),
  islnk: z.boolean().optional().describe('A symlink (never with follow, unless broken)'),
  isfifo: z.boolean().optional().describe('A named pipe'),
  issock: z.boolean().optional().describe('A socket'),
  ischr: z.boolean().optional().describe('A character device'),
  isblk: z.boolean().optional().describe('A block device'),
  uid: z.number().optional().describe('Owner uid'),
  gid: z.number().optional().describe('Group gid'),
  pw_name: z.string().optional().describe('Owner name (absent when the uid has none)'),
  gr_name: z.string().optional().describe('Group name (absent when the gid has none)'),
  size: z.number().optional().describe('Size in bytes'),
  atime: z.number().optional().describe('Last access, seconds since the epoch'),
  mtime: z.number().optional().describe('Last modification, seconds since the epoch'),
  ctime: z.number().optional().describe('Last status change, seconds since the epoch'),
  inode: z.number().optional().describe('Inode number'),
  dev: z.number().optional().describe('Device number'),
  nlink: z.number().optional().describe('Number of hard links'),
  readable: z.boolean().optional().describe('The connecting user may read it'),
  writeable: z.boolean().optional().describe('The connecting user may write it'),
  executable: z.boolean().optional().describe('The connecting user may execute it'),
  rusr: z.boolean().optional().describe('Owner may read'),
  wusr: z.boolean().optional().describe('Owner may write'),
  xusr: z.boolean().optional().describe('Owner may execute'),
  rgrp: z.boolean().optional().describe('Group may read'),
  wgrp: z.boolean().optional().describe('Group may write'),
  xgrp: z.boolean().optional().describe('Group may execute'),
  roth: z.boolean().optional().describe('Others may read'),
  woth: z.boolean().optional().describe('Others may write'),
  xoth: z.boolean().optional().describe('Others may execute'),
  isuid: z.boolean().optional().describe('setuid bit'),
  isgid: z.boolean().optional().describe('setgid bit'),
  checksum: z.string().optional().describe('Hex digest (checksum_algorithm) of a regular readable file, with get_checksum'),
  lnk_target: z.string().optional().describe('A link\'s target as stored'),
  lnk_source: z.string().optional().describe('A link\'s resolved absolute path'),
});

const output = z.object({ stat: statShape.describe('The status of the path, as Ansible\'s stat module reports it') });

export type StatResult = z.output<typeof statShape>;

/** The registered `stat` value from the fact (pure). */
export function statResult(path: string, f: PathInfoFact): StatResult {
  if (!f.exists) return { exists: false };
  const bits = parseInt(f.mode, 8);
  const bit = (n: number) => (bits & n) !== 0;
  const r: StatResult = {
    exists: true,
    path,
    mode: f.mode,
    isdir: f.kind === 'directory',
    isreg: f.kind === 'file',
    islnk: f.kind === 'link',
    isfifo: f.kind === 'fifo',
    issock: f.kind === 'socket',
    ischr: f.kind === 'char',
    isblk: f.kind === 'block',
    uid: f.uid,
    gid: f.gid,
    ...(f.owner !== null ? { pw_name: f.owner } : {}),
    ...(f.group !== null ? { gr_name: f.group } : {}),
    size: f.size,
    atime: f.atime,
    mtime: f.mtime,
    ctime: f.ctime,
    inode: f.inode,
    dev: f.dev,
    nlink: f.nlink,
    readable: f.readable,
    writeable: f.writeable,
    executable: f.executable,
    rusr: bit(0o400),
    wusr: bit(0o200),
    xusr: bit(0o100),
    rgrp: bit(0o40),
    wgrp: bit(0o20),
    xgrp: bit(0o10),
    roth: bit(0o4),
    woth: bit(0o2),
    xoth: bit(0o1),
    isuid: bit(0o4000),
    isgid: bit(0o2000),
  };
  if (f.checksum !== undefined) r.checksum = f.checksum;
  if (f.linkTarget !== undefined) {
    r.lnk_target = f.linkTarget;
    r.lnk_source = f.linkSource;
  }
  return r;
}

export default defineModule<typeof params, Facts>({
  name: 'stat',
  summary: 'Read a path\'s status (exists, type, mode, owner, size, times, checksum) into a registered variable.',
  description:
    'The registered result is shaped like Ansible\'s: `result.stat.exists`, `.isdir`, `.isreg`, `.islnk`, `.mode` ("0644"), `.uid`, `.pw_name`, ' +
    '`.size`, `.mtime`, `.checksum` (sha1 by default), `.lnk_source`, ... Never reports a change; check mode reads the host too. ' +
    'Differences from Ansible: no mime type and no lsattr attributes; times are whole seconds.',
  examples: [
    {
      title: 'Act on whether a file exists',
      task: { name: 'Is there a config?', stat: { path: '/etc/app/config.yml' }, register: 'cfg' },
    },
    {
      title: 'A checksum with another algorithm, following links',
      task: { name: 'Binary checksum', stat: { path: '/usr/local/bin/app', follow: true, checksum_algorithm: 'sha256' }, register: 'app_bin' },
    },
  ],
  params,
  output,
  probe: (p: Params) => ({ info: pathInfo(p.path, { follow: p.follow, checksum: p.get_checksum ? p.checksum_algorithm : undefined }) }),
  plan: (p, f) => {
    const path = normPath(p.path);
    const stat = statResult(path, f.info);
    const what = !f.info.exists ? 'does not exist' : `is a ${f.info.kind === 'link' ? `symlink to ${f.info.linkTarget}` : f.info.kind} (${f.info.mode})`;
    return noop(`${path} ${what}`, { output: { stat } });
  },
});
