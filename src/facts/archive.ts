/**
 * What unarchive compares: `pathsState(dest, paths)` reads kind, size, mtime, owner and mode of
 * the archive's entries under dest (the entries listed on the controller); `tarDiff(src, dest)`
 * compares an archive on the host with dest through GNU tar's --diff (as Ansible does), lists
 * its entries and, with an owner or group, names entries owned otherwise.
 */
import { createHash } from 'node:crypto';
import { fact, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { normPath } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type EntryState =
  | { exists: false }
  | { exists: true; kind: 'file' | 'directory' | 'link' | 'other'; size: number; mtime: number; owner: string; group: string; uid: number; gid: number; mode: string };

export type PathsStateFact = { dest: false } | { dest: true; entries: Record<string, EntryState> };

const KINDS: Record<string, 'file' | 'directory' | 'link'> = { 'regular file': 'file', 'regular empty file': 'file', directory: 'directory', 'symbolic link': 'link' };

export function pathsState(dest: string, paths: string[]): Fact<PathsStateFact> {
  const command =
    sh`cd -- ${dest} 2>/dev/null || { echo nodest; exit 0; }; ` +
    sh`for f in ${paths.length ? paths : ['.']}; do if [ -e "$f" ] || [ -L "$f" ]; then stat -c '%F|%s|%Y|%U|%G|%u|%g|%a|%n' -- "$f"; else printf 'absent|%s\\n' "$f"; fi; done`;
  const digest = createHash('sha256').update(paths.join('\0')).digest('hex').slice(0, 16);
  return fact(`paths-state:${digest}:${normPath(dest)}`, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] === 'nodest') return { dest: false };
    const entries: Record<string, EntryState> = {};
    for (const line of lines) {
      if (line.startsWith('absent|')) {
        entries[line.slice(7)] = { exists: false };
        continue;
      }
      const f = line.split('|');
      if (f.length < 9) throw factFailed(`the files under ${dest}`, out);
      const [kind, size, mtime, owner, group, uid, gid, mode] = f as [string, string, string, string, string, string, string, string];
      entries[f.slice(8).join('|')] = { exists: true, kind: KINDS[kind] ?? 'other', size: Number(size), mtime: Number(mtime), owner, group, uid: Number(uid), gid: Number(gid), mode: mode.padStart(4, '0') };
    }
    return { dest: true, entries };
  });
}

export type TarDiffFact =
  | { src: false }
  /** src is a zip archive (read with zipDiff). */
  | { src: true; zip: true }
  | { src: true; dest: false }
  | {
      src: true;
      dest: true;
      /** Entries as tar lists them. */
      files: string[];
      /** tar --diff's lines (differences and missing files); empty when dest holds the archive. */
      differences: string[];
      /** Entries whose owner or group is not the wanted one (at most 5). */
      ownedOtherwise: string[];
    };

const idTest = (kind: 'user' | 'group', spec: string) => (/^\d+$/.test(spec) ? sh`${raw(kind === 'user' ? '! -uid' : '! -gid')} ${spec}` : sh`${raw(`! -${kind}`)} ${spec}`);

export function tarDiff(src: string, dest: string, want: { owner?: string; group?: string } = {}): Fact<TarDiffFact> {
  const tests = [want.owner ? idTest('user', want.owner) : '', want.group ? idTest('group', want.group) : ''].filter(Boolean);
  const owners = tests.length
    ? sh`echo '--owners--'; tar -tf ${src} 2>/dev/null | while IFS= read -r f; do find ${dest}/"$f" -maxdepth 0 \\( ${raw(tests.join(' -o '))} \\) -print 2>/dev/null; done | head -n 5; `
    : '';
  const command =
    sh`if [ ! -f ${src} ]; then echo nosrc; exit 0; fi; if [ "$(head -c 2 ${src})" = PK ]; then echo zip; exit 0; fi; if [ ! -d ${dest} ]; then echo nodest; exit 0; fi; ` +
    sh`echo '--list--'; tar -tf ${src} || exit 1; echo '--diff--'; tar -d -f ${src} -C ${dest} 2>&1; echo "rc:$?"; ` +
    owners;
  const key = `tar-diff:${normPath(src)}:${normPath(dest)}:${want.owner ?? ''}:${want.group ?? ''}`;
  return fact(key, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] === 'nosrc') return { src: false };
    if (lines[0] === 'zip') return { src: true, zip: true };
    if (lines[0] === 'nodest') return { src: true, dest: false };
    const at = (m: string) => lines.indexOf(m);
    const rcLine = lines.findIndex((l) => /^rc:\d+$/.test(l));
    if (at('--list--') !== 0 || at('--diff--') < 0 || rcLine < 0) throw factFailed(`the archive ${src}`, out);
    const rc = Number(lines[rcLine]!.slice(3));
    if (rc > 1) throw factFailed(`the archive ${src} (tar --diff exit ${rc})`, { ...out, stderr: lines.slice(at('--diff--') + 1, rcLine).join('\n') });
    const o = at('--owners--');
    return {
      src: true,
      dest: true,
      files: lines.slice(1, at('--diff--')),
      differences: lines.slice(at('--diff--') + 1, rcLine).filter((l) => !/^tar: Removing leading/.test(l)),
      ownedOtherwise: o >= 0 ? lines.slice(o + 1) : [],
    };
  });
}

