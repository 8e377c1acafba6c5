/**
 * A real OpenSSH server for tests: /usr/sbin/sshd on a free loopback port, with its own
 * sshd_config, ed25519 host key, client key and known_hosts, all in a temp dir. Needs root
 * (tests run as root in CI); `canRunSshd()` tells tests when to skip.
 *
 * Users (created once, idempotently):
 *   tsplay-t1  login by key; sudo NOPASSWD
 *   tsplay-t2  login by key or password SUDO_PASSWORD; sudo asks for the password
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_BIN = '/usr/sbin/sshd';
export const NOPASSWD_USER = 'tsplay-t1';
export const PASSWORD_USER = 'tsplay-t2';
export const SUDO_PASSWORD = 'tsplay-t2-Secret!';

export interface Sshd {
  port: number;
  host: '127.0.0.1';
  /** The NOPASSWD sudo user. */
  user: string;
  /** A user whose sudo needs `password` (also its ssh login password). */
  passwordUser: { user: string; password: string };
  /** Authorized client key (ed25519, no passphrase). */
  keyFile: string;
  /** known_hosts holding the server's key as `[127.0.0.1]:port`. */
  knownHostsFile: string;
  /** That known_hosts line. */
  hostKeyLine: string;
  dir: string;
  /** Stops sshd (SIGTERM, then SIGKILL), its sessions, and removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILLs sshd and every session process it forked: clients see the connection drop. */
  kill(): void;
}

export function canRunSshd(): boolean {
  return process.getuid?.() === 0 && existsSync(SSHD_BIN);
}

/**
 * `rootLogin`: also let root log in with the client key (as many real hosts are run: sshd then
 * keeps the session in its privileged monitor and refuses to deliver signals to commands).
 */
export async function startSshd(opts: { maxStartups?: string; maxSessions?: number; rootLogin?: boolean } = {}): Promise<Sshd> {
  if (!canRunSshd()) throw new Error(`startSshd needs root and ${SSHD_BIN}`);
  ensureUsers();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-sshd-'));
  chmodSync(dir, 0o755); // the login users read authorized_keys from here
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const keyFile = join(dir, 'id_ed25519');
  keygen(hostKey);
  keygen(keyFile);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyFile}.pub`), { mode: 0o644 });

  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      `PermitRootLogin ${opts.rootLogin ? 'prohibit-password' : 'no'}`,
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      `MaxStartups ${opts.maxStartups ?? '10:30:100'}`,
      `MaxSessions ${opts.maxSessions ?? 10}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );

  const log = openSync(join(dir, 'sshd.log'), 'a');
  const child = spawn(SSHD_BIN, ['-D', '-e', '-f', config], { stdio: ['ignore', log, log] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const [type, base64] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const hostKeyLine = `[127.0.0.1]:${port} ${type} ${base64}`;
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${hostKeyLine}\n`);

  try {
    await waitForBanner(port, child, dir);
  } catch (err) {
    killTree(child.pid);
    throw err;
  }

  let stopped = false;
  return {
    port,
    host: '127.0.0.1',
    user: NOPASSWD_USER,
    passwordUser: { user: PASSWORD_USER, password: SUDO_PASSWORD },
    keyFile,
    knownHostsFile,
    hostKeyLine,
    dir,
    kill: () => killTree(child.pid),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      killTree(child.pid);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** sshd servers still running: killed when the test process exits, even after a crash. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killTree(child.pid);
});

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsplay-test', '-f', file]);
}

/** Creates the test users and their sudoers entries if missing (safe to call concurrently). */
function ensureUsers(): void {
  for (const user of [NOPASSWD_USER, PASSWORD_USER]) {
    if (!userExists(user)) {
      try {
        execFileSync('useradd', ['-m', '-s', '/bin/sh', user], { stdio: 'pipe' });
      } catch (err) {
        if (!userExists(user)) throw err; // another test process created it meanwhile otherwise
      }
    }
  }
  // With UsePAM no, sshd refuses accounts whose password is locked ("!"): set one for each.
  execFileSync('usermod', ['-p', '*', NOPASSWD_USER]);
  execFileSync('chpasswd', { input: `${PASSWORD_USER}:${SUDO_PASSWORD}\n` });
  const sudoers = '/etc/sudoers.d/tsplay-test';
  const text = `${NOPASSWD_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n${PASSWORD_USER} ALL=(ALL:ALL) ALL\n`;
  if (!existsSync(sudoers) || readFileSync(sudoers, 'utf8') !== text) {
    const tmp = `${sudoers}.tmp${process.pid}`; // sudo ignores names with a dot
    writeFileSync(tmp, text, { mode: 0o440 });
    execFileSync('visudo', ['-cqf', tmp]);
    execFileSync('mv', [tmp, sudoers]);
  }
}

function userExists(user: string): boolean {
  try {
    execFileSync('id', [user], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the port answers with an SSH banner; rejects with sshd's log if it died. */
async function waitForBanner(port: number, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await bannerOk(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = readFileSync(join(dir, 'sshd.log'), 'utf8');
  throw new Error(`sshd did not start on port ${port}:\n${log}`);
}

function bannerOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
  });
}

/** SIGKILLs a process and all its descendants (found through /proc), parents first. */
function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const tree: number[] = [];
  const walk = (p: number) => {
    tree.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
