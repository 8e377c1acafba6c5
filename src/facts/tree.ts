/**
 * `treeMismatch(path, want)`: for `file` with `recurse`, the first path below `path` whose
 * owner, group or mode differs from what is wanted (symlinks are skipped, as chmod -R does).
 * Modes are given per kind: directories, files without any x bit, files with one.
 */
import { fact, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { normPath } from './keys.js';
import { outputLines } from './util.js';

export interface TreeWant {
  owner?: string;
  group?: string;
  modes?: { dir: string; file: string; fileExec: string };
}

export interface TreeMismatchFact {
  /** First path that differs, null when all match. */
  first: string | null;
  /** find could not run the test (e.g. the owner does not exist yet). */
  unknown?: true;
}

const idTest = (kind: 'user' | 'group', spec: string) => (/^\d+$/.test(spec) ? sh`-${raw(kind[0] + 'id')} ${spec}` : sh`-${raw(kind)} ${spec}`);

export function treeMismatch(path: string, want: TreeWant): Fact<TreeMismatchFact> {
  const tests: string[] = [];
  if (want.owner !== undefined) tests.push(`! ${idTest('user', want.owner)}`);
  if (want.group !== undefined) tests.push(`! ${idTest('group', want.group)}`);
  if (want.modes) {
    const { dir, file, fileExec } = want.modes;
    tests.push(
      sh`\\( -type d ! -perm ${dir} \\) -o \\( -type f -perm /111 ! -perm ${fileExec} \\) -o \\( -type f ! -perm /111 ! -perm ${file} \\)`,
    );
  }
  const expr = tests.length ? tests.join(' -o ') : '-false';
  const key = `tree:${normPath(path)}:${JSON.stringify(want)}`;
  const command = sh`find ${path} -mindepth 1 ! -type l \\( ${raw(expr)} \\) -print -quit 2>&1`;
  return fact(key, command, (out) => {
    const first = outputLines(out)[0];
    if (out.code !== 0) return { first: first ?? null, unknown: true };
    return { first: first ?? null };
  });
}
