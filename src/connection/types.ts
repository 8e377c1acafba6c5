/**
 * The connector interface: everything tsplay does on a host goes through `run` (POSIX shell text;
 * files are written by the engine as `run` with the content on stdin, see engine/apply.ts).
 * Transports (ssh.ts, local.ts) implement it; the engine never sees SSH.
 *
 * Errors: `run` never throws for a non-zero exit. It throws UnreachableError when the host cannot
 * be reached or the connection drops, BecomeError when sudo refuses, CommandTimeoutError when
 * `timeoutMs` passes, and the signal's reason when `signal` aborts.
 */
import type { ExecResult } from '../core/module.js';
import type { JumpHost } from './ssh-target.js';

export type { ExecResult, JumpHost };

/** The become methods tsplay runs (become_method, ansible_become_method); become.ts wraps commands with them. */
export const BECOME_METHODS = ['sudo', 'su'] as const;
export type BecomeMethod = (typeof BECOME_METHODS)[number];

export interface RunOptions {
  /** Fed to the command's standard input, then closed. Without it stdin is empty. */
  stdin?: string | Buffer;
  /** Run as another user through `sudo` (the default) or `su` (needs the user's password unless the login user is root). */
  become?: { user: string; password?: string; method?: BecomeMethod };
  /** Give up after this long: the command is signalled and CommandTimeoutError is thrown. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ConnectionStats {
  /** Connections established (ssh handshakes that completed). */
  connects: number;
  /** `run` calls that started a command. */
  execs: number;
}

export interface Connection {
  /** The inventory name of the host. */
  readonly host: string;
  /** Opens the connection; idempotent (concurrent calls share one attempt). `run` calls it too. */
  connect(): Promise<void>;
  /** Runs POSIX shell text with `sh -c` semantics. Output is returned untrimmed. */
  run(script: string, opts?: RunOptions): Promise<ExecResult>;
  close(): Promise<void>;
  readonly stats: ConnectionStats;
  /**
   * This side's address of the connection as the host sees it (before NAT), once connected;
   * e.g. for install-ufw's "SSH stays allowed from the controller". Undefined for local.
   */
  readonly localAddress?: string;
}

/** How to reach one host: resolved from host variables by the inventory (src/inventory/connection.ts). */
export interface ConnectionVars {
  name: string;
  address: string;
  port: number;
  user?: string;
  /** The key the inventory or the command line names: a missing file is an error. */
  privateKeyFile?: string;
  /** More keys, from -i / IdentityFile in ssh args or the ssh config: missing ones are skipped. */
  identityFiles?: string[];
  /** IdentitiesOnly: offer only the keys named, not ssh-agent's others nor ~/.ssh/id_*. */
  identitiesOnly?: boolean;
  /** Hosts to go through (ProxyJump), first one first. */
  jumps?: JumpHost[];
  /** May be a Secret's value. */
  password?: string;
  become: boolean;
  becomeUser: string;
  /** Unset: the play's or task's become_method, else sudo. */
  becomeMethod?: BecomeMethod;
  becomePassword?: string;
  connection: 'ssh' | 'local';
  hostKeyChecking: 'strict' | 'accept-new' | 'off';
  knownHostsFile?: string;
  connectTimeoutMs: number;
}

/** The host cannot be used: connect or auth failure, dropped connection. One-line message. */
export class UnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnreachableError';
  }
}

/** The server's host key is unknown or changed. The message says how to trust it. */
export class HostKeyError extends UnreachableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostKeyError';
  }
}

/** sudo refused to run the command (wrong or missing password, not in sudoers, sudo missing). */
export class BecomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BecomeError';
  }
}

/** `run` took longer than `timeoutMs`. */
export class CommandTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandTimeoutError';
  }
}
