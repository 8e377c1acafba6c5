/**
 * `unarchive`: extracts a tar archive (plain, gzip; on the host also bzip2/xz) or a zip archive
 * into an existing folder, only when the folder does not already hold it. From the controller
 * (files/), the archive is listed there and its entries compared with the host's files (kind,
 * size, mtime, owner; a zip's contents by sha256), then put in a temp file and extracted; with
 * `remote_src` the host's GNU tar compares (`tar --diff`: contents too, as Ansible does) or its
 * unzip (`unzip -p` of each entry against the file), and extracts.
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type ExecStep, type Plan, type Step } from '../../core/module.js';
import { globToRegex } from '../../core/glob.js';
import { quote, sh } from '../../core/quote.js';
import { fileDigests, pathsState, tarDiff, zipDiff, type EntryState, type FileDigestsFact, type PathsStateFact, type TarDiffFact, type ZipDiffFact } from '../../facts/archive.js';
import { normPath } from '../../facts/keys.js';
import { stat, type StatFact } from '../../facts/stat.js';
import { sameId } from '../lib/mode.js';
import { archiveFormat, tarEntries, type TarEntry } from './lib/tar-listing.js';
import { zipEntries, type ZipEntry } from './lib/zip-listing.js';

const params = z.object({
  src: z.string().min(1).describe("The archive: a file on the controller (looked up in the role's and the project's files/ folders), or on the host with remote_src"),
  dest: z.string().min(1).describe('Absolute path of an existing folder on the host to extract into'),
  remote_src: z.boolean().default(false).describe('src is a path on the host (then the host\'s tar compares and extracts)'),
  creates: z.string().optional().describe('Skip the task when this path exists on the host'),
  list_files: z.boolean().default(false).describe('Register the archive\'s entries as files'),
  extra_opts: z.array(z.string()).default([]).describe('More options for tar -x (e.g. ["--strip-components=1"]) or unzip (e.g. ["-j"]); the comparison does not know them: use creates with options that rename entries'),
  exclude: z.array(z.string()).default([]).describe('Entries (shell patterns) neither compared nor extracted'),
  owner: z.string().optional().describe('Owner (user name or uid) of the extracted entries'),
  group: z.string().optional().describe('Group (name or gid) of the extracted entries'),
});

type Params = z.output<typeof params> & {
  /** Controller src, read in prepare: the archive (base64), its sha256 and its entries. */
  archive?: string;
  archiveSha?: string;
  entries?: TarEntry[];
  /** A controller zip's entries (then `entries` is unset). */
  zipEntries?: ZipEntry[];
};

type Facts = { creates?: StatFact; state?: PathsStateFact; digests?: FileDigestsFact; diff?: TarDiffFact; zip?: ZipDiffFact };

const NO_UNZIP = 'unzip is not installed on the host: install it first (package: {name: unzip}) to extract zip archives';

const output = z.object({
  dest: z.string().describe('The folder'),
  src: z.string().describe('The archive'),
  handler: z.string().describe('How it was extracted: TgzArchive (tar) or ZipArchive (zip), as Ansible names them'),
  files: z.array(z.string()).optional().describe('The archive\'s entries, with list_files'),
});

const excluded = (p: Params, path: string) => p.exclude.some((pat) => globToRegex(pat).test(path) || globToRegex(pat).test(path.split('/').pop()!));

/** The first entries of the archive that dest does not hold as they are in it. */
export function differing(entries: TarEntry[], on: Record<string, EntryState>, want: { owner?: string; group?: string }): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const s = on[e.path];
    if (!s || !s.exists) out.push(`${e.path} is missing`);
    else if (e.kind === 'directory' ? s.kind !== 'directory' : e.kind === 'link' ? s.kind !== 'link' : e.kind === 'file' && s.kind !== 'file') out.push(`${e.path} is a ${s.kind}, not a ${e.kind}`);
    else if (e.kind === 'file' && (s.size !== e.size || s.mtime !== e.mtime)) out.push(`${e.path} differs (${s.size !== e.size ? 'size' : 'modification time'})`);
    else if (e.kind !== 'link' && ((want.owner && !sameId(want.owner, s.owner, s.uid)) || (want.group && !sameId(want.group, s.group, s.gid)))) out.push(`${e.path} is owned by ${s.owner}:${s.group}`);
  }
  return out;
}

