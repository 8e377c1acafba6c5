/**
 * `group_vars/` and `host_vars/` folders, found beside each inventory source and beside the
 * playbook, read the way Ansible's host_group_vars plugin reads them. For a group `web`:
 *
 *   group_vars/web            (no extension)
 *   group_vars/web/           (a folder: every .yml/.yaml/.json or extension-less file in it,
 *                              recursively, in filename order; hidden files and `~` backups skipped)
 *   group_vars/web.yml, group_vars/web.yaml, group_vars/web.json
 *
 * all of which apply, in that order. Each file must be a YAML mapping (empty is fine).
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Diagnostics, didYouMean, type SourcePos } from '../core/errors.js';
import { loadYamlFile } from '../yaml/source.js';

export type VarsScope = 'inventory' | 'playbook';

/** One loaded vars file. */
export interface VarsFile {
  file: string;
  /** The group or host it is for. */
  entity: string;
  vars: Record<string, unknown>;
  /** Position of a variable's value in the file. */
  pos(key: string): SourcePos | undefined;
}

/** The group_vars/ and host_vars/ of one folder. */
export interface VarsDir {
  /** The folder holding group_vars/ and host_vars/. */
  dir: string;
  scope: VarsScope;
  groupVars: Map<string, VarsFile[]>;
  hostVars: Map<string, VarsFile[]>;
}

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

export function loadVarsDir(dir: string, scope: VarsScope, diags: Diagnostics): VarsDir {
  return {
    dir,
    scope,
    groupVars: loadKind(join(dir, 'group_vars'), diags),
    hostVars: loadKind(join(dir, 'host_vars'), diags),
  };
}

/** True when `dir` has a group_vars/ or host_vars/ folder. */
export function hasVarsDirs(dir: string): boolean {
  return isDir(join(dir, 'group_vars')) || isDir(join(dir, 'host_vars'));
}

/** Warns about vars files whose group or host is not in the inventory (a typo, most likely). */
export function checkVarsDirNames(vd: VarsDir, groups: Iterable<string>, hosts: Iterable<string>, diags: Diagnostics): void {
  const check = (files: Map<string, VarsFile[]>, known: string[], what: 'group' | 'host') => {
    const knownSet = new Set(known);
    for (const [entity, list] of files) {
      if (knownSet.has(entity) || (what === 'host' && LOCALHOST_NAMES.includes(entity))) continue;
      const guess = didYouMean(entity, known);
      diags.warning(
        `${what}_vars for ${what} '${entity}', which is not in the inventory${guess ? ` (did you mean '${guess}'?)` : ''}; the file is ignored`,
        { file: list[0]!.file, line: 1, col: 1 },
      );
    }
  };
  check(vd.groupVars, [...groups], 'group');
  check(vd.hostVars, [...hosts], 'host');
}

/** Names that resolve to the implicit localhost (Ansible's C.LOCALHOST). */
export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

/** entity name -> files, in the order they apply. */
function loadKind(folder: string, diags: Diagnostics): Map<string, VarsFile[]> {
  const out = new Map<string, VarsFile[]>();
  if (!isDir(folder)) return out;
  const found = new Map<string, Array<{ rank: number; files: string[] }>>();
  for (const entry of readdirSync(folder).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const full = join(folder, entry);
    const ext = extname(entry);
    if (isDir(full)) {
      addFound(found, entry, 0, dirFiles(full));
    } else if (VARS_EXTENSIONS.includes(ext) && ext !== '') {
      addFound(found, entry.slice(0, -ext.length), VARS_EXTENSIONS.indexOf(ext), [full]);
    } else {
      addFound(found, entry, 0, [full]);
    }
  }
  for (const [entity, ranked] of found) {
    const files = ranked.sort((a, b) => a.rank - b.rank).flatMap((r) => r.files);
    const loaded = files.map((f) => loadVarsFile(f, entity, diags)).filter((x): x is VarsFile => x !== undefined);
    if (loaded.length) out.set(entity, loaded);
  }
  return out;
}

function addFound(found: Map<string, Array<{ rank: number; files: string[] }>>, entity: string, rank: number, files: string[]): void {
  const list = found.get(entity) ?? [];
  list.push({ rank, files });
  found.set(entity, list);
}

/** Files of a per-entity folder, recursively, in filename order. */
function dirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const full = join(dir, entry);
    const ext = extname(entry);
    if (isDir(full)) {
      if (!ext) out.push(...dirFiles(full));
    } else if (VARS_EXTENSIONS.includes(ext)) {
      out.push(full);
    }
  }
  return out;
}

function loadVarsFile(file: string, entity: string, diags: Diagnostics): VarsFile | undefined {
  const before = diags.errors.length;
  const yf = loadYamlFile(file, diags);
  if (diags.errors.length > before) return undefined;
  const data = yf.data;
  if (data === null || data === undefined) return { file, entity, vars: {}, pos: () => undefined };
  if (typeof data !== 'object' || Array.isArray(data) || Object.getPrototypeOf(data) !== Object.prototype) {
    diags.error(`a vars file must be a mapping of variable names to values, found ${Array.isArray(data) ? 'a list' : typeof data}`, yf.pos());
    return undefined;
  }
  return { file, entity, vars: data as Record<string, unknown>, pos: (key) => yf.pos([key]) };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
