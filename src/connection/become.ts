/**
 * Become (sudo or su) for any transport. The script is wrapped as
 *
 *   sudo -H -n -u USER -- sh -c 'echo MARKER >&2; PRELUDE; SCRIPT'                  (no password: NOPASSWD)
 *   sudo -H -S -k -p PROMPT -u USER -- sh -c 'echo MARKER >&2; PRELUDE; SCRIPT'     (with a password)
 *   su -s /bin/sh -c 'echo MARKER >&2; PRELUDE; SCRIPT' USER                         (become_method: su)
 *
 * where PRELUDE is the transport's own first words for the command's shell (ssh.ts: the process
 * group line), so the script's shell is the only shell after sudo or su: ssh runs this line with
 * `exec` from the login shell, without an `sh -c` of its own around it.
 *
 * and BecomeSession watches the command's stderr while it starts:
 *  - PROMPT appears      -> write the password to stdin (only then, so a sudo or su that does
 *                           not ask never receives the password as the command's input);
 *                           su's prompt is its own ("Password: "): any text before MARKER that
 *                           ends with a colon. su reads it from stdin when there is no terminal.
 *  - PROMPT appears again -> the password was wrong: stop at once with BecomeError;
 *  - MARKER appears      -> we are in: send the caller's stdin; later stderr is the command's.
 * If the command ends without MARKER, sudo or su refused: BecomeError with its own words.
 */
import { randomBytes } from 'node:crypto';
import { quote } from '../core/quote.js';
import { BecomeError, type BecomeMethod } from './types.js';

export interface BecomeSpec {
  user: string;
  password?: string;
  /** sudo when unset. */
  method?: BecomeMethod;
}

/** What BecomeSession needs from the running process. */
export interface ProcessIo {
  write(data: string | Buffer): void;
  end(): void;
  /** Stop the process (sudo refused or hung). */
  abort(): void;
}

/** sudo (or su) should let us in within this time; it does not otherwise time out reading a password. */
export const SUDO_START_TIMEOUT_MS = 20_000;

export class BecomeSession {
  /** Shell command line to run instead of the script. */
  readonly command: string;
  private readonly marker: string;
  private readonly prompt: string;
  /** stderr before MARKER: sudo's own output (prompts, errors). */
  private preamble = Buffer.alloc(0);
  private begun = false;
  private prompts = 0;
  private failure?: string;
  private io?: ProcessIo;
  private startTimer?: NodeJS.Timeout;

  constructor(
    script: string,
    private readonly spec: BecomeSpec,
    private readonly stdin: Buffer | undefined,
    private readonly host: string,
    prelude?: string,
  ) {
    const id = randomBytes(8).toString('hex');
    this.marker = `tsplay-become-ok-${id}`;
    this.prompt = `tsplay-sudo-password-${id}:`;
    const inner = quote(`echo ${this.marker} >&2\n${prelude ? `${prelude}\n` : ''}${script}`);
    const user = quote(spec.user);
    if (this.su) this.command = `su -s /bin/sh -c ${inner} ${user}`;
    else
      this.command =
        spec.password === undefined
          ? `sudo -H -n -u ${user} -- sh -c ${inner}`
          : `sudo -H -S -k -p ${quote(this.prompt)} -u ${user} -- sh -c ${inner}`;
  }

  private get su(): boolean {
    return this.spec.method === 'su';
  }

  /** The command's input waits for MARKER, unless sudo runs without a password (-n never reads stdin). */
  private get stdinFirst(): boolean {
    return !this.su && this.spec.password === undefined;
  }

  /** Call once the process is running. */
  attach(io: ProcessIo): void {
    this.io = io;
    // Without a password sudo never reads stdin (-n), so the command's input can go now.
    if (this.stdinFirst) this.sendStdin();
    this.startTimer = setTimeout(() => this.fail(`${this.su ? 'su' : 'sudo'} did not start the command within ${SUDO_START_TIMEOUT_MS / 1000} s`), SUDO_START_TIMEOUT_MS);
    this.startTimer.unref?.();
  }

