/** Finding a role's or project's local files (templates/, files/) on the controller. */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { LoadedRole } from './model.js';

export interface FileSearch {
  role?: LoadedRole;
  playbookDir: string;
}

/** Candidate paths, in lookup order: role/KIND/name, role/name, project/KIND/name, project/name. */
export function fileCandidates(kind: 'templates' | 'files', name: string, where: FileSearch): string[] {
  if (isAbsolute(name)) return [name];
  const out: string[] = [];
  if (where.role) out.push(join(where.role.dir, kind, name), join(where.role.dir, name));
  out.push(join(where.playbookDir, kind, name), join(where.playbookDir, '..', kind, name), join(where.playbookDir, name));
  return out;
}

export function findLocalFile(kind: 'templates' | 'files', name: string, where: FileSearch): string | undefined {
  return fileCandidates(kind, name, where).find((p) => existsSync(p) && statSync(p).isFile());
}
