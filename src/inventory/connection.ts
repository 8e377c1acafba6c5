/**
 * Connection variables of a host -> how to reach it. Both Ansible's names (`ansible_host`,
 * `ansible_user`, ...) and tsplay's shorter ones (`ssh_host`, `ssh_user`, ...) are accepted;
 * tsplay's name wins when both are set. Defaults: port 22, address = host name, no become
 * (become user root, method unset: the task's become_method or sudo), strict host key checking, 10 s connect timeout, ssh.
 * `localhost` is reached over ssh like any host unless `connection: local` is set (the implicit
 * localhost carries `ansible_connection: local`, so it is local). Bad values are UserErrors.
 * For ssh, what the variables leave open comes from `ansible_ssh_common_args` /
 * `ansible_ssh_extra_args` and the ssh config files (connection/ssh-config.ts), looked up by
 * ansible_host else the host's name, as ssh would be given it: see sshTarget for the order.
 */
import { homedir } from 'node:os';
import { UserError, type SourcePos } from '../core/errors.js';
import { isSecret } from '../core/secret.js';
import { BECOME_METHODS, type BecomeMethod, type ConnectionVars } from '../connection/types.js';
import { parseSshArgs } from '../connection/ssh-args.js';
import { mergeFirst, SshConfigFiles, type ConfigFile, type SshHostConfig } from '../connection/ssh-config.js';
import { resolveSshTarget, type SshTarget } from '../connection/ssh-target.js';

/** The settings themselves are the connection layer's type. */
export type { ConnectionVars } from '../connection/types.js';

