/**
 * Where and how to reach a host over SSH once the command-line options (ssh-args.ts) and the
 * config files (ssh-config.ts) have had their say: the address (HostName, `%h` expanded), port,
 * user, identity files (`~` and `%` tokens expanded), IdentitiesOnly, host key settings and the
 * chain of jump hosts (ProxyJump `a,b`, `user@host:port`, `none`; the common ProxyCommand
 * `ssh -W %h:%p bastion`). Each jump host's own config applies to it (HostName, User, Port,
 * IdentityFile, and for the first one of the chain its own ProxyJump), as in ssh.
 *
 * Only what the caller did not set itself is taken from here: the caller (inventory/connection.ts)
 * applies Ansible's precedence, variables first.
 */
import { homedir, userInfo } from 'node:os';
import { proxyCommandJump } from './ssh-args.js';
import { expandTilde, settingError, type ConfigFile, type Setting, type SshConfigFiles, type SshHostConfig } from './ssh-config.js';
import type { HostKeyMode } from './host-key-check.js';

/** A host connected to on the way (ProxyJump), first one first. */
export interface JumpHost {
  /** As written in ProxyJump (for messages), e.g. `admin@bastion:2222`. */
  label: string;
  address: string;
  port: number;
  user?: string;
  identityFiles: string[];
  identitiesOnly: boolean;
}

export interface SshTarget {
  /** HostName, else the name looked up. */
  address: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  identitiesOnly?: boolean;
  hostKeyChecking?: HostKeyMode;
  knownHostsFile?: string;
  connectTimeoutMs?: number;
  jumps: JumpHost[];
  /** Options that applied but tsplay does not honour (for one warning per run). */
  ignored: SshHostConfig['ignored'];
}

export interface ResolveOptions {
  configs: SshConfigFiles;
  files: ConfigFile[];
  /** Settings from the command line (ansible_ssh_common_args / extra_args), read before the files. */
  first?: SshHostConfig;
  /** The user and port the caller already knows (tokens in IdentityFile use them). */
  user?: string;
  port?: number;
  home?: string;
}

/** The settings of `name` (ansible_host, else the inventory name) from args and config files. */
export function resolveSshTarget(name: string, o: ResolveOptions): SshTarget {
  const c = o.configs.lookup(name, o.files, { user: o.user, first: o.first });
  const home = o.home ?? homedir();
  const address = c.hostName ? expandTokens(c.hostName, { h: name }) : name;
  const port = c.port ? parsePort(c.port) : undefined;
  const user = c.user?.value;
  const tokens = { h: address, n: name, r: o.user ?? user ?? userInfo().username, p: String(o.port ?? port ?? 22), d: home, u: userInfo().username };
  const ignored = [...c.ignored];
  return {
    address,
    port,
    user,
    identityFiles: c.identityFiles.map((f) => expandTilde(expandTokens(f, tokens), home)),
    identitiesOnly: c.identitiesOnly ? yesNo(c.identitiesOnly) : undefined,
    hostKeyChecking: c.strictHostKeyChecking ? hostKeyMode(c.strictHostKeyChecking) : undefined,
    knownHostsFile: c.userKnownHostsFile ? expandTilde(expandTokens(c.userKnownHostsFile, tokens), home) : undefined,
    connectTimeoutMs: c.connectTimeout ? seconds(c.connectTimeout) * 1000 : undefined,
    jumps: c.proxy ? jumpsOf(c.proxy, o, ignored, 0) : [],
    ignored,
  };
}

