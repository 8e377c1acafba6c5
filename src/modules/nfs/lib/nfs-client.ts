/**
 * nfs-shares, client role: nfs-common, the accounts (same ids as the server), a mount point per
 * mount, one managed /etc/fstab line per mount point (nfs-fstab.ts, written atomically with a
 * backup), and `mount` for entries not mounted yet — only when the kernel can mount NFS (`nfs`
 * in /proc/filesystems or a loadable nfs module). Otherwise the entries stay in fstab for the
 * next boot and the plan says why nothing was mounted.
 */
import { change, failPlan, noop, type Fact, type Plan, type PlanContext } from '../../../core/module.js';
import { sh } from '../../../core/quote.js';
import apt from '../../packages/apt.js';
import { planWrite } from '../../lib/write-file.js';
import { keys } from '../../../facts/keys.js';
import { fileContent, type FileContentFact } from '../../../facts/file-content.js';
import { canMount, mountPoints, nfsKernel, nfsKeys, type MountsFact, type NfsKernelFact } from '../../../facts/nfs.js';
import { stat, type StatFact } from '../../../facts/stat.js';
import { planAccounts, probeAccounts } from './nfs-accounts.js';
import { FSTAB, fstabLine, updateFstab } from './nfs-fstab.js';
import type { MountSpec, NfsSettings } from './nfs-params.js';
import { PlanBuilder, part, planPart, probePart } from '../../lib/compose.js';

export const CLIENT_PACKAGE = 'nfs-common';
export const NO_KERNEL_SUPPORT = 'the kernel has no NFS support (no nfs in /proc/filesystems and no nfs module to load)';

const aptClient = () => part(apt, { name: [CLIENT_PACKAGE], update_cache: true, cache_valid_time: 86400, install_recommends: false });

export function probeClient(s: NfsSettings): Record<string, Fact> {
  return {
    ...probePart(aptClient()),
    ...probeAccounts(s),
    ...Object.fromEntries(s.mounts.map((m) => [keys.stat(m.path), stat(m.path)])),
    ...(s.mounts.length
      ? {
          [keys.stat(FSTAB)]: stat(FSTAB),
          [keys.content(FSTAB)]: fileContent(FSTAB),
          [nfsKeys.kernel()]: nfsKernel(),
          [nfsKeys.mounts()]: mountPoints(),
        }
      : {}),
  };
}

function planMountPoint(b: PlanBuilder, m: MountSpec, st: StatFact): string | undefined {
  if (!st.exists) {
    b.step(`create mount point ${m.path}`, { kind: 'exec', cmd: sh`mkdir -p -- ${m.path}` });
    b.assume[keys.stat(m.path)] = { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root', uid: 0, gid: 0, size: 0 } satisfies StatFact;
    return undefined;
  }
  return st.type === 'directory' ? undefined : `mount point ${m.path} exists and is not a directory`;
}

function planFstab(b: PlanBuilder, s: NfsSettings, f: Record<string, unknown>, ctx: PlanContext): string | undefined {
  const cur = f[keys.content(FSTAB)] as FileContentFact;
  if (cur.exists && (cur.type !== 'file' || cur.content === undefined)) return `cannot edit ${FSTAB}: it is not a readable text file`;
  const text = cur.exists && cur.type === 'file' ? cur.content! : '';
  const write = planWrite({ path: FSTAB, content: updateFstab(text, s.mounts), backup: true }, { stat: f[keys.stat(FSTAB)] as StatFact, content: cur }, ctx);
  const failed = b.add(write);
  if (failed || !('changed' in write && write.changed)) return failed;
  // A mounted share keeps its options until it is mounted again: say so rather than remount NFS.
  const mounted = (f[nfsKeys.mounts()] as MountsFact).targets;
  const lines = text.split('\n');
  for (const m of s.mounts) {
    if (mounted[m.path] !== undefined && !lines.includes(fstabLine(m))) {
      b.changes.push(`${m.path} is mounted: its new fstab entry applies at the next mount`);
    }
  }
  return undefined;
}

/** Mounts what is not mounted yet; returns the mount points left unmounted for lack of kernel support. */
function planMounts(b: PlanBuilder, s: NfsSettings, f: Record<string, unknown>): { unsupported: string[]; failed?: string } {
  const kernel = f[nfsKeys.kernel()] as NfsKernelFact;
  const mounts = f[nfsKeys.mounts()] as MountsFact;
  const targets = { ...mounts.targets };
  const unsupported: string[] = [];
  for (const m of s.mounts) {
    const fstype = mounts.targets[m.path];
    if (fstype !== undefined) {
      if (fstype !== 'nfs' && fstype !== 'nfs4') return { unsupported, failed: `${m.path} has a ${fstype} file system mounted, not NFS: unmount it first` };
      continue;
    }
    if (m.options.split(',').includes('noauto')) continue;
    if (!canMount(kernel, m.fstype)) {
      unsupported.push(m.path);
      continue;
    }
    b.step(`mount ${m.src} on ${m.path}`, { kind: 'exec', cmd: sh`mount -- ${m.path}`, timeoutMs: 120_000 });
    targets[m.path] = m.fstype;
  }
  b.assume[nfsKeys.mounts()] = { targets } satisfies MountsFact;
  return { unsupported };
}

export function planClient(s: NfsSettings, f: Record<string, unknown>, ctx: PlanContext): Plan {
  const b = new PlanBuilder();
  let failed = b.add(planPart(aptClient(), f, ctx)) ?? planAccounts(b, s, f, ctx);
  for (const m of failed ? [] : s.mounts) failed ??= planMountPoint(b, m, f[keys.stat(m.path)] as StatFact);
  if (!failed && s.mounts.length) failed = planFstab(b, s, f, ctx);
  const mounts = !failed && s.mounts.length ? planMounts(b, s, f) : { unsupported: [] };
  failed ??= mounts.failed;
  if (failed) return failPlan(failed);

  const notMounted = mounts.unsupported.length ? `not mounted: ${mounts.unsupported.join(', ')}: ${NO_KERNEL_SUPPORT}` : undefined;
  const output = { role: 'client', mounts: s.mounts.map((m) => m.path), ...(notMounted ? { not_mounted: mounts.unsupported, not_mounted_reason: NO_KERNEL_SUPPORT } : {}) };
  // Only a plan with changes assumes; an unchanged mounts fact needs no assumption.
  if (b.empty) return noop(`${CLIENT_PACKAGE} is installed; accounts and fstab entries are as wanted${notMounted ? `; ${notMounted}` : ''}`, { output });
  // Say why nothing is mounted on the run that writes the entries too, not only on later noops.
  if (notMounted) b.changes.push(notMounted);
  return change(b.changes, b.steps, { diffs: b.diffs, assume: b.assume, output });
}
