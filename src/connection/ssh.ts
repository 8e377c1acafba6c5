/**
 * SSH transport (node-ssh over ssh2). One connection per host for the whole run; everything
 * SSH-specific lives here. Traps this file handles (measured, see STYLE.md):
 *  - Nagle: the socket is ours, created with setNoDelay(true) (~48 ms -> ~3 ms per exec);
 *  - sshd's MaxSessions (10): at most 5 exec channels at once; a refused channel open is retried
 *    and lowers that limit (servers hardened to MaxSessions 2 still work);
 *  - sshd's MaxStartups (10): at most 8 handshakes at once in the whole process;
 *  - node-ssh trims output unless `noTrim`;
 *  - key exchange: curve25519 first (group exchange is very slow in Node).
 * Host keys are checked against known_hosts by default (host-key-check.ts).
 * Jump hosts (ProxyJump, resolved in ssh-target.ts): a connection to each hop in turn, the next
 * one run over a direct-tcpip channel of the previous (what `ssh -W` does), each host key
 * checked; they are closed after the target's connection.
 */
import net from 'node:net';
import { readFile, access } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import type { NodeSSH } from 'node-ssh';
import { quote } from '../core/quote.js';
import type { ExecResult } from '../core/module.js';
import { BecomeSession, toBuffer } from './become.js';
import { HostKeyCheck } from './host-key-check.js';
import { killGroupScript, PRELUDE, ProcessGroup } from './process-group.js';
import { Semaphore } from './semaphore.js';

/** node-ssh (and ssh2 under it) load on the first connect: `validate`, `--help` and local runs never need them. */
let nodeSsh: Promise<typeof NodeSSH> | undefined;
const loadNodeSsh = () => (nodeSsh ??= import('node-ssh').then((m) => m.NodeSSH));
import { commandSettler } from './settle.js';
import {
  HostKeyError,
  UnreachableError,
  type Connection,
  type ConnectionStats,
  type ConnectionVars,
  type RunOptions,
} from './types.js';

/** Exec channels open at once on one connection (OpenSSH's MaxSessions is 10). */
export const MAX_CHANNELS_PER_CONNECTION = 5;
/** Handshakes in progress at once in this process (OpenSSH's MaxStartups starts dropping at 10). */
export const MAX_CONCURRENT_HANDSHAKES = 8;
/**
 * Retries of a failed channel open, with backoff 30, 60, 120, 240, 480 ms. Each failure also
 * lowers the connection's channel limit to the number of channels open at that moment.
 */
const CHANNEL_OPEN_RETRIES = 5;

const KEX = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group-exchange-sha256',
];

const handshakes = new Semaphore(MAX_CONCURRENT_HANDSHAKES);

export interface SshOptions {
  /** Disable Nagle's algorithm on the socket (default true; false only for benchmarks). */
  noDelay?: boolean;
  maxChannels?: number;
}

/** The parts of ssh2's objects we use (ssh2 ships no types; node-ssh's typings refer to them). */
interface Ssh2Client {
  on(event: 'error', fn: (err: Error & { level?: string; code?: string }) => void): this;
  on(event: 'end' | 'close', fn: () => void): this;
  end(): void;
}
interface Ssh2Channel {
  close(): void;
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal(id: number, name: string): void } };
  on(event: 'close', fn: () => void): this;
}
type AuthMethod =
  | { type: 'publickey'; username: string; key: string }
  | { type: 'agent'; username: string; agent: string }
  | { type: 'password'; username: string; password: string }
  | { type: 'keyboard-interactive'; username: string; prompt: (...args: any[]) => void };

export class SshConnection implements Connection {
  readonly host: string;
  readonly stats: ConnectionStats = { connects: 0, execs: 0 };
  localAddress?: string;
  private readonly user: string;
  private readonly target: string;
  private readonly hostKeys: HostKeyCheck;
  private readonly channels: Semaphore;
  private ssh?: NodeSSH;
  /** Connections to the jump hosts (ProxyJump) the target's connection runs through, first one first. */
  private jumpConnections: NodeSSH[] = [];
  private connecting?: Promise<void>;
  /** Set when the connection dropped: every later call fails with it. */
  private lost?: UnreachableError;
  private closed = false;
  private closedEvent?: Promise<void>;
  /** Exec channels open right now. */
  private openChannels = 0;
  /** Aborted commands being stopped on the host (close() waits for them). */
  private readonly stopping = new Set<Promise<void>>();