function tarOpts(p: Params): string[] {
  return [...p.exclude.map((x) => `--exclude=${x}`), ...p.extra_opts];
}

/** chown of each entry the archive lists (`list` prints them), run from dest. */
function chownEntries(p: Params, list: string): string {
  if (!p.owner && !p.group) return '';
  const spec = p.owner ? (p.group ? `${p.owner}:${p.group}` : p.owner) : `:${p.group}`;
  return `\n${list} | ( cd -- ${quote(p.dest)} && while IFS= read -r f; do [ -e "$f" ] || [ -L "$f" ] || continue; chown -h ${quote(spec)} -- "$f" || exit 1; done )`;
}

function summary(diffs: string[]): string {
  return diffs.length > 3 ? `${diffs.slice(0, 3).join('; ')}; and ${diffs.length - 3} more` : diffs.join('; ');
}

function planController(p: Params, f: Facts): Plan {
  if (p.zipEntries) return planControllerZip(p, f);
  if (!p.entries || p.archive === undefined) return failPlan(`unarchive: ${p.src} was not read on the controller`);
  const state = f.state!;
  if (!state.dest) return failPlan(`unarchive: dest ${p.dest} must be an existing folder`);
  const entries = p.entries.filter((e) => !excluded(p, e.path));
  const base = { dest: p.dest, src: p.src, handler: 'TgzArchive', ...(p.list_files ? { files: entries.map((e) => (e.kind === 'directory' ? `${e.path}/` : e.path)) } : {}) };
  const diffs = differing(entries, state.entries, p);
  if (!diffs.length) return noop(`${p.dest} holds the ${entries.length} entries of ${p.src}`, { output: base });
  const tmp = `/tmp/.tsplay-unarchive-${p.archiveSha!.slice(0, 16)}`;
  const put: Step = { kind: 'put', path: tmp, content: Buffer.from(p.archive, 'base64'), mode: '0600', description: `copy ${p.src} to ${tmp}` };
  const extract: ExecStep = {
    kind: 'exec',
    cmd:
      `trap ${quote(`rm -f ${quote(tmp)}`)} EXIT INT TERM HUP\n` +
      sh`tar -x -f ${tmp} -C ${p.dest} ${tarOpts(p)}` +
      chownEntries(p, sh`tar -tf ${tmp} ${p.exclude.map((x) => `--exclude=${x}`)}`),
    description: `extract ${p.src} into ${p.dest}`,
  };
  return change(`extract ${p.src} into ${p.dest} (${summary(diffs)})`, [put, extract], { output: base });
}

function planRemote(p: Params, f: Facts): Plan {
  const d = f.diff!;
  if (!d.src) return failPlan(`unarchive: src ${p.src} does not exist on the host (remote_src: true)`);
  if ('zip' in d) return planRemoteZip(p, f.zip!);
  if (!d.dest) return failPlan(`unarchive: dest ${p.dest} must be an existing folder`);
  const files = d.files.filter((x) => !excluded(p, x.replace(/\/$/, '')));
  const base = { dest: p.dest, src: p.src, handler: 'TgzArchive', ...(p.list_files ? { files } : {}) };
  // Ownership is the owner/group parameters' business when they are given.
  const ignore = [...(p.owner ? [/: Uid differs$/] : []), ...(p.group ? [/: Gid differs$/] : [])];
  const relevant = d.differences.filter((l) => !ignore.some((r) => r.test(l)) && !excludedLine(p, l));
  const diffs = [...relevant, ...d.ownedOtherwise.map((x) => `${x} is owned otherwise`)];
  if (!diffs.length) return noop(`${p.dest} holds the ${files.length} entries of ${p.src}`, { output: base });
  const extract: ExecStep = {
    kind: 'exec',
    cmd: sh`tar -x -f ${p.src} -C ${p.dest} ${tarOpts(p)}` + chownEntries(p, sh`tar -tf ${p.src} ${p.exclude.map((x) => `--exclude=${x}`)}`),
    description: `extract ${p.src} into ${p.dest}`,
  };
  return change(`extract ${p.src} into ${p.dest} (${summary(diffs)})`, [extract], { output: base });
}

