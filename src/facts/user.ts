/**
 * `user(name)`: the passwd entry (uid, gid, comment, home, shell), the primary group name,
 * the supplementary groups (`id -Gn`) and the sha256 of the shadow password hash (so the hash
 * itself never travels; null when the shadow file cannot be read).
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type UserFact =
  | { exists: false }
  | {
      exists: true;
      name: string;
      uid: number;
      gid: number;
      comment: string;
      home: string;
      shell: string;
      /** Primary group name ("" when the gid has no name). */
      group: string;
      /** Supplementary groups, sorted, without the primary group. */
      groups: string[];
      /** sha256 of the password field of /etc/shadow; null when it could not be read. */
      passwordSha256: string | null;
    };

export function user(name: string): Fact<UserFact> {
  const command =
    sh`if getent passwd -- ${name}; then echo "primary $(id -gn -- ${name} 2>/dev/null)"; ` +
    sh`echo "groups $(id -Gn -- ${name} 2>/dev/null)"; ` +
    sh`if s=$(getent shadow -- ${name} 2>/dev/null); then printf '%s\n' "$s" | cut -d: -f2 | tr -d '\n' | sha256sum; ` +
    `else echo unknown; fi; else echo absent; fi`;
  return fact(keys.user(name), `( ${command} )`, (out) => parseUser(name, out));
}

function parseUser(name: string, out: ExecResult): UserFact {
  const lines = outputLines(out);
  if (lines[0] === 'absent') return { exists: false };
  const pw = (lines[0] ?? '').split(':');
  const primary = lines.find((l) => l.startsWith('primary '));
  const groupsLine = lines.find((l) => l.startsWith('groups '));
  const sha = /^([0-9a-f]{64})\b/.exec(lines[3] ?? '');
  if (pw.length < 7 || primary === undefined || groupsLine === undefined) throw factFailed(`user ${name}`, out);
  const group = primary.slice('primary '.length).trim();
  const groups = groupsLine
    .slice('groups '.length)
    .split(/\s+/)
    .filter((g) => g && g !== group)
    .sort();
  return {
    exists: true,
    name: pw[0]!,
    uid: Number(pw[2]),
    gid: Number(pw[3]),
    comment: pw[4]!,
    home: pw[5]!,
    shell: pw[6]!,
    group,
    groups: [...new Set(groups)],
    passwordSha256: sha ? sha[1]! : null,
  };
}