  /** Feed every stderr chunk; returns the part that is the command's own stderr. */
  stderr(chunk: Buffer): Buffer {
    if (this.begun) return chunk;
    this.preamble = Buffer.concat([this.preamble, chunk]);
    const at = this.preamble.indexOf(this.marker);
    if (at >= 0) {
      let rest = at + this.marker.length;
      if (this.preamble[rest] === 0x0a) rest++;
      else if (rest >= this.preamble.length) {
        // The newline after the marker has not arrived yet: wait for it.
        return Buffer.alloc(0);
      }
      const own = this.preamble.subarray(rest);
      this.preamble = this.preamble.subarray(0, at);
      this.begun = true;
      clearTimeout(this.startTimer);
      if (!this.stdinFirst) this.sendStdin();
      return own;
    }
    if (this.su) {
      // su asks once; a wrong password ends it with "Authentication failure" (explained by check).
      if (this.prompts === 0 && /:[ \t]*$/.test(this.preamble.toString('utf8'))) {
        this.prompts = 1;
        if (this.spec.password === undefined) this.fail(`su asks for the password of ${this.spec.user}: set become_password (ansible_become_password)`);
        else this.io?.write(`${this.spec.password}\n`);
      }
      return Buffer.alloc(0);
    }
    const prompts = countOccurrences(this.preamble, this.prompt);
    if (prompts > this.prompts) {
      this.prompts = prompts;
      if (prompts === 1) this.io?.write(`${this.spec.password}\n`);
      else this.fail(`sudo rejected the become password (become_password) for becoming ${this.spec.user}`);
    }
    return Buffer.alloc(0);
  }

  /** True once sudo let us in: the script's shell is running. */
  get started(): boolean {
    return this.begun;
  }

  /** True when the session stopped the process itself (wrong password, sudo or su hung). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Call when the process has ended: throws BecomeError when sudo or su did not run the command. */
  check(code: number): void {
    clearTimeout(this.startTimer);
    if (this.failure) throw new BecomeError(`become failed on ${this.host}: ${this.failure}`);
    if (this.begun) return;
    throw new BecomeError(`become failed on ${this.host}: ${this.explain(code)}`);
  }

  /** Stop waiting (the run ended for another reason, e.g. timeout). */
  dispose(): void {
    clearTimeout(this.startTimer);
  }

  private explain(code: number): string {
    const said = this.preamble
      .toString('utf8')
      .split(this.prompt)
      .join('')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const text = said.join('; ');
    if (this.su) return this.explainSu(code, text);
    if (code === 127 || /sudo: (command )?not found/.test(text)) return `sudo is not installed (needed to become ${this.spec.user})`;
    if (/a (terminal|password) is required/.test(text))
      return `sudo needs a password to become ${this.spec.user}: set become_password (or allow NOPASSWD in sudoers)`;
    if (/incorrect password/.test(text)) return `sudo rejected the become password (become_password) for becoming ${this.spec.user}`;
    return text ? `sudo refused to become ${this.spec.user}: ${text}` : `sudo exited with code ${code} before running the command`;
  }

  private explainSu(code: number, text: string): string {
    const words = text.replace(/^[^:\n]*:\s*(?=su:)/, '');
    if (code === 127 || /su: (command )?not found/.test(text)) return `su is not installed (needed to become ${this.spec.user})`;
    if (/Authentication failure|incorrect password/i.test(text)) return `su rejected the become password (become_password) for becoming ${this.spec.user}`;
    if (/must be run from a terminal/.test(text)) return `su needs a terminal on this host to read the password; use become_method: sudo`;
    return words ? `su refused to become ${this.spec.user}: ${words}` : `su exited with code ${code} before running the command`;
  }

  private sendStdin(): void {
    if (this.stdin !== undefined && this.stdin.length > 0) this.io?.write(this.stdin);
    this.io?.end();
  }

  private fail(reason: string): void {
    if (this.begun || this.failure) return;
    this.failure = reason;
    this.io?.abort();
  }
}

function countOccurrences(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

export function toBuffer(data: string | Buffer | undefined): Buffer | undefined {
  return data === undefined ? undefined : typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
