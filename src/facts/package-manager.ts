/**
 * `packageManager()`: the host's package manager, found by the first of its commands on PATH
 * (apt-get, dnf, yum, zypper, pacman, apk), or null. Key `pkg_mgr`.
 */
import { fact, type Fact } from '../core/module.js';
import { factFailed, outputLines } from './util.js';

export type PackageManager = 'apt' | 'dnf' | 'yum' | 'zypper' | 'pacman' | 'apk';

export interface PackageManagerFact {
  name: PackageManager | null;
}

const COMMANDS: Array<[string, PackageManager]> = [
  ['apt-get', 'apt'],
  ['dnf', 'dnf'],
  ['yum', 'yum'],
  ['zypper', 'zypper'],
  ['pacman', 'pacman'],
  ['apk', 'apk'],
];

export function packageManager(): Fact<PackageManagerFact> {
  // No `exit`: facts run batched in one script.
  const command =
    `pm=none; for m in ${COMMANDS.map(([c]) => c).join(' ')}; do if command -v "$m" >/dev/null 2>&1; then pm=$m; break; fi; done; echo "$pm"`;
  return fact('pkg_mgr', command, (out) => {
    const first = outputLines(out)[0];
    if (first === 'none') return { name: null };
    const found = COMMANDS.find(([c]) => c === first);
    if (!found) throw factFailed('the package manager', out);
    return { name: found[1] };
  });
}