/** The first entries of a zip archive that dest does not hold as they are in it (contents by sha256). */
export function differingZip(entries: ZipEntry[], on: Record<string, EntryState>, sha: Record<string, string>, want: { owner?: string; group?: string }): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const s = on[e.path];
    if (!s || !s.exists) out.push(`${e.path} is missing`);
    else if (s.kind !== e.kind) out.push(`${e.path} is a ${s.kind}, not a ${e.kind}`);
    else if (e.kind === 'file' && (s.size !== e.size || sha[e.path] !== e.sha256)) out.push(`${e.path} differs (${s.size !== e.size ? 'size' : 'contents'})`);
    else if (e.kind !== 'link' && ((want.owner && !sameId(want.owner, s.owner, s.uid)) || (want.group && !sameId(want.group, s.group, s.gid)))) out.push(`${e.path} is owned by ${s.owner}:${s.group}`);
  }
  return out;
}

/** unzip into dest, then chown what the archive lists. */
function unzipCmd(p: Params, src: string): string {
  const excl = p.exclude.length ? ['-x', ...p.exclude] : [];
  return sh`unzip -o -q ${p.extra_opts} ${src} ${excl} -d ${p.dest}` + chownEntries(p, sh`unzip -Z1 ${src} ${excl}`);
}

function planControllerZip(p: Params, f: Facts): Plan {
  const state = f.state!;
  const digests = f.digests!;
  if (!state.dest || !digests.dest) return failPlan(`unarchive: dest ${p.dest} must be an existing folder`);
  const entries = p.zipEntries!.filter((e) => !excluded(p, e.path));
  const base = { dest: p.dest, src: p.src, handler: 'ZipArchive', ...(p.list_files ? { files: entries.map((e) => (e.kind === 'directory' ? `${e.path}/` : e.path)) } : {}) };
  const diffs = differingZip(entries, state.entries, digests.sha256, p);
  if (!diffs.length) return noop(`${p.dest} holds the ${entries.length} entries of ${p.src}`, { output: base });
  if (!digests.unzip) return failPlan(NO_UNZIP);
  const tmp = `/tmp/.tsplay-unarchive-${p.archiveSha!.slice(0, 16)}.zip`;
  const put: Step = { kind: 'put', path: tmp, content: Buffer.from(p.archive!, 'base64'), mode: '0600', description: `copy ${p.src} to ${tmp}` };
  const extract: ExecStep = { kind: 'exec', cmd: `trap ${quote(`rm -f ${quote(tmp)}`)} EXIT INT TERM HUP\n` + unzipCmd(p, tmp), description: `extract ${p.src} into ${p.dest}` };
  return change(`extract ${p.src} into ${p.dest} (${summary(diffs)})`, [put, extract], { output: base });
}

function planRemoteZip(p: Params, z: ZipDiffFact): Plan {
  if (!z.zip) return failPlan(`unarchive: could not read ${p.src} on the host as a zip archive`);
  if (!z.unzip) return failPlan(NO_UNZIP);
  if (!z.dest) return failPlan(`unarchive: dest ${p.dest} must be an existing folder`);
  const files = z.files.filter((x) => !excluded(p, x.replace(/\/$/, '')));
  const base = { dest: p.dest, src: p.src, handler: 'ZipArchive', ...(p.list_files ? { files } : {}) };
  const diffs = [...z.differences.filter((l) => !excludedLine(p, l)), ...z.ownedOtherwise.map((x) => `${x} is owned otherwise`)];
  if (!diffs.length) return noop(`${p.dest} holds the ${files.length} entries of ${p.src}`, { output: base });
  return change(`extract ${p.src} into ${p.dest} (${summary(diffs)})`, [{ kind: 'exec', cmd: unzipCmd(p, p.src), description: `extract ${p.src} into ${p.dest}` }], { output: base });
}

/** A tar --diff line about an excluded entry ("path: Mod time differs", "tar: path: Warning: Cannot stat..."). */
function excludedLine(p: Params, line: string): boolean {
  const m = /^(?:tar: )?(.+?): /.exec(line);
  return !!m && excluded(p, m[1]!.replace(/\/$/, ''));
}

