/**
 * `mountState(path)`: what the kernel has mounted on a path, from /proc/self/mounts (the last
 * line for the path wins: the mount on top). Key `mount:PATH`. The path is matched in the
 * kernel's escaped form (space as \040, tab \011, newline \012, backslash \134).
 */
import { fact, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { normPath } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type MountFact = { mounted: false } | { mounted: true; src: string; fstype: string; opts: string };

/** A path as /proc/mounts and fstab write it (octal escapes for space, tab, newline, backslash). */
export const escapeMountField = (s: string) => s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
export const unescapeMountField = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export const mountKey = (path: string) => `mount:${normPath(path)}`;

export function mountState(path: string): Fact<MountFact> {
  const p = normPath(path);
  const command = sh`if [ ! -r /proc/self/mounts ]; then echo noproc; exit 0; fi; echo ok; grep -F -- ${` ${escapeMountField(p)} `} /proc/self/mounts; true`;
  return fact(mountKey(p), command, (out) => {
    const lines = outputLines(out);
    if (lines[0] !== 'ok') throw factFailed(`the mounts of the host (/proc/self/mounts)`, out);
    let found: MountFact = { mounted: false };
    for (const line of lines.slice(1)) {
      const f = line.split(' ');
      if (f.length < 4) throw factFailed(`the mounts of the host (/proc/self/mounts)`, out);
      if (unescapeMountField(f[1]!) === p) found = { mounted: true, src: unescapeMountField(f[0]!), fstype: f[2]!, opts: f[3]! };
    }
    return found;
  });
}
