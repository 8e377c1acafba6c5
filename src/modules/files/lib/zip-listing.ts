/**
 * The entries of a zip archive read on the controller, for unarchive's comparison with the host:
 * path, kind, size, mode, and the sha256 of each file's contents (inflated here) or a link's
 * target. Reads the central directory (no zip64, no encryption; stored and deflated entries).
 */
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Relative path, without a leading "./" or a trailing "/". */
  path: string;
  kind: 'file' | 'directory' | 'link';
  size: number;
  /** Permission bits, four octal digits (0644/0755 when the archive has no unix mode). */
  mode: string;
  /** A file's sha256, or a link's target. */
  sha256?: string;
  target?: string;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function zipEntries(zip: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let off = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || off === 0xffffffff) throw new Error('zip64 archives are not read on the controller (put it on the host and use remote_src: true)');
  const out: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(off) !== CENTRAL) throw new Error('damaged zip archive (bad central directory)');
    const madeBy = zip.readUInt16LE(off + 4);
    const flags = zip.readUInt16LE(off + 8);
    const method = zip.readUInt16LE(off + 10);
    const compSize = zip.readUInt32LE(off + 20);
    const size = zip.readUInt32LE(off + 24);
    const nameLen = zip.readUInt16LE(off + 28);
    const extraLen = zip.readUInt16LE(off + 30);
    const commentLen = zip.readUInt16LE(off + 32);
    const attrs = zip.readUInt32LE(off + 38);
    const local = zip.readUInt32LE(off + 42);
    const name = zip.subarray(off + 46, off + 46 + nameLen).toString('utf8');
    off += 46 + nameLen + extraLen + commentLen;
    const unixMode = madeBy >> 8 === 3 ? attrs >>> 16 : 0;
    const dir = name.endsWith('/');
    const link = !dir && (unixMode & 0o170000) === 0o120000;
    const path = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (!path || path === '.') continue;
    if (path.split('/').includes('..') || path.startsWith('/')) throw new Error(`zip entry ${name} points outside dest`);
    const mode = (unixMode & 0o7777 || (dir ? 0o755 : 0o644)).toString(8).padStart(4, '0');
    if (dir) {
      out.push({ path, kind: 'directory', size: 0, mode });
      continue;
    }
    if (flags & 1) throw new Error(`zip entry ${name} is encrypted`);
    if (zip.readUInt32LE(local) !== LOCAL) throw new Error('damaged zip archive (bad local header)');
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compSize);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) data = inflateRawSync(raw);
    else throw new Error(`zip entry ${name} uses compression method ${method}: tsplay reads stored and deflated entries (put it on the host and use remote_src: true)`);
    if (link) out.push({ path, kind: 'link', size: 0, mode, target: data.toString('utf8') });
    else out.push({ path, kind: 'file', size, mode, sha256: createHash('sha256').update(data).digest('hex') });
  }
  return out;
}
