/**
 * nfs-shares, server role: nfs-kernel-server, the accounts, the folders (nfs-folders.ts) and the
 * exports file (nfs-exports.ts). `exportfs -ra` runs only when the exports file was written, or
 * when an exported folder is missing from the export table (an earlier exportfs failed, or the
 * table was flushed), so a converged server is a noop. exportfs cannot check a file before it
 * is live, which is why every export option is checked against its keywords at validation time.
 */
import { posix } from 'node:path';
import { change, failPlan, noop, type Fact, type Plan, type PlanContext } from '../../../core/module.js';
import { sh } from '../../../core/quote.js';
import apt from '../../packages/apt.js';
import { planWrite } from '../../lib/write-file.js';
import { keys } from '../../../facts/keys.js';
import { fileContent, type FileContentFact } from '../../../facts/file-content.js';
import { activeExports, nfsKeys, type ActiveExportsFact } from '../../../facts/nfs.js';
import { stat, type StatFact } from '../../../facts/stat.js';
import { planAccounts, probeAccounts } from './nfs-accounts.js';
import { exportedPaths, renderExports } from './nfs-exports.js';
import { folderPaths, planFolders, probeFolders } from './nfs-folders.js';
import type { NfsSettings } from './nfs-params.js';
import { PlanBuilder, part, planPart, probePart } from '../../lib/compose.js';

export const SERVER_PACKAGE = 'nfs-kernel-server';

const aptServer = () => part(apt, { name: [SERVER_PACKAGE], update_cache: true, cache_valid_time: 86400, install_recommends: false });

/** The folder holding the exports file, when tsplay may have to create it (/etc/exports.d). */
const exportsDir = (s: NfsSettings) => {
  const dir = posix.dirname(s.exportsFile);
  return dir === '/etc' ? undefined : dir;
};

export function probeServer(s: NfsSettings): Record<string, Fact> {
  const dir = exportsDir(s);
  return {
    ...probePart(aptServer()),
    ...probeAccounts(s),
    ...probeFolders(s),
    ...(dir ? { [keys.stat(dir)]: stat(dir) } : {}),
    [keys.stat(s.exportsFile)]: stat(s.exportsFile),
    [keys.content(s.exportsFile)]: fileContent(s.exportsFile),
    [nfsKeys.exports()]: activeExports(),
  };
}

function planExports(b: PlanBuilder, s: NfsSettings, f: Record<string, unknown>, ctx: PlanContext): string | undefined {
  const fileSt = f[keys.stat(s.exportsFile)] as StatFact;
  if (!s.exports.length && !fileSt.exists) return undefined;
  const dir = exportsDir(s);
  if (dir) {
    const dirSt = f[keys.stat(dir)] as StatFact;
    if (!dirSt.exists) b.step(`create ${dir}`, { kind: 'exec', cmd: sh`mkdir -p -m 0755 -- ${dir}` });
    else if (dirSt.type !== 'directory') return `${dir} exists and is not a directory`;
  }
  const write = planWrite(
    { path: s.exportsFile, content: renderExports(s), mode: '0644', owner: 'root', group: 'root' },
    { stat: fileSt, content: f[keys.content(s.exportsFile)] as FileContentFact },
    ctx,
  );
  const failed = b.add(write);
  if (failed) return failed;
  const written = 'changed' in write && write.changed && write.steps.some((st) => st.kind === 'put');
  const active = f[nfsKeys.exports()] as ActiveExportsFact;
  const missing = exportedPaths(s).filter((p) => !active.paths.includes(p));
  if (written || missing.length) {
    const why = written ? 'the exports changed' : `not in the export table: ${missing.join(', ')}`;
    b.step(`exportfs -ra (${why})`, { kind: 'exec', cmd: 'exportfs -ra', description: 'exportfs -ra' });
    b.assume[nfsKeys.exports()] = { available: true, paths: exportedPaths(s) } satisfies ActiveExportsFact;
  }
  return undefined;
}

export function planServer(s: NfsSettings, f: Record<string, unknown>, ctx: PlanContext): Plan {
  const b = new PlanBuilder();
  let failed = b.add(planPart(aptServer(), f, ctx)) ?? planAccounts(b, s, f, ctx);
  for (const plan of failed ? [] : planFolders(s, f)) failed ??= b.add(plan);
  failed ??= planExports(b, s, f, ctx);
  if (failed) return failPlan(failed);

  const folders = folderPaths(s);
  const output = {
    role: 'server',
    folders: { root: folders.root, users: Object.fromEntries(folders.users.map((u) => [u.user, u.path])), shared: folders.shared ?? null },
    exports_file: s.exportsFile,
    exported: exportedPaths(s),
  };
  if (b.empty) return noop(`${SERVER_PACKAGE} is installed; accounts, folders and exports are as wanted`, { output });
  return change(b.changes, b.steps, { diffs: b.diffs, assume: b.assume, output });
}
