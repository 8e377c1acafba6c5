/**
 * Applying planned steps on a host. `put` is atomic: the content goes to a temp file in the
 * target's folder (0600 while being written), gets its mode/owner, is validated, an optional
 * backup is taken, then it is renamed over the target — all in ONE exec, content on stdin.
 * A trap removes the temp file if anything fails or the command is interrupted. The byte count
 * is checked before anything else, so content cut short (stdin closed by an interrupted
 * connection) is never renamed into place; after an aborted put the engine removes the temp
 * file itself, since a SIGKILLed script cannot run its trap.
 *
 * A put with `expect` is conditional: right before the rename the script compares the target
 * with the state the plan was made from (sha256, or absent) and exits 6 (WriteConflict) without
 * touching it when it differs; the engine then reads and plans again. Conditional puts hold a
 * flock on the target's folder for the compare and rename, so tsplay runs take turns; a writer
 * that takes no lock can still change the file between the compare and the rename.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Connection, RunOptions } from '../connection/types.js';
import type { ExecResult, PutStep, Step } from '../core/module.js';
import { quote } from '../core/quote.js';

export interface StepContext {
  conn: Connection;
  become?: RunOptions['become'];
  environment?: Record<string, string>;
  signal?: AbortSignal;
}

export class StepFailed extends Error {
  constructor(
    readonly step: Step,
    readonly result: ExecResult,
    message: string,
  ) {
    super(message);
    this.name = 'StepFailed';
  }
}

/** The exit code of a put whose target changed since the plan read it. */
const CONFLICT_EXIT = 6;

/** A put refused: the target is no longer what the plan was made from (nothing was written). */
export class WriteConflict extends StepFailed {
  constructor(step: PutStep, result: ExecResult) {
    super(step, result, `${step.path} changed on the host since tsplay read it; not replaced`);
    this.name = 'WriteConflict';
  }
}

function envPrefix(env?: Record<string, string>): string {
  if (!env || !Object.keys(env).length) return '';
  return `export ${Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(' ')}; `;
}

/** The temp file a put writes first: beside the target, so the final rename is atomic. */
export function putTempPath(path: string, nonce: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.tsplay-${nonce}.tmp`);
}

/** The shell script that writes a file atomically (content arrives on stdin). */
export function putScript(step: PutStep, nonce = randomBytes(6).toString('hex')): string {
  const dir = posix.dirname(step.path);
  const tmp = putTempPath(step.path, nonce);
  const size = typeof step.content === 'string' ? Buffer.byteLength(step.content, 'utf8') : step.content.length;
  const q = quote;
  const lines = [
    'set -e',
    `tmp=${q(tmp)}; dest=${q(step.path)}`,
    `trap 'rm -f "$tmp"' EXIT INT TERM HUP PIPE`,
    `[ -d ${q(dir)} ] || { echo "folder ${dir.replace(/["$`\\]/g, '')} does not exist" >&2; exit 3; }`,
    '( umask 077; cat > "$tmp" )',
    `[ $(wc -c < "$tmp") -eq ${size} ] || { echo "the content arrived incomplete" >&2; exit 5; }`,
  ];
  if (step.mode) lines.push(`chmod ${q(step.mode)} "$tmp"`);
  else lines.push('if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; else chmod 0644 "$tmp"; fi');
  if (step.owner || step.group) lines.push(`chown ${q(`${step.owner ?? ''}${step.group ? `:${step.group}` : ''}`)} "$tmp"`);
  else lines.push('if [ -e "$dest" ]; then chown --reference="$dest" "$tmp" 2>/dev/null || true; fi');
  if (step.validate) {
    const cmd = step.validate.includes('%s') ? step.validate.split('%s').join('"$tmp"') : `${step.validate} "$tmp"`;
    lines.push(`if ! out=$( ${cmd} 2>&1 ); then printf 'validation failed: %s\\n' "$out" >&2; exit 4; fi`);
  }
  if (step.expect) {
    // Writers that check serialise on a lock of the folder (its inode survives the rename), so
    // their compare-and-rename is atomic among them; an outside writer takes no lock.
    lines.push(`if command -v flock >/dev/null 2>&1 && [ -r ${q(dir)} ]; then exec 9<${q(dir)}; flock -w 60 9 || { echo "another write held the lock on the folder for 60 s" >&2; exit 7; }; fi`);
  }
  if (step.backup) lines.push('bak=; if [ -e "$dest" ]; then bak="$dest.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p "$dest" "$bak"; fi');
  if (step.expect) {
    // Right before the rename: the target must still be what the plan was made from.
    const unchanged = step.expect === 'absent' ? '[ ! -e "$dest" ] && [ ! -L "$dest" ]' : `[ "$(sha256sum < "$dest" 2>/dev/null || true)" = ${q(`${step.expect.sha256}  -`)} ]`;
    const dropBackup = step.backup ? '[ -z "$bak" ] || rm -f "$bak"; ' : '';
    lines.push(`${unchanged} || { ${dropBackup}echo "the file changed since it was read; not replaced" >&2; exit ${CONFLICT_EXIT}; }`);
  }
  lines.push('mv -f "$tmp" "$dest"', 'trap - EXIT INT TERM HUP PIPE');
  return lines.join('\n');
}

export async function runStep(step: Step, ctx: StepContext): Promise<ExecResult> {
  if (step.kind === 'exec') {
    const res = await ctx.conn.run(envPrefix(ctx.environment) + step.cmd, { stdin: step.stdin, become: ctx.become, timeoutMs: step.timeoutMs, signal: ctx.signal });
    const ok = step.okCodes ?? [0];
    if (!ok.includes(res.code)) throw new StepFailed(step, res, `command failed with exit code ${res.code}`);
    return res;
  }
  const nonce = randomBytes(6).toString('hex');
  let res: ExecResult;
  try {
    res = await ctx.conn.run(putScript(step, nonce), { stdin: step.content, become: ctx.become, signal: ctx.signal });
  } catch (err) {
    // Interrupted: the script may have been SIGKILLed before its trap could remove the temp file.
    if (ctx.signal?.aborted) await ctx.conn.run(`rm -f -- ${quote(putTempPath(step.path, nonce))}`, { become: ctx.become, timeoutMs: 5000 }).catch(() => undefined);
    throw err;
  }
  if (res.code === CONFLICT_EXIT && step.expect) throw new WriteConflict(step, res);
  if (res.code !== 0) {
    const reason =
      res.code === 4 ? 'validation failed' : res.code === 3 ? 'target folder does not exist' : res.code === 5 ? 'the content arrived incomplete' : `writing ${step.path} failed with exit code ${res.code}`;
    throw new StepFailed(step, res, `${reason}: ${step.path}`);
  }
  return res;
}