export type FileDigestsFact = { dest: false } | { dest: true; unzip: boolean; sha256: Record<string, string> };

/** The sha256 of the regular files (not links) among `files` under dest, and whether the host has unzip (controller zip archives). */
export function fileDigests(dest: string, files: string[]): Fact<FileDigestsFact> {
  const command =
    sh`cd -- ${dest} 2>/dev/null || { echo nodest; exit 0; }; if command -v unzip >/dev/null 2>&1; then echo unzip:yes; else echo unzip:no; fi; ` +
    (files.length ? sh`for f in ${files}; do if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s|%s\\n' "$(sha256sum < "$f" | cut -c1-64)" "$f"; fi; done; ` : '') +
    'true';
  const digest = createHash('sha256').update(files.join('\0')).digest('hex').slice(0, 16);
  return fact(`file-digests:${digest}:${normPath(dest)}`, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] === 'nodest') return { dest: false };
    if (lines[0] !== 'unzip:yes' && lines[0] !== 'unzip:no') throw factFailed(`the files under ${dest}`, out);
    const sha256: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const m = /^([0-9a-f]{64})\|(.*)$/.exec(l);
      if (!m) throw factFailed(`the files under ${dest}`, out);
      sha256[m[2]!] = m[1]!;
    }
    return { dest: true, unzip: lines[0] === 'unzip:yes', sha256 };
  });
}

export type ZipDiffFact =
  | { zip: false }
  | { zip: true; unzip: false }
  | { zip: true; unzip: true; dest: false }
  | { zip: true; unzip: true; dest: true; files: string[]; differences: string[]; ownedOtherwise: string[] };

/** Entries (at most) whose difference zipDiff reports. */
const MAX_DIFFERENCES = 50;

/**
 * A zip archive on the host compared with dest by the host's unzip: every entry's contents
 * (`unzip -p` against the file, a link's target against readlink), missing entries, and with an
 * owner or group the entries owned otherwise. `{zip: false}` when src is absent or not a zip.
 */
export function zipDiff(src: string, dest: string, want: { owner?: string; group?: string } = {}): Fact<ZipDiffFact> {
  const tests = [want.owner ? idTest('user', want.owner) : '', want.group ? idTest('group', want.group) : ''].filter(Boolean);
  // unzip reads member names as patterns: [ ] * ? and \ are escaped.
  const esc = `p=$(printf '%s' "$e" | sed 's/[][*?\\\\]/\\\\&/g')`;
  const owners = tests.length
    ? sh`echo '--owners--'; unzip -Z1 ${src} | while IFS= read -r f; do find ${dest}/"$f" -maxdepth 0 \\( ${raw(tests.join(' -o '))} \\) -print 2>/dev/null; done | head -n 5; `
    : '';
  const command =
    sh`if [ ! -f ${src} ] || [ "$(head -c 2 ${src})" != PK ]; then echo nozip; exit 0; fi; ` +
    sh`if ! command -v unzip >/dev/null 2>&1; then echo nounzip; exit 0; fi; if [ ! -d ${dest} ]; then echo nodest; exit 0; fi; ` +
    sh`echo '--list--'; unzip -Z1 ${src} || exit 1; echo '--diff--'; ` +
    sh`unzip -Z1 ${src} | while IFS= read -r e; do d=${dest}/"$e"; ` +
    sh`case "$e" in */) [ -d "$d" ] || echo "$e: missing"; continue;; esac; ${raw(esc)}; ` +
    sh`if [ -L "$d" ]; then [ "$(unzip -p ${src} "$p")" = "$(readlink "$d")" ] || echo "$e: link differs"; ` +
    sh`elif [ ! -f "$d" ]; then echo "$e: missing"; elif ! unzip -p ${src} "$p" | cmp -s - "$d"; then echo "$e: contents differ"; fi; ` +
    sh`done | head -n ${MAX_DIFFERENCES}; ` +
    owners;
  const key = `zip-diff:${normPath(src)}:${normPath(dest)}:${want.owner ?? ''}:${want.group ?? ''}`;
  return fact(key, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] === 'nozip') return { zip: false };
    if (lines[0] === 'nounzip') return { zip: true, unzip: false };
    if (lines[0] === 'nodest') return { zip: true, unzip: true, dest: false };
    const d = lines.indexOf('--diff--');
    if (lines[0] !== '--list--' || d < 0) throw factFailed(`the zip archive ${src}`, out);
    const o = lines.indexOf('--owners--');
    return {
      zip: true,
      unzip: true,
      dest: true,
      files: lines.slice(1, d),
      differences: lines.slice(d + 1, o >= 0 ? o : undefined),
      ownedOtherwise: o >= 0 ? lines.slice(o + 1) : [],
    };
  });
}