function zipOrError(src: string, bytes: Buffer): ZipEntry[] {
  try {
    return zipEntries(bytes);
  } catch (e) {
    throw new Error(`src ${src}: ${(e as Error).message}`);
  }
}

export default defineModule<typeof params, Facts>({
  name: 'unarchive',
  summary: 'Extract a tar or zip archive into a folder on the host, only when the folder does not hold it already.',
  description:
    'dest must exist. From the controller (files/), tar and tar.gz archives are listed on the controller and each entry compared with the host ' +
    '(kind, size, modification time, and owner/group when given); the archive is then copied to a temp file and extracted. With `remote_src: true` the ' +
    'host\'s GNU tar compares (`tar --diff`, contents included, as Ansible does) and extracts (any compression tar reads). `creates` skips the task when ' +
    'a path exists (use it with extra_opts such as --strip-components, which the comparison does not follow). Zip archives (found by their contents, ' +
    'not their name) are extracted with the host\'s unzip (`unzip -o`; a missing unzip fails the task with what to install): from the controller each ' +
    'entry is read there (stored or deflated, no zip64) and compared with the host by kind, size, sha256 of the contents and owner/group; with ' +
    '`remote_src` the host\'s unzip compares the contents of each entry (`unzip -p` against the file). extra_opts go to tar -x or to unzip. ' +
    'Not supported yet: mode, keep_newer, include.',
  examples: [
    { title: 'An archive from files/', task: { name: 'Unpack the app', unarchive: { src: 'app-1.2.tar.gz', dest: '/opt/app', owner: 'app', group: 'app' } } },
    {
      title: 'An archive already on the host',
      task: { name: 'Unpack node_exporter', unarchive: { src: '/opt/node_exporter-1.8.2.linux-amd64.tar.gz', dest: '/opt', remote_src: true, creates: '/opt/node_exporter-1.8.2.linux-amd64/node_exporter' } },
    },
  ],
  params,
  output,
  localFiles: (p) => (p.remote_src === true || typeof p.src !== 'string' ? [] : [{ kind: 'files', name: p.src }]),
  prepare: async (p: Params, ctx) => {
    if (p.remote_src) return p;
    const bytes = await readFile(ctx.findFile('files', p.src));
    const fmt = archiveFormat(bytes);
    if (fmt === 'zip') return { ...p, archive: bytes.toString('base64'), archiveSha: createHash('sha256').update(bytes).digest('hex'), zipEntries: zipOrError(p.src, bytes) };
    if (fmt !== 'tar' && fmt !== 'gzip') throw new Error(`src ${p.src} is ${fmt === 'unknown' ? 'not a tar or zip archive' : `a ${fmt} archive`}: from the controller tsplay reads tar, tar.gz and zip (put other archives on the host and use remote_src: true)`);
    return { ...p, archive: bytes.toString('base64'), archiveSha: createHash('sha256').update(bytes).digest('hex'), entries: tarEntries(bytes) };
  },
  probe: (p: Params) => {
    const f: Record<string, unknown> = {};
    if (p.creates) f.creates = stat(p.creates);
    if (p.remote_src) {
      f.diff = tarDiff(p.src, p.dest, { owner: p.owner, group: p.group });
      f.zip = zipDiff(p.src, p.dest, { owner: p.owner, group: p.group });
    } else if (p.zipEntries) {
      const entries = p.zipEntries.filter((e) => !excluded(p, e.path));
      f.state = pathsState(p.dest, entries.map((e) => e.path));
      f.digests = fileDigests(p.dest, entries.filter((e) => e.kind === 'file').map((e) => e.path));
    } else f.state = pathsState(p.dest, (p.entries ?? []).filter((e) => !excluded(p, e.path)).map((e) => e.path));
    return f as never;
  },
  plan: (p: Params, f) => {
    if (p.creates && f.creates?.exists) return noop(`skipped, since ${normPath(p.creates)} exists`, { output: { dest: p.dest, src: p.src, handler: p.zipEntries || (f.diff?.src && 'zip' in f.diff) ? 'ZipArchive' : 'TgzArchive' } });
    return p.remote_src ? planRemote(p, f) : planController(p, f);
  },
});
