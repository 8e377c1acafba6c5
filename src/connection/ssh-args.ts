/**
 * ssh command-line arguments as Ansible passes them (`ansible_ssh_common_args`,
 * `ansible_ssh_extra_args`): split like a shell would, then the flags that say where and as whom
 * to connect are read into the same shape as a config block (ssh-config.ts), which ssh reads
 * before its config files: `-o Key=Value` (any keyword tsplay honours), `-J`, `-i`, `-p`, `-l`,
 * `-F`. Flags that only shape ssh's own output or session (-q, -T, -C, ...) are accepted; every
 * other one is listed in `ignored` so that the caller can say so.
 *
 * Also reads the common bastion form of ProxyCommand, `ssh -W %h:%p [-p P] [-l U] [-i K]
 * [user@]bastion`, as a jump host.
 */
import { UserError, type SourcePos } from '../core/errors.js';
import { keywordStatus, take, type SshHostConfig } from './ssh-config.js';

export interface SshArgs {
  config: SshHostConfig;
  /** `-F FILE`: read this config file instead of ~/.ssh/config and /etc/ssh/ssh_config. */
  configFile?: string;
}

/** Flags without an argument that change nothing tsplay does. */
const QUIET_FLAGS = new Set('qTtnxaCNvV46'.split(''));
/** Flags that take an argument (ssh(1) getopt string), for skipping it. */
const WITH_ARG = new Set('BbcDEeFIiJLlmOoPpQRSWw'.split(''));

/**
 * `ansible_ssh_common_args` text -> settings. `name` is the variable, `at` where it was set
 * (if known: settings then point there, else at the variable's name).
 */
export function parseSshArgs(text: string, name: string, at?: SourcePos): SshArgs {
  const pos: SourcePos = at ?? { file: name, line: 0, col: 0 };
  const fail = (why: string) => (at ? new UserError({ severity: 'error', message: `${name}: ${why}`, pos: at }) : new UserError(`${name}: ${why}`));
  const argv = shellSplit(text, fail);
  const config: SshHostConfig = { identityFiles: [], ignored: [] };
  let configFile: string | undefined;
  const opt = (keyword: string, value: string, shown: string) => {
    if (keywordStatus(keyword) === 'ignored') config.ignored.push({ keyword: shown, pos });
    else take(config, { keyword: keyword.toLowerCase(), name: keyword, args: [value], pos });
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a.length < 2) {
      config.ignored.push({ keyword: a, pos, why: 'not an option' });
      continue;
    }
    const flag = a[1]!;
    if (!WITH_ARG.has(flag)) {
      // A cluster such as -qT: each letter is a flag.
      for (const f of a.slice(1)) if (!QUIET_FLAGS.has(f)) config.ignored.push({ keyword: `-${f}`, pos });
      continue;
    }
    const value = a.length > 2 ? a.slice(2) : argv[++i];
    if (value === undefined) throw fail(`${a} needs a value`);
    switch (flag) {
      case 'o': {
        const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(value);
        if (!m) throw fail(`-o ${value}: expected Keyword=value`);
        if (m[1]!.toLowerCase() === 'identityfile' || m[1]!.toLowerCase() === 'userknownhostsfile') opt(m[1]!, unquote(m[2]!), `-o ${value}`);
        else opt(m[1]!, m[2]!.trim(), `-o ${value}`);
        break;
      }
      case 'J':
        opt('ProxyJump', value, a);
        break;
      case 'i':
        opt('IdentityFile', value, a);
        break;
      case 'p':
        // -p and -l set the option outright in ssh: they win over -o Port= / -o User= given earlier.
        config.port = { value, pos };
        break;
      case 'l':
        config.user = { value, pos };
        break;
      case 'F':
        configFile = value;
        break;
      case 'S':
        break; // a control socket: tsplay keeps its own connection
      default:
        config.ignored.push({ keyword: `-${flag} ${value}`, pos });
    }
  }
  return { config, configFile };
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** A jump host read from a ProxyCommand: `[user@]host[:port]` plus the keys its ssh gets. */
export interface ProxyCommandJump {
  jump: string;
  identityFiles: string[];
}

/**
 * `ssh [opts] -W %h:%p [opts] [user@]bastion` (or `ssh [opts] bastion nc %h %p`): the bastion
 * as a ProxyJump spec, or undefined for any other command (tsplay cannot run proxy commands).
 */
export function proxyCommandJump(command: string): ProxyCommandJump | undefined {
  let argv: string[];
  try {
    argv = shellSplit(command, (why) => new Error(why));
  } catch {
    return undefined;
  }
  if (!argv.length || !/(^|\/)ssh$/.test(argv[0]!)) return undefined;
  let forward = false;
  let host: string | undefined;
  let user: string | undefined;
  let port: string | undefined;
  const identityFiles: string[] = [];
  const rest: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-') && a.length >= 2) {
      const flag = a[1]!;
      if (!WITH_ARG.has(flag)) {
        if ([...a.slice(1)].some((f) => !QUIET_FLAGS.has(f))) return undefined;
        continue;
      }
      const value = a.length > 2 ? a.slice(2) : argv[++i];
      if (value === undefined) return undefined;
      if (flag === 'W') {
        if (!/^\[?%h\]?:%p$/.test(value)) return undefined;
        forward = true;
      } else if (flag === 'p') port = value;
      else if (flag === 'l') user = value;
      else if (flag === 'i') identityFiles.push(value);
      else if (flag === 'o') {
        const m = /^\s*(User|Port|IdentityFile)\s*(?:=\s*|\s+)(.*)$/i.exec(value);
        if (!m) return undefined;
        const k = m[1]!.toLowerCase();
        if (k === 'user') user ??= m[2]!.trim();
        else if (k === 'port') port ??= m[2]!.trim();
        else identityFiles.push(unquote(m[2]!));
      } else return undefined;
    } else if (host === undefined) host = a;
    else rest.push(a);
  }
  if (host === undefined) return undefined;
  if (!forward) {
    // `ssh bastion nc %h %p` (or netcat): the same thing, the old way.
    if (!(rest.length === 3 && /^(nc|netcat|ncat)$/.test(rest[0]!) && rest[1] === '%h' && rest[2] === '%p')) return undefined;
  } else if (rest.length) return undefined;
  const at = host.lastIndexOf('@');
  if (at >= 0) {
    user ??= host.slice(0, at);
    host = host.slice(at + 1);
  }
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { jump: `${user ? `${user}@` : ''}${name}${port ? `:${port}` : ''}`, identityFiles };
}

/** POSIX shell word splitting: blanks separate, '...' and "..." quote, backslash escapes. */
export function shellSplit(text: string, fail: (why: string) => Error): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw fail('unterminated single quote');
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let w = word ?? '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        w += text[j];
      }
      if (j >= text.length) throw fail('unterminated double quote');
      word = w;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}