/** The jump hosts of a ProxyJump / ProxyCommand setting. */
function jumpsOf(proxy: Setting & { kind: 'jump' | 'command' }, o: ResolveOptions, ignored: SshTarget['ignored'], depth: number): JumpHost[] {
  if (depth > 8) throw settingError(proxy.pos, `ProxyJump: more than 8 jump hosts in a row (does a jump host name itself?)`);
  let spec = proxy.value.trim();
  let extraKeys: string[] = [];
  if (proxy.kind === 'command') {
    if (spec.toLowerCase() === 'none') return [];
    const parsed = proxyCommandJump(spec);
    if (!parsed) {
      ignored.push({ keyword: `ProxyCommand ${spec}`, pos: proxy.pos, why: 'tsplay runs no proxy command: it connects directly' });
      return [];
    }
    spec = parsed.jump;
    extraKeys = parsed.identityFiles;
  }
  if (spec.toLowerCase() === 'none') return [];
  const hops = spec.split(',').map((h) => h.trim());
  const out: JumpHost[] = [];
  hops.forEach((hop, i) => {
    const { user, host, port } = parseHop(hop, proxy);
    const c = o.configs.lookup(host, o.files, { user });
    const home = o.home ?? homedir();
    const address = c.hostName ? expandTokens(c.hostName, { h: host }) : host;
    const hopPort = port ?? (c.port ? parsePort(c.port) : 22);
    const hopUser = user ?? c.user?.value;
    const tokens = { h: address, n: host, r: hopUser ?? userInfo().username, p: String(hopPort), d: home, u: userInfo().username };
    ignored.push(...c.ignored);
    // The first hop is reached the way its own config says (it may sit behind another bastion).
    if (i === 0 && c.proxy) out.push(...jumpsOf(c.proxy, o, ignored, depth + 1));
    out.push({
      label: hop,
      address,
      port: hopPort,
      user: hopUser,
      identityFiles: [...(i === hops.length - 1 ? extraKeys : []), ...c.identityFiles.map((f) => expandTokens(f, tokens))].map((f) => expandTilde(f, home)),
      identitiesOnly: c.identitiesOnly ? yesNo(c.identitiesOnly) : false,
    });
  });
  return out;
}

/** `[user@]host[:port]`, `[user@][v6addr]:port`, or `ssh://[user@]host[:port]`. */
export function parseHop(hop: string, where: Setting): { user?: string; host: string; port?: number } {
  const bad = (why: string): never => {
    throw settingError(where.pos, `ProxyJump ${JSON.stringify(hop)}: ${why}`);
  };
  let rest = hop.startsWith('ssh://') ? hop.slice(6).replace(/\/$/, '') : hop;
  if (rest === '') bad('empty jump host');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) bad('empty user name');
  }
  let host = rest;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    [host, portText] = rest.split(':') as [string, string];
  }
  if (!host) bad('empty host name');
  const port = portText === undefined ? undefined : parsePort({ value: portText, pos: where.pos });
  return { user, host, port };
}

function parsePort(s: Setting): number {
  const n = /^\d+$/.test(s.value.trim()) ? Number(s.value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw settingError(s.pos, `invalid port ${JSON.stringify(s.value)} (expected a number from 1 to 65535)`);
  return n;
}

function yesNo(s: Setting): boolean {
  const v = s.value.trim().toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw settingError(s.pos, `expected yes or no, got ${JSON.stringify(s.value)}`);
}

function seconds(s: Setting): number {
  const n = Number(s.value.trim());
  if (!/^\d+$/.test(s.value.trim()) || n <= 0) throw settingError(s.pos, `ConnectTimeout: expected a number of seconds, got ${JSON.stringify(s.value)}`);
  return n;
}

/** StrictHostKeyChecking -> tsplay's modes (`no`/`off` as host_key_checking: false). */
function hostKeyMode(s: Setting): HostKeyMode {
  switch (s.value.trim().toLowerCase()) {
    case 'yes':
    case 'ask':
      return 'strict';
    case 'accept-new':
      return 'accept-new';
    case 'no':
    case 'off':
      return 'off';
  }
  throw settingError(s.pos, `StrictHostKeyChecking: expected yes, accept-new or no, got ${JSON.stringify(s.value)}`);
}

/** ssh's `%` tokens that tsplay knows; another one is an error pointing at the setting. */
function expandTokens(s: Setting, tokens: Record<string, string>): string {
  return s.value.replace(/%(.)/g, (all, t: string) => {
    if (t === '%') return '%';
    const v = tokens[t];
    if (v === undefined) throw settingError(s.pos, `${all} is not a token tsplay expands here (it knows ${Object.keys(tokens).map((k) => `%${k}`).join(', ')} and %%)`);
    return v;
  });
}
