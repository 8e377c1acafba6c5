/**
 * OpenSSH client configuration (`~/.ssh/config`, `/etc/ssh/ssh_config`, a file given with
 * `-F` or `ssh_config_file`), read as ssh(1) reads it: `Host` blocks whose patterns match the
 * name given (`*`, `?`, `!negation`, several patterns), `Match` blocks (`all`, `host`,
 * `originalhost`, `user`, `localuser`; `exec` and the rest are skipped with a note), `Include`
 * (globs; relative to ~/.ssh, or /etc/ssh for the system file), and for each keyword the first
 * value obtained wins (IdentityFile accumulates). The same rules give the options of
 * `ansible_ssh_common_args` (ssh-args.ts): they are one more block read before the files.
 *
 * Values are returned raw with where they were written; ssh-target.ts turns them into settings.
 * Files are read synchronously, once per SshConfigFiles (one per run).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { UserError, type SourcePos } from '../core/errors.js';
import { wildcardMatch } from './known-hosts.js';

/** A value and where it was written (pos.file is a config file, or the variable that held it). */
export interface Setting {
  value: string;
  pos: SourcePos;
}

/** The settings of one host that tsplay honours, as written. */
export interface SshHostConfig {
  hostName?: Setting;
  user?: Setting;
  port?: Setting;
  /** In the order ssh tries them. */
  identityFiles: Setting[];
  identitiesOnly?: Setting;
  /** ProxyJump or ProxyCommand, whichever came first (as in ssh). */
  proxy?: Setting & { kind: 'jump' | 'command' };
  strictHostKeyChecking?: Setting;
  userKnownHostsFile?: Setting;
  connectTimeout?: Setting;
  /** Options that applied to the host but that tsplay does not honour. */
  ignored: { keyword: string; pos: SourcePos; why?: string }[];
}

/** Keywords tsplay honours, by their lower-case name. */
const HONOURED = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'proxyjump',
  'proxycommand',
  'stricthostkeychecking',
  'userknownhostsfile',
  'connecttimeout',
]);

/**
 * Keywords accepted without a note: tsplay already does what they ask (one connection per host
 * for the run, keepalives, known_hosts as ssh keeps them), or they concern only interactive ssh
 * sessions or ssh's own output.
 */
const HARMLESS = new Set([
  'addkeystoagent',
  'checkhostip',
  'compression',
  'connectionattempts',
  'controlmaster',
  'controlpath',
  'controlpersist',
  'escapechar',
  'forwardx11',
  'forwardx11trusted',
  'globalknownhostsfile',
  'gssapiauthentication',
  'gssapidelegatecredentials',
  'hashknownhosts',
  'ignoreunknown',
  'loglevel',
  'requesttty',
  'sendenv',
  'serveraliveinterval',
  'serveralivecountmax',
  'tcpkeepalive',
  'updatehostkeys',
  'usekeychain',
  'verifyhostkeydns',
  'visualhostkey',
]);

/** One line of a config file: the keyword (lower case) and its arguments. */
export interface ConfigLine {
  keyword: string;
  /** The keyword as written, for messages. */
  name: string;
  args: string[];
  pos: SourcePos;
}

/**
 * Splits config text into lines of keyword and arguments. `keyword value`, `keyword=value`,
 * double-quoted arguments, `#` comments (a whole line, or a word starting with `#`).
 */
export function parseSshConfig(text: string, file: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const pos = { file, line: i + 1, col: raw.length - raw.trimStart().length + 1 };
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+|$)(.*)$/.exec(raw);
    if (!m) {
      if (raw.trim() === '' || raw.trim().startsWith('#')) return;
      throw new UserError({ severity: 'error', message: `cannot read this line of the ssh config: ${JSON.stringify(raw.trim())}`, pos });
    }
    const args = splitWords(m[2]!, (why) => new UserError({ severity: 'error', message: `${m[1]}: ${why}`, pos }));
    out.push({ keyword: m[1]!.toLowerCase(), name: m[1]!, args, pos });
  });
  return out;
}

/** Words separated by blanks; double quotes group; a word starting with `#` ends the line. */
function splitWords(text: string, fail: (why: string) => Error): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break;
    let word = '';
    while (i < text.length && !/\s/.test(text[i]!)) {
      if (text[i] === '"') {
        const end = text.indexOf('"', i + 1);
        if (end < 0) throw fail('unterminated quote');
        word += text.slice(i + 1, end);
        i = end + 1;
      } else word += text[i++];
    }
    words.push(word);
  }
  return words;
}