/** Each setting and the variable names that set it, strongest first. */
const NAMES = {
  address: ['ssh_host', 'ansible_host', 'ansible_ssh_host'],
  port: ['ssh_port', 'ansible_port', 'ansible_ssh_port'],
  user: ['ssh_user', 'ansible_user', 'ansible_ssh_user'],
  privateKeyFile: ['ssh_private_key_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  password: ['ssh_password', 'ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'],
  become: ['become', 'ansible_become'],
  becomeUser: ['become_user', 'ansible_become_user'],
  becomeMethod: ['become_method', 'ansible_become_method'],
  becomePassword: ['become_password', 'ansible_become_password', 'ansible_become_pass'],
  connection: ['connection', 'ansible_connection'],
  hostKeyChecking: ['host_key_checking', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking'],
  knownHostsFile: ['known_hosts_file'],
  connectTimeout: ['connect_timeout', 'ansible_ssh_timeout', 'ansible_timeout'],
  sshConfigFile: ['ssh_config_file'],
  sshCommonArgs: ['ansible_ssh_common_args'],
  sshExtraArgs: ['ansible_ssh_extra_args'],
} as const;

/** The variables that set the become method. */
export const BECOME_METHOD_VARS: readonly string[] = NAMES.becomeMethod;

/** Accepted for compatibility with Ansible inventories and ignored. */
const IGNORED = ['ansible_python_interpreter', 'ansible_shell_type'];

/** Every connection variable tsplay recognises (for the expression checker: these are known names). */
export const CONNECTION_VAR_NAMES: readonly string[] = Object.freeze([...Object.values(NAMES).flat(), ...IGNORED]);

export interface ConnectionVarsOptions {
  /** Where a variable was set, to point errors at the file. */
  pos?: (key: string) => SourcePos | undefined;
  /** Used where no variable sets the setting (the command line, the project config). */
  defaults?: ConnectionDefaults;
  /**
   * The ssh config files to read (the run's: ~/.ssh/config and /etc/ssh/ssh_config unless
   * --ssh-config says otherwise). Without it only a file named by ssh_config_file or `-F` in
   * the ssh args is read.
   */
  ssh?: SshConfigOptions;
}

export interface SshConfigOptions {
  configs: SshConfigFiles;
  files: ConfigFile[];
  /** Options that applied to the host and that tsplay does not honour. */
  ignored?: (notes: SshTarget['ignored']) => void;
}

/**
 * Settings given outside the inventory (`-u`, `--private-key`, `-b`, `--become-user`, the
 * project config): as in Ansible, any variable that sets one wins over them.
 */
export interface ConnectionDefaults {
  user?: string;
  privateKeyFile?: string;
  become?: boolean;
  becomeUser?: string;
  hostKeyChecking?: ConnectionVars['hostKeyChecking'];
  /** An ssh config file read instead of ~/.ssh/config and /etc/ssh/ssh_config (--ssh-config). */
  sshConfigFile?: string;
}

export function connectionVars(hostName: string, vars: Record<string, unknown>, opts: ConnectionVarsOptions = {}): ConnectionVars {
  const pick = (names: readonly string[]): { key: string; value: unknown } | undefined => {
    for (const key of names) {
      const value = vars[key];
      if (value !== undefined && value !== null) return { key, value: isSecret(value) ? value.value : value };
    }
    return undefined;
  };
  const bad = (key: string, message: string): never => {
    throw new UserError({ severity: 'error', message: `host ${hostName}: ${key}: ${message}`, pos: opts.pos?.(key) });
  };
  const str = (names: readonly string[]): string | undefined => {
    const v = pick(names);
    if (v === undefined) return undefined;
    if (typeof v.value === 'string' || typeof v.value === 'number') return String(v.value);
    return bad(v.key, `expected a string, got ${JSON.stringify(v.value)}`);
  };
  const bool = (names: readonly string[]): { key: string; value: boolean } | undefined => {
    const v = pick(names);
    if (v === undefined) return undefined;
    const b = toBool(v.value);
    return b === undefined ? bad(v.key, `expected true or false, got ${JSON.stringify(v.value)}`) : { key: v.key, value: b };
  };

  const portVar = pick(NAMES.port);
  let port = 22;
  if (portVar) {
    const n = typeof portVar.value === 'string' && /^\s*\d+\s*$/.test(portVar.value) ? Number(portVar.value) : portVar.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
      bad(portVar.key, `invalid port ${JSON.stringify(portVar.value)} (expected a number from 1 to 65535)`);
    }
    port = n as number;
  }

  const method = pick(NAMES.becomeMethod);
  if (method && !(BECOME_METHODS as readonly unknown[]).includes(method.value)) {
    bad(method.key, `become method ${JSON.stringify(method.value)} is not supported (tsplay runs ${BECOME_METHODS.join(' and ')})`);
  }

  const timeout = pick(NAMES.connectTimeout);
  let connectTimeoutMs = 10_000;
  if (timeout) {
    const n = typeof timeout.value === 'string' ? Number(timeout.value.trim() || NaN) : timeout.value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) bad(timeout.key, `expected a number of seconds, got ${JSON.stringify(timeout.value)}`);
    connectTimeoutMs = Math.round((n as number) * 1000);
  }

  const address = str(NAMES.address);
  if (address !== undefined && address.trim() === '') bad(pick(NAMES.address)!.key, 'empty address');

  const d = opts.defaults ?? {};
  const connection = connectionType(pick(NAMES.connection), bad);
  const user = str(NAMES.user) ?? d.user;
  const hkcVar = hostKeyChecking(pick(NAMES.hostKeyChecking), bad);
  const ssh = connection === 'ssh' ? sshTarget(address ?? hostName, { user, port: portVar ? port : undefined }, str, opts) : undefined;
  return {
    name: hostName,
    address: ssh?.address ?? address ?? hostName,
    port: portVar ? port : (ssh?.port ?? port),
    user: user ?? ssh?.user,
    privateKeyFile: expandHome(str(NAMES.privateKeyFile) ?? d.privateKeyFile),
    ...(ssh?.identityFiles.length ? { identityFiles: ssh.identityFiles } : {}),
    ...(ssh?.identitiesOnly !== undefined ? { identitiesOnly: ssh.identitiesOnly } : {}),
    ...(ssh?.jumps.length ? { jumps: ssh.jumps } : {}),
    password: str(NAMES.password),
    become: bool(NAMES.become)?.value ?? d.become ?? false,
    becomeUser: str(NAMES.becomeUser) ?? d.becomeUser ?? 'root',
    becomeMethod: method?.value as BecomeMethod | undefined,
    becomePassword: str(NAMES.becomePassword),
    connection,
    hostKeyChecking: hkcVar ?? ssh?.argsHostKeyChecking ?? d.hostKeyChecking ?? ssh?.hostKeyChecking ?? 'strict',
    knownHostsFile: expandHome(str(NAMES.knownHostsFile)) ?? ssh?.knownHostsFile,
    connectTimeoutMs: timeout ? connectTimeoutMs : (ssh?.connectTimeoutMs ?? connectTimeoutMs),
  };
}

