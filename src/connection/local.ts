/**
 * Local transport (`connection: local`): the same interface as ssh.ts, run on the controller
 * with child_process (`sh -c`). Each command gets its own process group so a timeout
 * can stop it with its children.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { ExecResult } from '../core/module.js';
import { BecomeSession, toBuffer } from './become.js';
import { commandSettler } from './settle.js';
import type { Connection, ConnectionStats, RunOptions } from './types.js';

export class LocalConnection implements Connection {
  readonly stats: ConnectionStats = { connects: 0, execs: 0 };
  private connected = false;

  constructor(readonly host: string) {}

  async connect(): Promise<void> {
    if (this.connected) return;
    this.connected = true;
    this.stats.connects++;
  }

  async run(script: string, opts: RunOptions = {}): Promise<ExecResult> {
    opts.signal?.throwIfAborted();
    await this.connect();
    const sudo = opts.become ? new BecomeSession(script, opts.become, toBuffer(opts.stdin), this.host) : undefined;
    const child = spawn('sh', ['-c', sudo ? `exec ${sudo.command}` : script], { stdio: 'pipe', detached: true });
    this.stats.execs++;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(sudo ? sudo.stderr(c) : c));
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    if (sudo) {
      sudo.attach({ write: (d) => child.stdin.write(d), end: () => child.stdin.end(), abort: kill });
    } else {
      if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
      child.stdin.end();
    }

    return new Promise<ExecResult>((resolve, reject) => {
      const settle = commandSettler({ host: this.host, timeoutMs: opts.timeoutMs, signal: opts.signal, kill, cleanup: () => sudo?.dispose() }, reject);
      child.on('error', (err) => settle(() => reject(err)));
      child.on('close', (code, signal) => {
        settle(() => {
          const exit = code ?? 128 + ((signal && (osConstants.signals as Record<string, number>)[signal]) || 0);
          try {
            sudo?.check(exit);
          } catch (err) {
            reject(err);
            return;
          }
          resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code: exit });
        });
      });
    });
  }

  async close(): Promise<void> {
    this.connected = false;
  }
}