/** The name being looked up and what a Match block can test. */
interface LookupState {
  /** The name given (inventory_hostname, or ansible_host). */
  original: string;
  /** A user set before the files (inventory, command line). */
  user?: string;
  result: SshHostConfig;
}

/** A top-level config file; `system` files include relative to /etc/ssh, the others to ~/.ssh. */
export interface ConfigFile {
  path: string;
  system?: boolean;
  /** A missing file is an error (given with -F or ssh_config_file) rather than empty. */
  required?: boolean;
}

/** The config files of a run, parsed once each. */
export class SshConfigFiles {
  private readonly parsed = new Map<string, ConfigLine[] | undefined>();

  constructor(
    private readonly read: (path: string) => string | undefined = readIfExists,
    private readonly home = homedir(),
  ) {}

  /** ssh's files: the user's ~/.ssh/config, then /etc/ssh/ssh_config. */
  static defaultFiles(home = homedir()): ConfigFile[] {
    return [{ path: join(home, '.ssh', 'config') }, { path: '/etc/ssh/ssh_config', system: true }];
  }

  /**
   * The settings of `host` from `files`, in order, after `first` (settings from the command
   * line, which win as in ssh).
   */
  lookup(host: string, files: ConfigFile[], opts: { user?: string; first?: SshHostConfig } = {}): SshHostConfig {
    const result: SshHostConfig = opts.first ? { ...opts.first, identityFiles: [...opts.first.identityFiles], ignored: [...opts.first.ignored] } : { identityFiles: [], ignored: [] };
    const state: LookupState = { original: host, user: opts.user, result };
    for (const f of files) {
      const lines = this.file(expandTilde(f.path, this.home), f.required ? undefined : 'optional');
      if (lines) this.walk(lines, state, f.system === true, true, false, 0);
    }
    return result;
  }

  private file(path: string, optional?: 'optional', from?: SourcePos): ConfigLine[] | undefined {
    if (!this.parsed.has(path)) {
      const text = this.read(path);
      this.parsed.set(path, text === undefined ? undefined : parseSshConfig(text, path));
    }
    const lines = this.parsed.get(path);
    if (lines === undefined && !optional) throw new UserError({ severity: 'error', message: `ssh config file ${path} does not exist`, pos: from });
    return lines;
  }

  /** OpenSSH's read_config_file_depth: `active` is the state at the file's start. */
  private walk(lines: ConfigLine[], s: LookupState, system: boolean, active: boolean, never: boolean, depth: number): void {
    for (const l of lines) {
      switch (l.keyword) {
        case 'host':
          active = !never && matchHostPatterns(l.args, s.original);
          continue;
        case 'match':
          active = !never && this.match(l, s);
          continue;
        case 'include': {
          if (!active) continue;
          if (depth >= 16) throw new UserError({ severity: 'error', message: 'Include nested too deeply (a file includes itself?)', pos: l.pos });
          for (const pattern of l.args) {
            const abs = isAbsolute(expandTilde(pattern, this.home)) ? expandTilde(pattern, this.home) : join(system ? '/etc/ssh' : join(this.home, '.ssh'), pattern);
            for (const path of expandGlob(abs)) {
              const included = this.file(path, 'optional', l.pos);
              // As in ssh: the included file starts in the includer's state and leaves it as it was.
              if (included) this.walk(included, s, system, active, never, depth + 1);
            }
          }
          continue;
        }
      }
      if (active) take(s.result, l);
    }
  }

  /** `Match` criteria; ones tsplay cannot evaluate make the block inactive, with a note. */
  private match(l: ConfigLine, s: LookupState): boolean {
    const args = l.args;
    let ok = true;
    for (let i = 0; i < args.length; i++) {
      const raw = args[i]!.toLowerCase();
      const negate = raw.startsWith('!');
      const criterion = negate ? raw.slice(1) : raw;
      if (criterion === 'all' || criterion === 'final' || criterion === 'canonical') {
        if (negate) ok = false;
        continue;
      }
      const arg = args[++i];
      if (arg === undefined) throw new UserError({ severity: 'error', message: `Match ${criterion} needs an argument`, pos: l.pos });
      let subject: string | undefined;
      if (criterion === 'host') subject = s.result.hostName?.value.replace(/%h/g, s.original) ?? s.original;
      else if (criterion === 'originalhost') subject = s.original;
      else if (criterion === 'user') subject = s.user ?? s.result.user?.value ?? userInfo().username;
      else if (criterion === 'localuser') subject = userInfo().username;
      else {
        s.result.ignored.push({ keyword: `Match ${criterion}`, pos: l.pos, why: 'the block is skipped' });
        return false;
      }
      if (matchPatternList(arg.split(','), subject) === negate) ok = false;
    }
    return ok;
  }
}