/**
 * What ansible_ssh_common_args, ansible_ssh_extra_args and the ssh config files say about the
 * host (looked up by its ansible_host, else its name, as ssh is given it). The caller applies
 * Ansible's precedence: variables and the command line's -u / --private-key over ssh args over
 * the config files; host_key_checking from the project config sits between the last two.
 */
function sshTarget(
  name: string,
  known: { user?: string; port?: number },
  str: (names: readonly string[]) => string | undefined,
  opts: ConnectionVarsOptions,
): (SshTarget & { argsHostKeyChecking?: SshTarget['hostKeyChecking'] }) {
  let first: SshHostConfig = { identityFiles: [], ignored: [] };
  let argsConfigFile: string | undefined;
  for (const names of [NAMES.sshCommonArgs, NAMES.sshExtraArgs]) {
    const text = str(names);
    if (!text?.trim()) continue;
    const args = parseSshArgs(text, names[0], opts.pos?.(names[0]));
    first = mergeFirst(first, args.config);
    argsConfigFile ??= args.configFile;
  }
  const configFile = str(NAMES.sshConfigFile) ?? argsConfigFile ?? opts.defaults?.sshConfigFile;
  const files: ConfigFile[] = configFile ? [{ path: expandHome(configFile)!, required: true }] : (opts.ssh?.files ?? []);
  const t = resolveSshTarget(name, { configs: opts.ssh?.configs ?? new SshConfigFiles(), files, first, ...known });
  if (t.ignored.length) opts.ssh?.ignored?.(t.ignored);
  return { ...t, argsHostKeyChecking: first.strictHostKeyChecking ? t.hostKeyChecking : undefined };
}

type Bad = (key: string, message: string) => never;

function connectionType(v: { key: string; value: unknown } | undefined, bad: Bad): 'ssh' | 'local' {
  if (v === undefined) return 'ssh';
  switch (v.value) {
    case 'ssh':
    case 'smart':
    case 'paramiko':
    case 'paramiko_ssh':
      return 'ssh';
    case 'local':
      return 'local';
    default:
      return bad(v.key, `unknown connection type ${JSON.stringify(v.value)} (tsplay supports ssh and local)`);
  }
}

function hostKeyChecking(v: { key: string; value: unknown } | undefined, bad: Bad): ConnectionVars['hostKeyChecking'] | undefined {
  if (v === undefined) return undefined;
  if (v.value === 'strict' || v.value === 'accept-new' || v.value === 'off') return v.value;
  const b = toBool(v.value);
  if (b === undefined) return bad(v.key, `expected strict, accept-new or off (or true/false), got ${JSON.stringify(v.value)}`);
  return b ? 'strict' : 'off';
}

/** Ansible's boolean(): yes/no, on/off, true/false, 1/0, y/n, in any case. */
export function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (['yes', 'on', 'true', '1', 'y', 't'].includes(s)) return true;
  if (['no', 'off', 'false', '0', 'n', 'f'].includes(s)) return false;
  return undefined;
}

function expandHome(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}
