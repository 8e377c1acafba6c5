/**
 * Which Debian mirror the lab image is built from: the one this machine's apt already uses
 * (/etc/apt/sources.list and sources.list.d, both the one-line and the deb822 format), or
 * TSPLAY_DEBIAN_MIRROR (and optionally TSPLAY_DEBIAN_SECURITY_MIRROR) when set.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';

/** One apt source entry (a one-line `deb ...` line or a deb822 paragraph). */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

export interface DebianMirrors {
  /** Serves `bookworm` and `bookworm-updates`. */
  main: string;
  /** Serves `bookworm-security`, when the machine has one configured. */
  security?: string;
}

/** Parses the one-line format: `deb [opt=val ...] URI SUITE COMPONENT...`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (!line) continue;
    const withoutOptions = line.replace(/\[[^\]]*\]/, ' ');
    const [type, uri, suite, ...components] = withoutOptions.split(/\s+/);
    if (!type || !uri || !suite) continue;
    out.push({ types: [type], uris: [uri], suites: [suite], components });
  }
  return out;
}

/** Parses the deb822 format (`Types:`, `URIs:`, `Suites:`, `Components:`, `Enabled:`). */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  const paragraphs = text.split(/\n\s*\n/);
  for (const paragraph of paragraphs) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of paragraph.split('\n')) {
      if (line.startsWith('#') || !line.trim()) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    if (fields.get('enabled')?.toLowerCase() === 'no') continue;
    const words = (key: string) => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    const entry = { types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components') };
    if (entry.types.length && entry.uris.length && entry.suites.length) out.push(entry);
  }
  return out;
}

/** Reads every active apt source of this machine (`*.list` and `*.sources` only). */
export function readAptSources(aptDir = '/etc/apt'): AptSource[] {
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const out: AptSource[] = [];
  const main = read(join(aptDir, 'sources.list'));
  if (main) out.push(...parseOneLineSources(main));
  let names: string[] = [];
  try {
    names = readdirSync(join(aptDir, 'sources.list.d')).sort();
  } catch {
    // no sources.list.d
  }
  for (const name of names) {
    const text = read(join(aptDir, 'sources.list.d', name));
    if (text === undefined) continue;
    if (name.endsWith('.list')) out.push(...parseOneLineSources(text));
    else if (name.endsWith('.sources')) out.push(...parseDeb822Sources(text));
  }
  return out;
}

const usable = (uri: string) => /^https?:\/\//.test(uri);
const stripSlash = (uri: string) => uri.replace(/\/+$/, '');

/**
 * Picks the Debian mirrors among apt sources: the main archive is an entry serving `suite`
 * (else any `.../debian` archive: its host serves every suite), the security archive an entry
 * serving `<suite>-security`.
 */
export function pickDebianMirrors(sources: AptSource[], suite = 'bookworm'): DebianMirrors | undefined {
  const debs = sources.filter((s) => s.types.includes('deb'));
  const uris = (pred: (s: AptSource) => boolean) => debs.filter(pred).flatMap((s) => s.uris).filter(usable);
  const main =
    uris((s) => s.suites.includes(suite))[0] ??
    uris((s) => s.suites.some((x) => !x.endsWith('-security'))).find((u) => /\/debian\/?$/.test(u));
  if (!main) return undefined;
  const security = uris((s) => s.suites.includes(`${suite}-security`))[0];
  return { main: stripSlash(main), ...(security ? { security: stripSlash(security) } : {}) };
}

/** The mirrors to build from: TSPLAY_DEBIAN_MIRROR if set, else this machine's apt config. */
export function debianMirrors(env: NodeJS.ProcessEnv = process.env, aptDir = '/etc/apt'): DebianMirrors {
  const override = env.TSPLAY_DEBIAN_MIRROR?.trim();
  if (override) {
    const security = env.TSPLAY_DEBIAN_SECURITY_MIRROR?.trim();
    return { main: stripSlash(override), ...(security ? { security: stripSlash(security) } : {}) };
  }
  const picked = pickDebianMirrors(readAptSources(aptDir));
  if (!picked) {
    throw new UserError(
      `no Debian mirror found in ${aptDir}/sources.list or ${aptDir}/sources.list.d/: ` +
        'set TSPLAY_DEBIAN_MIRROR to a Debian archive URL (and optionally TSPLAY_DEBIAN_SECURITY_MIRROR)',
    );
  }
  return picked;
}