/** A UserError about a setting; a position with line 0 names a variable, not a file. */
export function settingError(pos: SourcePos, message: string): UserError {
  return pos.line ? new UserError({ severity: 'error', message, pos }) : new UserError(`${pos.file}: ${message}`);
}

/** `a` with what `b` sets that `a` does not (identity files and notes: both, `a`'s first). */
export function mergeFirst(a: SshHostConfig, b: SshHostConfig): SshHostConfig {
  return { ...b, ...Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)), identityFiles: [...a.identityFiles, ...b.identityFiles], ignored: [...a.ignored, ...b.ignored] };
}

/** `file:line` of a setting, or the variable's name. */
export function where(pos: SourcePos): string {
  return pos.line ? `${pos.file}:${pos.line}` : pos.file;
}

/** The first value of each keyword wins; IdentityFile accumulates. */
export function take(r: SshHostConfig, l: { keyword: string; name: string; args: string[]; pos: SourcePos }): void {
  const value = l.args.join(' ');
  const set = (key: 'hostName' | 'user' | 'port' | 'identitiesOnly' | 'strictHostKeyChecking' | 'userKnownHostsFile' | 'connectTimeout') => {
    if (l.args.length === 0) throw settingError(l.pos, `${l.name} needs a value`);
    r[key] ??= { value: key === 'userKnownHostsFile' ? l.args[0]! : value, pos: l.pos };
  };
  switch (l.keyword) {
    case 'hostname':
      return set('hostName');
    case 'user':
      return set('user');
    case 'port':
      return set('port');
    case 'identitiesonly':
      return set('identitiesOnly');
    case 'stricthostkeychecking':
      return set('strictHostKeyChecking');
    case 'userknownhostsfile':
      return set('userKnownHostsFile');
    case 'connecttimeout':
      return set('connectTimeout');
    case 'identityfile':
      if (l.args.length === 0) throw settingError(l.pos, 'IdentityFile needs a value');
      r.identityFiles.push({ value, pos: l.pos });
      return;
    case 'proxyjump':
    case 'proxycommand':
      if (l.args.length === 0) throw settingError(l.pos, `${l.name} needs a value`);
      r.proxy ??= { value, pos: l.pos, kind: l.keyword === 'proxyjump' ? 'jump' : 'command' };
      return;
  }
  if (!HONOURED.has(l.keyword) && !HARMLESS.has(l.keyword)) r.ignored.push({ keyword: l.name, pos: l.pos });
}

/** Is this keyword one tsplay honours or safely ignores (for -o options on the command line)? */
export function keywordStatus(keyword: string): 'honoured' | 'harmless' | 'ignored' {
  const k = keyword.toLowerCase();
  return HONOURED.has(k) ? 'honoured' : HARMLESS.has(k) ? 'harmless' : 'ignored';
}

/** A `Host` line: some pattern matches and no negated one does. Case-insensitive, as in ssh. */
export function matchHostPatterns(patterns: string[], host: string): boolean {
  return matchPatternList(patterns, host);
}

function matchPatternList(patterns: string[], text: string): boolean {
  const t = text.toLowerCase();
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcardMatch(p.slice(1).toLowerCase(), t)) return false;
    } else if (wildcardMatch(p.toLowerCase(), t)) matched = true;
  }
  return matched;
}

export function expandTilde(path: string, home = homedir()): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}

/** `*` and `?` in any path component, matches sorted (as glob(3) gives them to ssh). */
export function expandGlob(path: string): string[] {
  if (!/[*?]/.test(path)) return [path];
  const parts = path.split('/');
  let found = [parts[0] === '' ? '/' : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue;
      }
      for (const n of names) if (!n.startsWith('.') && wildcardMatch(part, n)) next.push(join(dir, n));
    }
    found = next;
  }
  return found;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new UserError(`cannot read ssh config file ${path}: ${(err as Error).message}`);
  }
}
