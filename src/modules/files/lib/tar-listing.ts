/**
 * The entries of a tar archive (plain or gzip-compressed) read on the controller, for unarchive's
 * comparison with what is on the host: path, kind, size, mtime and mode of each. Reads ustar
 * headers, GNU long names (`L`/`K`) and pax `path`/`linkpath`/`size`/`mtime` records.
 */
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  /** Relative path, without a leading "./" or a trailing "/". */
  path: string;
  kind: 'file' | 'directory' | 'link' | 'hardlink' | 'other';
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Permission bits, four octal digits. */
  mode: string;
}

/** What kind of archive the bytes are, by their magic numbers. */
export function archiveFormat(bytes: Buffer): 'gzip' | 'bzip2' | 'xz' | 'zip' | 'tar' | 'unknown' {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return 'zip';
  if (bytes.length >= 512 && bytes.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return 'unknown';
}

const str = (b: Buffer, off: number, len: number) => {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return (nul >= 0 ? s.subarray(0, nul) : s).toString('utf8');
};

function octal(b: Buffer, off: number, len: number): number {
  // GNU base-256 for large values: the high bit of the first byte is set.
  if (b[off]! & 0x80) {
    let n = 0;
    for (let i = 1; i < len; i++) n = n * 256 + b[off + i]!;
    return n;
  }
  const s = str(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.subarray(i, sp).toString('latin1'));
    if (!len) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

const clean = (p: string) => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/** The entries of a tar or tar.gz archive; throws on anything else. */
export function tarEntries(archive: Buffer): TarEntry[] {
  const fmt = archiveFormat(archive);
  if (fmt !== 'gzip' && fmt !== 'tar') throw new Error(`not a tar or tar.gz archive (${fmt})`);
  const tar = fmt === 'gzip' ? gunzipSync(archive) : archive;
  const out: TarEntry[] = [];
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const type = String.fromCharCode(h[156] || 0x30);
    const size = octal(h, 124, 12);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(data, 0, data.length);
      continue;
    }
    if (type === 'K') continue;
    if (type === 'x') {
      pax = paxRecords(data);
      continue;
    }
    if (type === 'g') continue;
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? str(h, 345, 155) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    const kind: TarEntry['kind'] = type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'directory' : type === '2' ? 'link' : type === '1' ? 'hardlink' : 'other';
    const path = clean(name);
    if (path && path !== '.') {
      out.push({
        path,
        kind,
        size: pax.size !== undefined ? Number(pax.size) : kind === 'file' ? size : 0,
        mtime: pax.mtime !== undefined ? Math.floor(Number(pax.mtime)) : octal(h, 136, 12),
        mode: (octal(h, 100, 8) & 0o7777).toString(8).padStart(4, '0'),
      });
    }
    longName = undefined;
    pax = {};
  }
  return out;
}
