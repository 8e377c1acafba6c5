/**
 * Debian package facts:
 *   debPackage(name)    installed state and version (dpkg-query), key `pkg:NAME`
 *   aptCandidate(name)  version apt would install now (apt-cache policy), key `apt-candidate:NAME`
 *   debPackages(names)  both of the above for several packages, keyed by fact key
 *   aptCacheAge()       seconds since the package lists were last updated, key `apt:cache`
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { debName, keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export interface DebPackageFact {
  name: string;
  installed: boolean;
  /** Installed version (or the version of leftover config files); absent when unknown. */
  version?: string;
  /** dpkg status, e.g. "install ok installed", "deinstall ok config-files". Absent when dpkg does not know the package. */
  status?: string;
}

export interface AptCandidateFact {
  name: string;
  /** Version `apt-get install` would install; null when apt knows no such package. */
  candidate: string | null;
}

export interface AptCacheFact {
  /** Seconds since the last successful `apt-get update`; null when the lists were never downloaded. */
  ageSeconds: number | null;
}

export function debPackage(spec: string): Fact<DebPackageFact> {
  const name = debName(spec);
  return fact(keys.pkg(name), sh`dpkg-query -W -f=${'${Status}|${Version}\\n'} -- ${name} 2>/dev/null`, (out) =>
    parseDpkg(name, out),
  );
}

function parseDpkg(name: string, out: ExecResult): DebPackageFact {
  const rows = outputLines(out).map((l) => {
    const bar = l.lastIndexOf('|');
    return { status: l.slice(0, bar), version: l.slice(bar + 1) };
  });
  if (rows.length === 0) {
    if (out.code !== 0 && out.code !== 1) throw factFailed(`dpkg status of ${name}`, out);
    return { name, installed: false };
  }
  // Several rows for multi-arch packages (libc6:amd64 and libc6:i386): installed if any is.
  const row = rows.find((r) => r.status.endsWith(' installed')) ?? rows[0]!;
  const result: DebPackageFact = { name, installed: row.status.endsWith(' installed'), status: row.status };
  if (row.version) result.version = row.version;
  return result;
}

export function aptCandidate(spec: string): Fact<AptCandidateFact> {
  const name = debName(spec);
  return fact(keys.aptCandidate(name), sh`LC_ALL=C apt-cache policy -- ${name} 2>/dev/null`, (out) => {
    const line = outputLines(out).find((l) => /^\s*Candidate:/.test(l));
    const value = line?.replace(/^\s*Candidate:\s*/, '').trim();
    return { name, candidate: value && value !== '(none)' ? value : null };
  });
}

/** Facts for several packages, keyed by fact key (`pkg:NAME`, and `apt-candidate:NAME` with candidates). */
export function debPackages(specs: string[], opts: { candidates?: boolean } = {}): Record<string, Fact<DebPackageFact | AptCandidateFact>> {
  const out: Record<string, Fact<DebPackageFact | AptCandidateFact>> = {};
  for (const spec of specs) {
    const pkg = debPackage(spec);
    out[pkg.key] = pkg;
    if (opts.candidates) {
      const cand = aptCandidate(spec);
      out[cand.key] = cand;
    }
  }
  return out;
}

/**
 * Newest of: the lists folder's mtime (tsplay touches it after each update) and the periodic
 * stamp some systems keep. Lists without any Packages file count as never updated.
 */
export function aptCacheAge(): Fact<AptCacheFact> {
  const command =
    'date +%s; if ls /var/lib/apt/lists 2>/dev/null | grep -q _Packages; then ' +
    'stat -c %Y /var/lib/apt/lists /var/lib/apt/periodic/update-success-stamp 2>/dev/null; fi';
  return fact(keys.aptCache(), command, (out) => {
    const nums = outputLines(out).map(Number);
    if (nums.length === 0 || nums.some((n) => !Number.isFinite(n))) throw factFailed('the age of the apt cache', out);
    const [now, ...mtimes] = nums as [number, ...number[]];
    return { ageSeconds: mtimes.length ? Math.max(0, now - Math.max(...mtimes)) : null };
  });
}
