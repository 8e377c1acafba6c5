/**
 * `authorizedKeys(user)`: the user's home (from getent), primary group, the mode and owner of
 * ~/.ssh and ~/.ssh/authorized_keys, and the file's content (sent as base64) and its sha256.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sha256 } from './file-content.js';
import { sh } from '../core/quote.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export interface PathAttrs {
  mode: string;
  owner: string;
  group: string;
}

export type AuthorizedKeysFact =
  | { userExists: false }
  | {
      userExists: true;
      home: string;
      /** The user's primary group name. */
      group: string;
      /** ~/.ssh, or null when it does not exist. */
      dir: PathAttrs | null;
      /** ~/.ssh/authorized_keys, or null when it does not exist; sha256 is of its bytes. */
      file: (PathAttrs & { content: string; sha256: string }) | null;
    };

export function authorizedKeys(user: string): Fact<AuthorizedKeysFact> {
  const command =
    sh`( if p=$(getent passwd -- ${user}); then h=$(printf '%s\n' "$p" | cut -d: -f6); echo "home $h"; ` +
    sh`echo "group $(id -gn -- ${user} 2>/dev/null)"; ` +
    `if [ -d "$h/.ssh" ]; then stat -c 'dir %a %U %G' -- "$h/.ssh"; else echo 'dir absent'; fi; ` +
    `f="$h/.ssh/authorized_keys"; if [ -f "$f" ]; then stat -c 'file %a %U %G' -- "$f" && base64 < "$f"; else echo 'file absent'; fi; ` +
    'else echo nouser; fi )';
  return fact(keys.authorizedKeys(user), command, (out) => parseAuthorizedKeys(user, out));
}

function parseAuthorizedKeys(user: string, out: ExecResult): AuthorizedKeysFact {
  const lines = outputLines(out);
  if (lines[0] === 'nouser') return { userExists: false };
  const [home, group, dir, file, ...b64] = lines;
  if (!home?.startsWith('home ') || !group?.startsWith('group ') || !dir?.startsWith('dir ') || !file?.startsWith('file ')) {
    throw factFailed(`the authorized keys of ${user}`, out);
  }
  const attrs = (line: string): PathAttrs | null => {
    const [, mode, owner, grp] = line.split(' ');
    return mode === 'absent' || !owner || !grp ? null : { mode: mode!.padStart(4, '0'), owner, group: grp };
  };
  const fileAttrs = attrs(file);
  const bytes = Buffer.from(b64.join(''), 'base64');
  return {
    userExists: true,
    home: home.slice(5),
    group: group.slice(6),
    dir: attrs(dir),
    file: fileAttrs && { ...fileAttrs, content: bytes.toString('utf8'), sha256: sha256(bytes) },
  };
}
