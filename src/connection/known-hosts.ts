/**
 * OpenSSH known_hosts files, as pure functions: parse lines, match a host against an entry's
 * host patterns (plain names, `[host]:port`, comma lists, `*`/`?` wildcards, `!negation`,
 * hashed `|1|salt|hmac-sha1` entries), and decide whether a server's key is known, unknown or
 * changed. Reading and appending files is host-key-check.ts's job.
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  /** Where the entry came from, for messages. */
  file: string;
  /** 1-based line number. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written: patterns or a hashed name. */
  hosts: string;
  /** Key type from the key blob, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  keyType: string;
  /** The public key blob (SSH wire format), as sent by the server during key exchange. */
  key: Buffer;
}

/** Parses a known_hosts file. Blank lines, comments and malformed lines are skipped, like OpenSSH. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, typeField, base64] = fields;
    if (!hosts || !typeField || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    const keyType = keyTypeOfBlob(key);
    if (keyType === undefined || keyType !== typeField) return;
    entries.push({ file, line: i + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** Does an entry's host field match the token (from hostToken)? */
export function matchesHost(hosts: string, token: string): boolean {
  if (hosts.startsWith('|1|')) return matchesHashed(hosts, token);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1).toLowerCase(), token)) return false;
    } else if (wildcardMatch(pattern.toLowerCase(), token)) {
      matched = true;
    }
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, token))`, as written by `ssh-keygen -H`. */
function matchesHashed(hosts: string, token: string): boolean {
  const [, , salt, hash] = hosts.split('|');
  if (!salt || !hash) return false;
  const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64');
  return expected === hash;
}

/** OpenSSH's match_pattern: `*` is any run of characters, `?` any one character. */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === text;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(text);
}

/** Reads the key type (the first SSH string) of a public key blob; undefined when malformed. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[a-z0-9@.-]+$/.test(type) ? type : undefined;
}

/** `SHA256:...`, the fingerprint `ssh-keygen -lf` and ssh print. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** One known_hosts line for the token and key blob (no trailing newline). */
export function formatKnownHostsLine(token: string, key: Buffer): string {
  return `${token} ${keyTypeOfBlob(key) ?? 'unknown'} ${key.toString('base64')}`;
}

export type HostKeyVerdict =
  /** An entry holds exactly this key. */
  | { status: 'known'; entry: KnownHostEntry }
  /** No entry names this host. */
  | { status: 'unknown' }
  /** An entry for this host has the same key type but another key: possible man-in-the-middle. */
  | { status: 'changed'; entry: KnownHostEntry }
  /** The host is known, but only with keys of other types than the one the server offered. */
  | { status: 'other-type'; entries: KnownHostEntry[] }
  /** The key is listed as `@revoked`. */
  | { status: 'revoked'; entry: KnownHostEntry };

/** Checks a server key for a host token against parsed entries (OpenSSH's rules). */
export function checkKnownHost(entries: KnownHostEntry[], token: string, key: Buffer): HostKeyVerdict {
  const type = keyTypeOfBlob(key);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && matchesHost(e.hosts, token));
  const same = forHost.find((e) => e.key.equals(key));
  if (same) return { status: 'known', entry: same };
  const sameType = forHost.find((e) => e.keyType === type);
  if (sameType) return { status: 'changed', entry: sameType };
  if (forHost.length > 0) return { status: 'other-type', entries: forHost };
  return { status: 'unknown' };
}

/** Host key signature algorithms for each key type (RSA keys sign with several). */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms to offer, the key types already known for the host first (as OpenSSH does),
 * so a server with several host keys presents the one we can check.
 */
export function hostKeyAlgorithms(entries: KnownHostEntry[], token: string): string[] {
  const known = new Set(entries.filter((e) => e.marker === undefined && matchesHost(e.hosts, token)).map((e) => e.keyType));
  const all = Object.entries(ALGORITHMS_BY_KEY_TYPE);
  const first = all.filter(([t]) => known.has(t)).flatMap(([, algs]) => algs);
  const rest = all.filter(([t]) => !known.has(t)).flatMap(([, algs]) => algs);
  return [...first, ...rest];
}
