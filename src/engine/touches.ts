/**
 * What a step can have changed on its host, in the words of fact keys (src/facts/keys.ts), so
 * that the fact reader drops only the cached facts a step can have made stale:
 *
 *   file:/etc/app.conf   the path, everything below it, and its parent folders' metadata
 *   pkg:nginx  pkg:*     a package's installed state (and its apt candidate)
 *   unit:nginx.service   a service (systemd unit or SysV script), `unit:*` every one
 *   user:deploy group:x  an account (`user:*`, `group:*`)
 *
 * A put step touches its path. An exec step touches what its `touches` list says; without one
 * it may have changed anything (conservative: every cached fact is dropped). Facts of other
 * kinds (firewall, docker, sockets, host facts, ...) are dropped by any step that touches
 * something. Known limit: a path is compared by name, so a fact read through a symbolic link
 * is not dropped by a write to the link's target under another name.
 */
import type { Step } from '../core/module.js';

/** What a step touches; undefined when it may have changed anything. */
export function stepTouches(step: Step): string[] | undefined {
  return step.kind === 'put' ? [`file:${step.path}`] : step.touches;
}

/** Path facts: the key ends with the path (`stat:/p`, `pathinfo:follow::/p`; `file:/p` for any other). */
const PATH_KEYS = new Set(['file', 'stat', 'content', 'times', 'pathinfo']);
/** Path facts that look below a folder; their key holds more than the path: any file touch drops them. */
const TREE_KEYS = new Set(['tree', 'find']);
/** The fact kinds each named touch kind can change. */
const NAMED: Record<string, string[]> = {
  pkg: ['pkg', 'apt-candidate'],
  unit: ['unit', 'sysv', 'user-unit'],
  user: ['user'],
  group: ['group'],
};
/** Files that named facts are read from: a write there changes those facts too. */
const FILES_OF: Array<[string, string[]]> = [
  ['/etc/passwd', ['user']],
  ['/etc/shadow', ['user']],
  ['/etc/group', ['group', 'user']],
  ['/etc/gshadow', ['group']],
  ['/etc/systemd', NAMED.unit!],
  ['/lib/systemd', NAMED.unit!],
  ['/usr/lib/systemd', NAMED.unit!],
  ['/run/systemd', NAMED.unit!],
  ['/etc/init.d', NAMED.unit!],
  ['/etc/apt', NAMED.pkg!],
  ['/var/lib/dpkg', NAMED.pkg!],
  ['/var/lib/apt', NAMED.pkg!],
];
/** Named fact kinds, changed only by their own touches (or by an undeclared step). */
const NAMED_KEYS = new Set(Object.values(NAMED).flat());

const kindOf = (key: string) => key.slice(0, Math.max(0, key.indexOf(':')));

/** Whether a step that touches `touch` can have changed the fact with key `key`. */
export function overlaps(touch: string, key: string): boolean {
  const tKind = kindOf(touch);
  const tName = touch.slice(tKind.length + 1);
  const kind = kindOf(key);
  if (tKind === 'file') {
    if (TREE_KEYS.has(kind)) return true;
    if (PATH_KEYS.has(kind)) {
      const at = key.indexOf(':/');
      return at < 0 || !tName.startsWith('/') || pathsOverlap(tName, key.slice(at + 1));
    }
    if (!NAMED_KEYS.has(kind)) return true;
    return !tName.startsWith('/') || FILES_OF.some(([path, kinds]) => kinds.includes(kind) && pathsOverlap(tName, path));
  }
  const kinds = NAMED[tKind];
  if (!kinds) return true; // a touch tsplay does not know: anything
  if (kinds.includes(kind)) return tName === '*' || key.slice(kind.length + 1) === tName;
  return !NAMED_KEYS.has(kind) && !PATH_KEYS.has(kind) && !TREE_KEYS.has(kind);
}

/** The same path, one below the other, or one the parent folder of the other. */
function pathsOverlap(a: string, b: string): boolean {
  const norm = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  const [x, y] = [norm(a), norm(b)];
  const under = (p: string, dir: string) => dir === '/' || p.startsWith(`${dir}/`);
  return x === y || under(x, y) || under(y, x);
}
