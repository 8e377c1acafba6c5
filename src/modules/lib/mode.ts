/**
 * File modes: "644", "0644" or symbolic "u=rw,g=r,o=r", "u+x", "a-w", "u=rwX". A symbolic mode
 * is resolved against the current mode the way chmod does (with an empty "who" meaning "a",
 * umask ignored), so modules can compare modes and always pass octal to chmod.
 */

export function isOctalMode(spec: string): boolean {
  return /^0?[0-7]{3,4}$/.test(spec);
}

/** "644" -> "0644", "4755" -> "4755". */
export function normalizeOctal(spec: string): string {
  return spec.replace(/^0(?=[0-7]{4}$)/, '').padStart(4, '0');
}

const BITS: Record<string, Record<string, number>> = {
  u: { r: 0o400, w: 0o200, x: 0o100, s: 0o4000, t: 0 },
  g: { r: 0o040, w: 0o020, x: 0o010, s: 0o2000, t: 0 },
  o: { r: 0o004, w: 0o002, x: 0o001, s: 0, t: 0o1000 },
};

/**
 * The octal mode a spec gives, starting from `current` ("0644"). Returns undefined for a
 * symbolic spec when the current mode is unknown (new file): then pass the spec to chmod as is.
 */
export function resolveMode(spec: string, current: string | undefined, isDir: boolean): string | undefined {
  if (isOctalMode(spec)) return normalizeOctal(spec);
  if (current === undefined) return undefined;
  let mode = parseInt(current, 8);
  for (const clause of spec.split(',').filter(Boolean)) {
    const m = /^([ugoa]*)(.*)$/.exec(clause)!;
    const who = (m[1] || 'a').replace(/a/g, 'ugo');
    for (const op of m[2]!.match(/[-+=][rwxXst]*/g) ?? []) {
      const hadExec = (mode & 0o111) !== 0;
      let bits = 0;
      let clear = 0;
      for (const w of new Set(who)) {
        const table = BITS[w]!;
        clear |= table.r! | table.w! | table.x! | table.s! | table.t!;
        for (const p of op.slice(1)) {
          if (p === 'X') bits |= isDir || hadExec ? table.x! : 0;
          else bits |= table[p]!;
        }
      }
      if (op[0] === '+') mode |= bits;
      else if (op[0] === '-') mode &= ~bits;
      else mode = (mode & ~clear) | bits;
    }
  }
  return mode.toString(8).padStart(4, '0');
}

/** True when an owner/group spec (name or numeric id) names the given name/id. */
export function sameId(spec: string, name: string, id: number): boolean {
  return spec === name || (/^\d+$/.test(spec) && Number(spec) === id);
}

/**
 * For recursive use: the mode a spec gives a directory, a file without x bits and a file with
 * one. Undefined for relative symbolic specs (u+x), whose result depends on each file.
 */
export function recursiveModes(spec: string): { dir: string; file: string; fileExec: string } | undefined {
  if (isOctalMode(spec)) {
    const m = normalizeOctal(spec);
    return { dir: m, file: m, fileExec: m };
  }
  const clauses = spec.split(',').filter(Boolean);
  const covered = new Set<string>();
  for (const c of clauses) {
    const m = /^([ugoa]*)=[rwxXst]*$/.exec(c);
    if (!m) return undefined;
    for (const w of (m[1] || 'a').replace(/a/g, 'ugo')) covered.add(w);
  }
  if (covered.size !== 3) return undefined;
  return {
    dir: resolveMode(spec, '0000', true)!,
    file: resolveMode(spec, '0000', false)!,
    fileExec: resolveMode(spec, '0100', false)!,
  };
}
