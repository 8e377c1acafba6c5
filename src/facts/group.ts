/** `group(name)`: the group entry (gid, members) from `getent group`. */
import { fact, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type GroupFact = { exists: false } | { exists: true; name: string; gid: number; members: string[] };

export function group(name: string): Fact<GroupFact> {
  return fact(keys.group(name), sh`getent group -- ${name} || echo absent`, (out) => {
    const line = outputLines(out)[0] ?? '';
    if (line === 'absent') return { exists: false };
    const f = line.split(':');
    if (f.length < 4) throw factFailed(`group ${name}`, out);
    return { exists: true, name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) };
  });
}
