/** Finding a role's or project's local files (templates/, files/, vars/) on the controller. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { decryptVaultBytes, isVaultText, VaultError } from '../yaml/vault.js';
import { isAbsolute, join } from 'node:path';
import type { LoadedRole } from './model.js';

export interface FileSearch {
  role?: LoadedRole;
  playbookDir: string;
}

/**
 * The bytes of a local file (a copy src, a template); a file encrypted whole with Ansible vault
 * is decrypted with the run's vault passwords (a UserError when none decrypts it).
 */
export function readLocalFile(file: string): { bytes: Buffer; vault: boolean } {
  const bytes = readFileSync(file);
  if (!isVaultText(bytes.subarray(0, 64).toString('latin1'))) return { bytes, vault: false };
  try {
    return { bytes: decryptVaultBytes(bytes.toString('latin1')), vault: true };
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    throw new UserError({ severity: 'error', message: e.describe(`"${file}"`), pos: { file, line: 1, col: 1 }, hint: e.hint });
  }
}

/** Candidate paths, in lookup order: role/KIND/name, role/name, project/KIND/name, project/name. */
export type LocalKind = 'templates' | 'files' | 'vars';

export function fileCandidates(kind: LocalKind, name: string, where: FileSearch): string[] {
  if (isAbsolute(name)) return [name];
  const out: string[] = [];
  if (where.role) out.push(join(where.role.dir, kind, name), join(where.role.dir, name));
  out.push(join(where.playbookDir, kind, name), join(where.playbookDir, '..', kind, name), join(where.playbookDir, name));
  return out;
}

export function findLocalFile(kind: LocalKind, name: string, where: FileSearch): string | undefined {
  return fileCandidates(kind, name, where).find((p) => existsSync(p) && statSync(p).isFile());
}

/** A folder looked up like findLocalFile (include_vars dir:). */
export function findLocalDir(kind: LocalKind, name: string, where: FileSearch): string | undefined {
  return fileCandidates(kind, name, where).find((p) => existsSync(p) && statSync(p).isDirectory());
}

/** The files under `dir`, sorted by path, at most `depth` levels down (0: no limit). */
export function filesUnder(dir: string, depth = 0): string[] {
  const out: string[] = [];
  const visit = (d: string, level: number) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (depth === 0 || level < depth) visit(p, level + 1);
      } else if (e.isFile()) out.push(p);
    }
  };
  visit(dir, 1);
  return out;
}
