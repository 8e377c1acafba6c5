/**
 * HTTP on the host, for get_url and uri: which client the host has (`httpClient`), the curl or
 * wget command line of a request (`fetchCommand`, shared with the modules' steps), and
 * `urlDigest`: the digest of what a URL serves now, fetched to a temp file that is removed at
 * once (read-only apart from that temp file), so that a forced get_url knows in check mode too
 * whether the file would change.
 */
import { createHash } from 'node:crypto';
import { fact, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import type { ChecksumAlgorithm } from './path-info.js';
import { factFailed, outputLines } from './util.js';

export interface HttpClientFact {
  curl: boolean;
  wget: boolean;
}

export function httpClient(): Fact<HttpClientFact> {
  const command = 'for c in curl wget; do if command -v "$c" >/dev/null 2>&1; then echo "$c"; fi; done';
  return fact('http-client', command, (out) => {
    const found = outputLines(out);
    return { curl: found.includes('curl'), wget: found.includes('wget') };
  });
}

/** How a request is made (Ansible's url_* parameters). */
export interface FetchOptions {
  headers?: Record<string, string>;
  timeout: number;
  validateCerts: boolean;
  username?: string;
  password?: string;
  userAgent?: string;
}

/**
 * A command that downloads `url` into the file `$out` names (a shell expression, e.g. `"$tmp"`),
 * failing (non-zero) on an HTTP error; curl prints the status code on stdout.
 */
export function fetchCommand(client: 'curl' | 'wget', url: string, out: string, o: FetchOptions): string {
  const headers = Object.entries(o.headers ?? {});
  if (client === 'curl') {
    const args: string[] = ['-sS', '-L', '-f', '--max-time', String(o.timeout), '-w', '%{http_code}'];
    if (!o.validateCerts) args.push('-k');
    for (const [k, v] of headers) args.push('-H', `${k}: ${v}`);
    if (o.username !== undefined) args.push('-u', `${o.username}:${o.password ?? ''}`);
    if (o.userAgent) args.push('-A', o.userAgent);
    return sh`curl ${args} -o ${raw(out)} -- ${url}`;
  }
  const args: string[] = ['-q', '-T', String(o.timeout)];
  if (!o.validateCerts) args.push('--no-check-certificate');
  for (const [k, v] of headers) args.push(`--header=${k}: ${v}`);
  if (o.username !== undefined) args.push(`--user=${o.username}`, `--password=${o.password ?? ''}`);
  if (o.userAgent) args.push(`--user-agent=${o.userAgent}`);
  return sh`wget ${args} -O ${raw(out)} -- ${url}`;
}

export type UrlDigestFact =
  /** `onlyIf` named a path that is not a regular file: nothing was fetched. */
  | { fetched: false }
  | { fetched: true; digest: string }
  | { fetched: true; error: string };

/**
 * The `algorithm` digest of what `url` serves, read with curl (or wget) on the host. With `onlyIf`
 * (a shell test, e.g. `[ -f /usr/local/bin/app ]`) it fetches only when the test holds.
 */
export function urlDigest(url: string, algorithm: ChecksumAlgorithm, o: FetchOptions, onlyIf?: string): Fact<UrlDigestFact> {
  const get = (client: 'curl' | 'wget') =>
    `if ${fetchCommand(client, url, '"$tmp"', o)} >/dev/null 2>"$tmp.err"; then echo "digest:$(${algorithm}sum < "$tmp" | cut -d ' ' -f 1)"; ` +
    `else echo "error:$(tail -n 1 "$tmp.err")"; fi`;
  const fetch =
    'tmp=$(mktemp) || exit 1; ' +
    `if command -v curl >/dev/null 2>&1; then ${get('curl')}; elif command -v wget >/dev/null 2>&1; then ${get('wget')}; ` +
    'else echo "error:the host has neither curl nor wget"; fi; rm -f "$tmp" "$tmp.err"';
  const command = onlyIf ? `if ${onlyIf}; then ${fetch}; else echo skipped; fi` : fetch;
  // Headers and credentials change what is fetched: they are in the key, hashed (never shown).
  const opts = createHash('sha256').update(JSON.stringify([o, onlyIf ?? ''])).digest('hex').slice(0, 12);
  return fact(`url-digest:${algorithm}:${opts}:${url}`, command, (out) => {
    const line = outputLines(out)[0] ?? '';
    if (line === 'skipped') return { fetched: false };
    if (line.startsWith('digest:')) return { fetched: true, digest: line.slice(7) };
    if (line.startsWith('error:')) return { fetched: true, error: line.slice(6) || 'the download failed' };
    throw factFailed(`the digest of ${url}`, out);
  });
}
