/**
 * The variable names a vars file read at run time may define (include_vars, vars_files entries
 * chosen per host), for validation. A static name gives that file's keys; a templated name
 * ("{{ ansible_os_family }}.yml") gives the keys of every vars file in the folder it points
 * into, since any of them may be the one read.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Diagnostics } from '../core/errors.js';
import { loadYamlFile } from '../yaml/source.js';
import { filesUnder, findLocalDir, type FileSearch } from './files.js';

const VARS_EXTENSIONS = new Set(['.yml', '.yaml', '.json']);

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Keys of a vars file; nothing when it cannot be read (errors are not this check's to report). */
export function quietKeys(file: string): string[] {
  const data = loadYamlFile(file, new Diagnostics()).data;
  return isMap(data) ? Object.keys(data) : [];
}

/** The static folder part of a templated file name: "os/{{ x }}.yml" -> "os", "{{ x }}.yml" -> ".". */
export function staticFolder(name: string): string {
  const prefix = name.slice(0, name.indexOf('{{'));
  const slash = prefix.lastIndexOf('/');
  return slash < 0 ? '.' : prefix.slice(0, slash) || '/';
}

/** The vars files a templated name may resolve to: those of the folder it points into. */
export function templatedCandidates(name: string, where: FileSearch): string[] {
  const dir = findLocalDir('vars', staticFolder(name), where);
  if (!dir) return [];
  return filesUnder(dir, 1).filter((f) => VARS_EXTENSIONS.has(extname(f)));
}

/** The same for a templated vars_files entry: the folder is relative to the playbook's. */
export function templatedVarsFiles(name: string, playbookDir: string): string[] {
  const dir = resolve(playbookDir, staticFolder(name));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return filesUnder(dir, 1).filter((f) => VARS_EXTENSIONS.has(extname(f)));
}
