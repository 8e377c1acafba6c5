/**
 * Stopping a remote command with everything it started. sshd makes each exec session its own
 * process group (it calls setsid), so killing that group stops the command, its children and a
 * sudo in between. Closing the channel does not: without a pty sshd sends no SIGHUP, and the
 * ssh "signal" request is refused for root logins ("session signalling requires privilege
 * separation") and cannot reach a command that sudo runs as another user.
 *
 * So every command starts with PRELUDE, which prints the group to stderr (builtins only: no
 * extra process, no extra round trip); ProcessGroup takes that line out of stderr, and on abort
 * the connector runs killGroupScript(pgid) over a fresh channel, as the same become user.
 */
import { randomBytes } from 'node:crypto';

const MARKER = `tsplay-pgid-${randomBytes(6).toString('hex')}`;

/**
 * Shell text to run first in the command's shell: prints `MARKER <fields of /proc/$$/stat after
 * the name>` (state, ppid, pgrp, ...) or, without /proc, `MARKER ? ? $$`.
 */
export const PRELUDE =
  `if read -r tsplay_stat 2>/dev/null </proc/$$/stat; then echo "${MARKER} \${tsplay_stat##*) }" >&2; ` +
  `else echo "${MARKER} ? ? $$" >&2; fi; unset tsplay_stat`;

/** stderr kept back while looking for the marker line, at most (rc files may print first). */
const MAX_HELD = 8192;

/** Reads the process group line from the start of a command's stderr. */
export class ProcessGroup {
  pgid?: number;
  /** Resolves with the group once its line arrived, or undefined when the command ended first. */
  readonly known: Promise<number | undefined>;
  private resolveKnown!: (pgid: number | undefined) => void;
  private held = Buffer.alloc(0);
  private done = false;

  constructor() {
    this.known = new Promise((resolve) => (this.resolveKnown = resolve));
  }

  /** Feed every stderr chunk; returns the part that is the command's own stderr. */
  stderr(chunk: Buffer): Buffer {
    if (this.done) return chunk;
    this.held = Buffer.concat([this.held, chunk]);
    const at = this.held.indexOf(MARKER);
    const eol = at >= 0 ? this.held.indexOf(0x0a, at) : -1;
    if (eol >= 0) {
      const fields = this.held.subarray(at + MARKER.length, eol).toString('latin1').trim().split(' ');
      const pgid = Number(fields[2]);
      if (Number.isInteger(pgid) && pgid > 1) this.pgid = pgid;
      const own = Buffer.concat([this.held.subarray(0, at), this.held.subarray(eol + 1)]);
      this.finish();
      return own;
    }
    if (at < 0 && this.held.length > MAX_HELD) return this.end();
    return Buffer.alloc(0);
  }

  /** The command ended: returns any stderr still held back. */
  end(): Buffer {
    const rest = this.done ? Buffer.alloc(0) : this.held;
    this.finish();
    return rest;
  }

  private finish(): void {
    this.done = true;
    this.held = Buffer.alloc(0);
    this.resolveKnown(this.pgid);
  }
}

/** SIGTERM to the group, up to 2 s for it to go, then SIGKILL to what is left. */
export function killGroupScript(pgid: number): string {
  return [
    `kill -TERM -${pgid} 2>/dev/null || exit 0`,
    `i=0; while [ $i -lt 20 ] && kill -0 -${pgid} 2>/dev/null; do sleep 0.1; i=$((i + 1)); done`,
    `kill -KILL -${pgid} 2>/dev/null; exit 0`,
  ].join('\n');
}
