/**
 * Editing /etc/fstab for nfs-shares' mounts, as a pure function of the current text: each mount
 * owns the line whose mount point (field 2) is its path. That line is replaced in place (later
 * duplicates are dropped) or appended; every other line, comment and blank stays byte for byte.
 */
import { decodeOctal } from '../../../facts/nfs.js';
import type { MountSpec } from './nfs-params.js';

export const FSTAB = '/etc/fstab';

export function fstabLine(m: MountSpec): string {
  return `${m.src}\t${m.path}\t${m.fstype}\t${m.options}\t0\t0`;
}

/** The mount point of an fstab line, or undefined for comments, blanks and short lines. */
function mountPointOf(line: string): string | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const fields = t.split(/\s+/);
  return fields.length >= 2 ? decodeOctal(fields[1]!).replace(/(.)\/$/, '$1') : undefined;
}

export function updateFstab(current: string, mounts: MountSpec[]): string {
  const lines = current === '' ? [] : current.replace(/\n$/, '').split('\n');
  const want = new Map(mounts.map((m) => [m.path.replace(/(.)\/$/, '$1'), fstabLine(m)]));
  const placed = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const point = mountPointOf(line);
    const mine = point !== undefined ? want.get(point) : undefined;
    if (mine === undefined) out.push(line);
    else if (!placed.has(point!)) {
      out.push(mine);
      placed.add(point!);
    }
  }
  for (const [point, line] of want) if (!placed.has(point)) out.push(line);
  return out.length ? `${out.join('\n')}\n` : '';
}
