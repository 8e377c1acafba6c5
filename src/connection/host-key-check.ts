/**
 * Host key checking policy for one host, on top of known-hosts.ts:
 *   strict      unknown or changed key -> HostKeyError (the message says how to trust it)
 *   accept-new  unknown key is appended to the known_hosts file; a changed key still fails
 *   off         no check
 * Files: the configured one, else ~/.ssh/known_hosts (read and appended) and
 * /etc/ssh/ssh_known_hosts (read only), like OpenSSH.
 */
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { quote } from '../core/quote.js';
import {
  checkKnownHost,
  fingerprint,
  formatKnownHostsLine,
  hostKeyAlgorithms,
  hostToken,
  keyTypeOfBlob,
  parseKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';
import { HostKeyError } from './types.js';

export type HostKeyMode = 'strict' | 'accept-new' | 'off';

const USER_FILE_DISPLAY = '~/.ssh/known_hosts';
const SYSTEM_FILE = '/etc/ssh/ssh_known_hosts';

export class HostKeyCheck {
  readonly token: string;
  /** The file new keys are appended to. */
  readonly file: string;
  private readonly readFiles: string[];
  private readonly fileDisplay: string;
  private entries: KnownHostEntry[] = [];

  constructor(
    private readonly address: string,
    private readonly port: number,
    readonly mode: HostKeyMode,
    knownHostsFile?: string,
  ) {
    this.token = hostToken(address, port);
    if (knownHostsFile) {
      this.file = expandHome(knownHostsFile);
      this.readFiles = [this.file];
      this.fileDisplay = quote(this.file);
    } else {
      this.file = join(homedir(), '.ssh', 'known_hosts');
      this.readFiles = [this.file, SYSTEM_FILE];
      this.fileDisplay = USER_FILE_DISPLAY;
    }
  }

  /** Reads the known_hosts files (missing files count as empty). Call before connecting. */
  async load(): Promise<void> {
    if (this.mode === 'off') return;
    this.entries = (await Promise.all(this.readFiles.map(sharedEntries))).flat();
  }

  /** Host key algorithms to offer: known key types first. */
  algorithms(): string[] {
    return hostKeyAlgorithms(this.entries, this.token);
  }

  /** Accepts the server's key blob or throws HostKeyError. May append it (accept-new). */
  async verify(key: Buffer): Promise<void> {
    if (this.mode === 'off') return;
    const verdict = checkKnownHost(this.entries, this.token, key);
    if (verdict.status === 'known') return;
    if (verdict.status !== 'unknown' || this.mode === 'strict') throw this.error(verdict, key);
    await withFileLock(this.file, async () => {
      // Another connection may have added this host meanwhile: check again before appending.
      const fresh = await readEntries(this.file);
      const again = checkKnownHost(fresh, this.token, key);
      if (again.status === 'known') return;
      if (again.status !== 'unknown') throw this.error(again, key);
      await appendLine(this.file, formatKnownHostsLine(this.token, key));
    });
  }

  private error(verdict: ReturnType<typeof checkKnownHost>, key: Buffer): HostKeyError {
    const type = keyTypeOfBlob(key) ?? 'unknown';
    const fp = fingerprint(key);
    const removeOld = `ssh-keygen -R ${quote(this.token)} -f ${this.fileDisplay}`;
    switch (verdict.status) {
      case 'unknown': {
        const portFlag = this.port === 22 ? '' : `-p ${this.port} `;
        return new HostKeyError(
          `host key for ${this.token} is not known; to trust it run: ssh-keyscan ${portFlag}${quote(this.address)} >> ${this.fileDisplay} (or set host_key_checking: accept-new)`,
        );
      }
      case 'changed':
        return new HostKeyError(
          `HOST KEY CHANGED for ${this.token}: the server's ${type} key ${fp} does not match ${where(verdict.entry)}; possible man-in-the-middle attack (or the host was reinstalled); if the new key is expected, remove the old one with: ${removeOld}`,
        );
      case 'other-type':
        return new HostKeyError(
          `HOST KEY CHANGED for ${this.token}: the server offered a ${type} key ${fp} but ${where(verdict.entries[0]!)} lists only ${[...new Set(verdict.entries.map((e) => e.keyType))].join(', ')}; possible man-in-the-middle attack; if the new key is expected, remove the old one with: ${removeOld}`,
        );
      case 'revoked':
        return new HostKeyError(`host key ${fp} for ${this.token} is marked @revoked in ${where(verdict.entry)}; refusing to connect`);
      case 'known':
        throw new Error('bug: error() called for a known key');
    }
  }
}

function where(e: KnownHostEntry): string {
  return `${e.file}:${e.line}`;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** How many times a known_hosts file was read and parsed in this process (tests count them). */
export const knownHostsReads = { count: 0 };

/** Parsed known_hosts files, with the stat they were read at (path -> stamp, entries). */
const parsed = new Map<string, { stamp: string; entries: Promise<KnownHostEntry[]> }>();

/**
 * A known_hosts file's entries, parsed once for all the connections of a run: each connection
 * stats the file and parses it again only when it changed (another line appended by
 * accept-new, an edit). Without this, N hosts in one known_hosts of N lines cost N² parsed lines.
 */
async function sharedEntries(file: string): Promise<KnownHostEntry[]> {
  let stamp: string;
  try {
    const st = await stat(file);
    stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const hit = parsed.get(file);
  if (hit?.stamp === stamp) return hit.entries;
  // Read after the stat: the entries are at least as new as the stamp (a later change moves it).
  const entries = readEntries(file);
  parsed.set(file, { stamp, entries });
  entries.catch(() => parsed.get(file)?.entries === entries && parsed.delete(file));
  return entries;
}

async function readEntries(file: string): Promise<KnownHostEntry[]> {
  try {
    knownHostsReads.count++;
    return parseKnownHosts(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function appendLine(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const current = await readFile(file, 'utf8');
    if (current.length > 0 && !current.endsWith('\n')) prefix = '\n';
  } catch {
    // new file
  }
  await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
}

/** Serializes check-then-append per file within this process. */
const fileLocks = new Map<string, Promise<unknown>>();
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const previous = fileLocks.get(file) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(fn);
  fileLocks.set(file, next);
  try {
    return await next;
  } finally {
    if (fileLocks.get(file) === next) fileLocks.delete(file);
  }
}
