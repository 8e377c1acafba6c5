/**
 * nfs-shares' folders on the server:
 *   ROOT            0755 root:root when created (an existing root is left as it is)
 *   ROOT/USER       owned by the user and its primary group, 0700 (or 0750): nobody else writes
 *   ROOT/SHARED     root:GROUP 3770: setgid (new files get GROUP) + sticky (only a file's owner
 *                   may delete or rename it) + rwx for the group, nothing for others
 * Modes are set with five octal digits (chmod 03770, 00700): GNU chmod keeps a directory's
 * setgid bit on a four-digit mode, so "0700" would never clear an inherited setgid.
 */
import { change, failPlan, noop, type ExecStep, type Fact, type Plan } from '../../../core/module.js';
import { sh } from '../../../core/quote.js';
import { keys } from '../../../facts/keys.js';
import { stat, type StatFact } from '../../../facts/stat.js';
import { primaryGroup } from './nfs-accounts.js';
import type { NfsSettings } from './nfs-params.js';

export const SHARED_MODE = '3770';

export interface DirWant {
  path: string;
  owner: string;
  group: string;
  /** Four octal digits, e.g. "3770". */
  mode: string;
}

const chmodMode = (mode: string) => `0${mode}`;

export function planDir(want: DirWant, st: StatFact): Plan {
  const { path, owner, group, mode } = want;
  const after: StatFact = { exists: true, type: 'directory', mode, owner, group, uid: -1, gid: -1, size: 0 };
  if (!st.exists) {
    return change(
      `create ${path} (${owner}:${group} ${mode})`,
      [{ kind: 'exec', cmd: sh`mkdir -p -- ${path} && chown ${`${owner}:${group}`} -- ${path} && chmod ${chmodMode(mode)} -- ${path}` }],
      { assume: { [keys.stat(path)]: after } },
    );
  }
  if (st.type !== 'directory') return failPlan(`${path} exists and is not a directory (${st.type})`);
  const steps: ExecStep[] = [];
  const changes: string[] = [];
  if (st.owner !== owner || st.group !== group) {
    steps.push({ kind: 'exec', cmd: sh`chown ${`${owner}:${group}`} -- ${path}` });
    changes.push(`change owner of ${path}: ${st.owner}:${st.group} -> ${owner}:${group}`);
  }
  // chown may clear setgid, so the mode is (re)applied after any chown.
  if (st.mode !== mode || steps.length) {
    steps.push({ kind: 'exec', cmd: sh`chmod ${chmodMode(mode)} -- ${path}` });
    if (st.mode !== mode) changes.push(`change mode of ${path}: ${st.mode} -> ${mode}`);
  }
  if (!steps.length) return noop(`${path} is as wanted`);
  return change(changes, steps, { assume: { [keys.stat(path)]: { ...st, owner, group, mode } } });
}

export function folderPaths(s: NfsSettings): { root: string; users: Array<{ user: string; path: string }>; shared?: string } {
  return {
    root: s.root,
    users: s.users.map((u) => ({ user: u.name, path: `${s.root}/${u.name}`.replace(/^\/\//, '/') })),
    ...(s.sharedFolder !== false ? { shared: `${s.root}/${s.sharedFolder}`.replace(/^\/\//, '/') } : {}),
  };
}

export function probeFolders(s: NfsSettings): Record<string, Fact> {
  const { root, users, shared } = folderPaths(s);
  const paths = [root, ...users.map((u) => u.path), ...(shared ? [shared] : [])];
  return Object.fromEntries(paths.map((p) => [keys.stat(p), stat(p)]));
}

/** The folder plans in order: root first, then the user folders, then the shared folder. */
export function planFolders(s: NfsSettings, f: Record<string, unknown>): Plan[] {
  const { root, users, shared } = folderPaths(s);
  const st = (p: string) => f[keys.stat(p)] as StatFact;
  const rootSt = st(root);
  const plans: Plan[] = [
    rootSt.exists
      ? rootSt.type === 'directory'
        ? noop(`${root} exists`)
        : failPlan(`root ${root} exists and is not a directory`)
      : planDir({ path: root, owner: 'root', group: 'root', mode: '0755' }, rootSt),
  ];
  for (const u of users) plans.push(planDir({ path: u.path, owner: u.user, group: primaryGroup(u.user, f), mode: s.userFolderMode }, st(u.path)));
  if (shared && s.group) plans.push(planDir({ path: shared, owner: 'root', group: s.group.name, mode: SHARED_MODE }, st(shared)));
  return plans;
}
