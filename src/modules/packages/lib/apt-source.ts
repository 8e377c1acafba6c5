/**
 * What deb822_repository, apt_repository and apt_key share: the check a new source file passes
 * before it replaces the live one, the `apt-get update` that follows a change, and keys fetched
 * on the controller.
 *
 * The check (a put's `validate`, run on the temp file): apt parses the host's whole source
 * configuration with the new file in place of the old one (a malformed entry or an option that
 * conflicts with another file's fails it, offline). With `fetch`, apt-get update then downloads
 * the new file's own indexes into a scratch folder (`--error-on=any`: a missing Release file, a
 * bad signature or an unreachable repository fail it), leaving the host's lists and caches
 * alone. A source that fails is never written, so apt on the host keeps working.
 */
import { posix } from 'node:path';
import type { ExecStep } from '../../../core/module.js';
import { quote } from '../../../core/quote.js';
import { isArmoredKey } from './openpgp.js';

export const APT_GET = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300';

/** The `validate` command of a put of a source file at `dest` (`%s` is the temp file). */
export function validateSource(dest: string, fetch: boolean): string {
  const base = posix.basename(dest);
  // /etc/apt/sources.list itself is apt's main list; any other file is one of its parts.
  const main = posix.dirname(dest) !== '/etc/apt/sources.list.d';
  const lines = [
    'd=$(mktemp -d)',
    `for f in /etc/apt/sources.list.d/*; do if [ -f "$f" ] && [ "$f" != ${quote(dest)} ]; then cp "$f" "$d/"; fi; done`,
    main ? 'mkdir "$d/main" && cp %s "$d/main/sources.list"' : `cp %s "$d"/${quote(base)}`,
    `LC_ALL=C apt-get -o Dir::Etc::SourceParts="$d"${main ? ' -o Dir::Etc::SourceList="$d/main/sources.list"' : ''} indextargets >/dev/null; rc=$?`,
  ];
  if (fetch) {
    lines.push(
      `if [ $rc -eq 0 ]; then mkdir -p "$d/only" "$d/lists/partial" && cp %s "$d/only"/${quote(base)} && ` +
        'LC_ALL=C apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/only" -o Dir::State::Lists="$d/lists" ' +
        '-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root -o Debug::NoLocking=1 update --error-on=any >/dev/null; rc=$?; fi',
    );
  }
  lines.push('rm -rf "$d"', 'exit $rc');
  return `( ${lines.join('; ')} )`;
}

/** apt-get update after a source changed (and the stamp apt's cache_valid_time reads). */
export function updateCacheStep(): ExecStep {
  return { kind: 'exec', cmd: `${APT_GET} update && touch /var/lib/apt/lists`, description: 'apt-get update', touches: ['apt:cache'] };
}


/** Downloads a key on the controller (prepare); armored keys come back as text, binary as base64. */
export async function fetchKey(url: string, timeoutSeconds: number, validateCerts: boolean): Promise<{ text?: string; base64?: string }> {
  if (!validateCerts) throw new Error('validate_certs: false is not supported: tsplay downloads the key on the controller');
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutSeconds * 1000), redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Error(`could not download the key ${url} on the controller: ${cause ?? (e as Error).message}`);
  }
  if (!res.ok) throw new Error(`could not download the key ${url} on the controller: HTTP ${res.status} ${res.statusText}`);
  const body = Buffer.from(await res.arrayBuffer());
  if (isArmoredKey(body)) return { text: body.toString('utf8') };
  // A binary key starts with a public-key packet: tag 6 (old format 0x98/0x99, new 0xc6).
  if (![0x98, 0x99, 0x9a, 0xc6].includes(body[0] ?? 0)) throw new Error(`${url} is not an OpenPGP public key (neither armored nor a binary key packet)`);
  return { base64: body.toString('base64') };
}
