/**
 * `userCrontab(user?)`: a user's crontab as `crontab -l` prints it, with its sha256 computed on
 * the host (so a write can check the crontab is still what was read), key `crontab:USER`.
 * `installed` is false when there is no crontab command (the cron package).
 */
import { fact, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { factFailed, outputLines } from './util.js';

export type CrontabFact = { installed: false } | { installed: true; sha256: string; content: string };

/** `crontab` with `-u USER` when a user is given. */
export const crontabCmd = (user: string | undefined) => (user === undefined ? 'crontab' : sh`crontab -u ${user}`);

export function userCrontab(user?: string): Fact<CrontabFact> {
  const c = crontabCmd(user);
  const command = sh`if command -v crontab >/dev/null 2>&1; then echo "sha:$(${raw(c)} -l 2>/dev/null | sha256sum | cut -c1-64)"; ${raw(c)} -l 2>/dev/null; true; else echo nocrontab; fi`;
  return fact(`crontab:${user ?? ''}`, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] === 'nocrontab') return { installed: false };
    const sha = /^sha:([0-9a-f]{64})$/.exec(lines[0] ?? '');
    if (!sha) throw factFailed(`the crontab${user ? ` of ${user}` : ''}`, out);
    const rest = lines.slice(1);
    return { installed: true, sha256: sha[1]!, content: rest.length ? rest.join('\n') + '\n' : '' };
  });
}