  constructor(
    private readonly vars: ConnectionVars,
    private readonly options: SshOptions = {},
  ) {
    this.host = vars.name;
    this.user = vars.user ?? userInfo().username;
    this.target = `${this.user}@${vars.address}:${vars.port}`;
    this.hostKeys = new HostKeyCheck(vars.address, vars.port, vars.hostKeyChecking, vars.knownHostsFile);
    this.channels = new Semaphore(options.maxChannels ?? MAX_CHANNELS_PER_CONNECTION);
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`bug: connection to ${this.host} used after close()`));
    this.connecting ??= this.openWithRetry();
    return this.connecting;
  }

  /**
   * A refused connection or one the server drops before the handshake is often momentary:
   * sshd re-executing itself on reload, or shedding load past MaxStartups. Try again twice
   * (after 0.3 s and 1 s) before calling the host unreachable; nothing else is retried.
   */
  private async openWithRetry(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.open();
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const transient = cause?.code === 'ECONNREFUSED' || /lost before handshake/i.test(cause?.message ?? '');
        if (!transient || attempt >= 2 || this.closed || err instanceof HostKeyError) throw err;
        await new Promise((r) => setTimeout(r, attempt === 0 ? 300 : 1000));
      }
    }
  }

  async run(script: string, opts: RunOptions = {}): Promise<ExecResult> {
    opts.signal?.throwIfAborted();
    await this.connect();
    const sudo = opts.become ? new BecomeSession(script, opts.become, toBuffer(opts.stdin), this.host, PRELUDE) : undefined;
    const command = remoteCommand(script, sudo);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.execOnce(command, opts, sudo);
        } catch (err) {
          if (isChannelOpenFailure(err) && attempt < CHANNEL_OPEN_RETRIES && !this.lost) {
            // The server allows fewer sessions than we use (MaxSessions): learn its limit.
            this.channels.lowerLimit(this.openChannels);
            await sleep(30 * 2 ** attempt);
            continue;
          }
          throw this.translate(err);
        }
      }
    } finally {
      sudo?.dispose();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Stopping aborted commands needs the connection (and is bounded: see stopRemote).
    while (this.stopping.size) await Promise.allSettled([...this.stopping]);
    if (this.closed) return;
    this.closed = true;
    const ssh = this.ssh;
    this.ssh = undefined;
    const jumps = this.jumpConnections.reverse();
    this.jumpConnections = [];
    if (!ssh?.connection) {
      for (const j of jumps) j.dispose();
      return;
    }
    ssh.dispose();
    // Wait for the socket to close (briefly: a dead peer must not hold the run up).
    // The timer is unref'd so that it never keeps the process alive after the socket closed.
    await Promise.race([this.closedEvent, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    // The jump hosts last: the target's connection runs through them.
    for (const j of jumps) j.dispose();
  }

  // --- connecting ---------------------------------------------------------------------------

  private async open(): Promise<void> {
    const NodeSshClass = await loadNodeSsh();
    const jumps = this.vars.jumps ?? [];
    const through: NodeSSH[] = [];
    let ssh: NodeSSH;
    let sock: net.Socket | undefined;
    try {
      for (const [i, hop] of jumps.entries()) {
        const user = hop.user ?? userInfo().username;
        const name = `jump host ${hop.label} (${user}@${hop.address}:${hop.port})`;
        try {
          const auth = await this.authMethods({ user, identityFiles: hop.identityFiles, identitiesOnly: hop.identitiesOnly });
          const hostKeys = new HostKeyCheck(hop.address, hop.port, this.vars.hostKeyChecking, this.vars.knownHostsFile);
          const open = async () => (i === 0 ? (sock = this.socket(hop.address, hop.port)) : this.forward(through[i - 1]!, jumps[i - 1]!.label, hop.address, hop.port));
          through.push(await this.handshake(NodeSshClass, open, user, hostKeys, auth, hop.address));
        } catch (err) {
          const Class = err instanceof HostKeyError ? HostKeyError : UnreachableError;
          throw new Class(`ssh to ${this.target} failed: ${name}: ${(err as Error).message}`, { cause: causeOf(err) });
        }
      }
      const last = jumps.at(-1);
      try {
        const auth = await this.authMethods({
          user: this.user,
          privateKeyFile: this.vars.privateKeyFile,
          identityFiles: this.vars.identityFiles ?? [],
          identitiesOnly: this.vars.identitiesOnly ?? false,
          password: this.vars.password,
        });
        const open = async () => (last ? this.forward(through.at(-1)!, last.label, this.vars.address, this.vars.port) : (sock = this.socket(this.vars.address, this.vars.port)));
        ssh = await this.handshake(NodeSshClass, open, this.user, this.hostKeys, auth, this.vars.address);
      } catch (err) {
        if (err instanceof HostKeyError) throw err;
        throw new UnreachableError(`ssh to ${this.target}${last ? ` through ${jumps.map((j) => j.label).join(', ')}` : ''} failed: ${(err as Error).message}`, { cause: causeOf(err) });
      }
    } catch (err) {
      for (const j of through.reverse()) j.dispose();
      sock?.destroy();
      throw err;
    }
    if (this.closed) {
      ssh.dispose();
      for (const j of through.reverse()) j.dispose();
      throw new UnreachableError(`ssh to ${this.target}: connection closed while connecting`);
    }
    this.ssh = ssh;
    this.jumpConnections = through;
    // Through a jump host the target sees the jump host's address, which is not known here.
    this.localAddress = jumps.length ? undefined : sock?.localAddress?.replace(/^::ffff:/, '');
    this.stats.connects++;
    const client = ssh.connection as unknown as Ssh2Client;
    this.closedEvent = new Promise((resolve) => client.on('close', () => resolve()));
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (err) => this.markLost(describeDrop(err)));
    client.on('end', () => this.markLost('the server closed the connection'));
    client.on('close', () => this.markLost('the connection closed'));
    for (const [i, j] of through.entries()) {
      const hop = j.connection as unknown as Ssh2Client;
      const label = jumps[i]!.label;
      hop.on('error', (err) => this.markLost(`jump host ${label}: ${describeDrop(err)}`));
      hop.on('close', () => this.markLost(`jump host ${label} closed the connection`));
    }
  }

  /** A TCP connection with Nagle off (see the header). */
  private socket(host: string, port: number): net.Socket {
    const sock = net.connect({ host, port });
    sock.setNoDelay(this.options.noDelay ?? true);
    return sock;
  }

  /** A channel from a jump host to host:port (ssh -W), to run the next SSH connection over. */
  private async forward(via: NodeSSH, label: string, host: string, port: number): Promise<Duplex> {
    try {
      return (await via.forwardOut('127.0.0.1', 0, host, port)) as unknown as Duplex;
    } catch (err) {
      throw new Error(`jump host ${label} cannot reach ${host}:${port}: ${oneLine((err as Error).message)}`, { cause: err });
    }
  }

  /**
   * One SSH handshake over the stream `open` gives (opened only once a handshake slot is free,
   * and handed to ssh2 at once: it listens for the socket's errors), the host key checked.
   */
  private async handshake(
    NodeSshClass: typeof NodeSSH,
    open: () => Promise<Duplex>,
    username: string,
    hostKeys: HostKeyCheck,
    auth: { methods: AuthMethod[]; tried: string[] },
    address: string,
  ): Promise<NodeSSH> {
    try {
      await hostKeys.load();
    } catch (err) {
      throw new HostKeyError(`cannot read known_hosts for ${hostKeys.token}: ${(err as Error).message}`, { cause: err });
    }
    const release = await handshakes.acquire();
    const ssh = new NodeSshClass();
    let hostKeyError: Error | undefined;
    try {
      await ssh.connect({
        sock: await open(),
        username,
        readyTimeout: this.vars.connectTimeoutMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        algorithms: { kex: KEX, serverHostKey: hostKeys.algorithms() },
        authHandler: auth.methods,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          hostKeys.verify(key).then(
            () => verify(true),
            (err: Error) => {
              hostKeyError = err;
              verify(false);
            },
          );
        },
      } as Parameters<NodeSSH['connect']>[0]);
      return ssh;
    } catch (err) {
      ssh.dispose();
      if (hostKeyError) throw hostKeyError;
      throw new UnreachableError(this.describeConnectError(err, auth.tried, username, address), { cause: err });
    } finally {
      release();
    }
  }

  private async authMethods(o: { user: string; privateKeyFile?: string; identityFiles: string[]; identitiesOnly: boolean; password?: string }): Promise<{ methods: AuthMethod[]; tried: string[] }> {
    const username = o.user;
    const methods: AuthMethod[] = [];
    const tried: string[] = [];
    if (o.privateKeyFile) {
      const file = expandHome(o.privateKeyFile);
      let key: string;
      try {
        key = await readFile(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : `cannot be read (${code ?? err})`;
        throw new Error(`private key file ${file} ${why}`);
      }
      methods.push({ type: 'publickey', username, key });
      tried.push(`key ${file}`);
    }
    // IdentityFile / -i: a missing one is skipped, as ssh does.
    for (const file of o.identityFiles) {
      if (file === o.privateKeyFile) continue;
      const key = await readFile(file, 'utf8').catch(() => undefined);
      if (key === undefined) continue;
      methods.push({ type: 'publickey', username, key });
      tried.push(`key ${file}`);
    }
    const agent = process.env.SSH_AUTH_SOCK;
    if (agent && !o.identitiesOnly) {
      methods.push({ type: 'agent', username, agent });
      tried.push('ssh-agent');
    }
    if (!o.privateKeyFile && o.identityFiles.length === 0) {
      for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
        const file = join(homedir(), '.ssh', name);
        if (!(await exists(file))) continue;
        methods.push({ type: 'publickey', username, key: await readFile(file, 'utf8') });
        tried.push(`key ~/.ssh/${name}`);
      }
    }
    const password = o.password;
    if (password !== undefined) {
      methods.push({ type: 'password', username, password });
      methods.push({
        type: 'keyboard-interactive',
        username,
        prompt: (_name: string, _instructions: string, _lang: string, prompts: unknown[], finish: (answers: string[]) => void) =>
          finish(prompts.map(() => password)),
      });
      tried.push('password');
    }
    return { methods, tried };
  }

  private describeConnectError(err: unknown, tried: string[], user: string, address: string): string {
    const e = err as Error & { code?: string; level?: string };
    if (e.level === 'client-authentication')
      return tried.length === 0
        ? 'no credentials to try: set ssh_private_key_file or ssh_password for the host, add a key to ~/.ssh, or start ssh-agent'
        : `authentication failed for user ${user} (tried ${tried.join(', ')})`;
    if (e.level === 'client-timeout') return `timed out after ${this.vars.connectTimeoutMs / 1000} s`;
    switch (e.code) {
      case 'ECONNREFUSED':
        return 'connection refused';
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot resolve host name ${address}`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return 'no route to host';
      case 'ECONNRESET':
        return 'connection reset by the server';
      case 'ETIMEDOUT':
        return e.message === 'No response from server' ? 'the server closed the connection during the handshake' : 'timed out';
    }
    if (e.message === 'Connection lost before handshake')
      return 'the server closed the connection before the handshake (not an SSH server, or too many connections at once: sshd MaxStartups)';
    return oneLine(e.message ?? String(err));
  }

  private markLost(reason: string): void {
    if (this.closed || this.lost) return;
    this.lost = new UnreachableError(`ssh connection to ${this.target} lost: ${reason}`);
  }

  private assertUsable(): void {
    if (this.lost) throw this.lost;
    if (this.closed) throw new Error(`bug: connection to ${this.host} used after close()`);
  }

  /** Errors from node-ssh/ssh2 during a run: a dropped connection becomes UnreachableError. */
  private translate(err: unknown): unknown {
    if (this.lost) return this.lost;
    if (err instanceof Error && /Not connected|No response from server/.test(err.message))
      return new UnreachableError(`ssh connection to ${this.target} lost: ${err.message}`, { cause: err });
    if (isChannelOpenFailure(err))
      return new UnreachableError(`ssh to ${this.target}: cannot open a channel (${CHANNEL_OPEN_RETRIES + 1} attempts): ${(err as Error).message}`, { cause: err });
    return err;
  }

  // --- running ------------------------------------------------------------------------------

  /** One exec channel: resolves when it closes; rejects on timeout/abort as soon as they happen. */
  private async execOnce(command: string, opts: RunOptions, sudo: BecomeSession | undefined): Promise<ExecResult> {
    const release = await this.channels.acquire();
    let channel: Ssh2Channel | undefined;
    let released = false;
    const releaseOnce = () => {
      if (released) return;
      released = true;
      if (channel) this.openChannels--;
      release();
    };
    try {
      this.assertUsable();
      opts.signal?.throwIfAborted();
    } catch (err) {
      releaseOnce();
      throw err;
    }
    const ssh = this.ssh!;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdin: string | Readable | undefined;
    let pipe: PassThrough | undefined;
    if (sudo) stdin = pipe = new PassThrough();
    else if (typeof opts.stdin === 'string') stdin = opts.stdin;
    else if (opts.stdin !== undefined) stdin = Readable.from([opts.stdin]);

    const group = new ProcessGroup();
    /** Ends the channel (sudo refused or hung: the command itself never ran). */
    const closeChannel = () => {
      if (!channel) return;
      // Best effort: ssh2 only sends signals while stdin is open, so go to the protocol directly.
      // sshd refuses it for root logins and it cannot reach a command run by sudo: see kill.
      const out = channel.outgoing;
      if (out && (out.state === 'open' || out.state === 'eof')) {
        try {
          channel._client?._protocol?.signal(out.id, 'KILL');
        } catch {
          // ignore: the server may not support signals
        }
      }
      channel.close();
    };
    /**
     * Timeout or abort: stop the command's whole process group on the host, then the channel
     * (once it is open, if it was still opening).
     */
    let stopWanted = false;
    const kill = () => {
      // Before sudo let us in (e.g. at its password prompt) no script of ours runs yet.
      if (channel && sudo && !sudo.started) closeChannel();
      else if (channel) this.stopRemote(group, opts.become, closeChannel);
      else stopWanted = true;
    };

    return new Promise<ExecResult>((resolve, reject) => {
      const settle = commandSettler({ host: this.host, timeoutMs: opts.timeoutMs, signal: opts.signal, kill }, reject);
      ssh
        .execCommand(command, {
          noTrim: true,
          stdin,
          onChannel: (ch) => {
            channel = ch as unknown as Ssh2Channel;
            this.openChannels++;
            this.stats.execs++;
            sudo?.attach({ write: (d) => pipe!.write(d), end: () => pipe!.end(), abort: closeChannel });
            if (stopWanted) kill();
          },
          onStdout: (chunk) => stdout.push(chunk),
          onStderr: (chunk) => {
            // sudo's own words (prompt, refusal) come first; the group line is the script's.
            const fromScript = sudo ? sudo.stderr(chunk) : chunk;
            const own = fromScript.length ? group.stderr(fromScript) : fromScript;
            if (own.length) stderr.push(own);
          },
        })
        .then(
          (res) => {
            releaseOnce();
            const rest = group.end();
            if (rest.length) stderr.push(rest);
            settle(() => {
              try {
                if (res.code === null && res.signal === null) {
                  // We stopped sudo ourselves (wrong password), or the connection dropped:
                  // ssh2 closes open channels without an exit status then.
                  if (sudo?.failed) sudo.check(255);
                  throw this.lost ?? new UnreachableError(`ssh to ${this.target}: channel closed without an exit status`);
                }
                const code = res.code ?? 128 + signalNumber(res.signal);
                sudo?.check(code);
                resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code });
              } catch (err) {
                reject(err);
              }
            });
          },
          (err) => {
            releaseOnce();
            group.end();
            settle(() => reject(err));
          },
        );
    });
  }

  /**
   * Kills an aborted command's process group over a fresh channel, as the same (become) user,
   * then closes its channel. Waits up to 3 s for the group's line if it has not arrived yet.
   */
  private stopRemote(group: ProcessGroup, become: RunOptions['become'], closeChannel: () => void): void {
    const stop = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const pgid = group.pgid ?? (await Promise.race([group.known, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 3000)))]));
      clearTimeout(timer);
      if (pgid !== undefined && !this.lost) await this.run(killGroupScript(pgid), { become, timeoutMs: 5000 }).catch(() => undefined);
      closeChannel();
    })();
    this.stopping.add(stop);
    void stop.finally(() => this.stopping.delete(stop));
  }
}

/**
 * The command line the login shell gets. It may be bash, zsh or fish: it only replaces itself
 * (exec) with sh, or with sudo starting sh, and that one sh runs PRELUDE (process-group.ts: how
 * an aborted command is stopped), then the script.
 */
export function remoteCommand(script: string, sudo?: BecomeSession): string {
  return sudo ? `exec ${sudo.command}` : `exec sh -c ${quote(`${PRELUDE}\n${script}`)}`;
}

/** The underlying error (ssh2's, with its code) of one of ours. */
function causeOf(err: unknown): unknown {
  return (err as { cause?: unknown }).cause ?? err;
}

function isChannelOpenFailure(err: unknown): boolean {
  return err instanceof Error && err.message.includes('Channel open failure');
}

function describeDrop(err: Error & { code?: string; level?: string }): string {
  if (err.code === 'ECONNRESET') return 'connection reset by the server';
  if (err.level === 'client-timeout') return 'no answer to keepalives';
  return oneLine(err.message);
}

function signalNumber(name: string | null): number {
  if (!name) return 0;
  const n = (osConstants.signals as Record<string, number>)[name.startsWith('SIG') ? name : `SIG${name}`];
  return n ?? 0;
}

function oneLine(s: string): string {
  return s.split(/\r?\n/)[0]!.trim();
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
