/**
 * NFS facts:
 *   nfsKernel()     whether the running kernel can mount NFS: `nfs`/`nfs4` in /proc/filesystems
 *                   (loaded) or an nfs module it could load (`modprobe -n`), key `nfs:kernel`
 *   activeExports() paths in the server's current export table (`exportfs -s`, i.e. etab),
 *                   key `nfs:exports`; `available: false` when exportfs is not installed
 *   mountPoints()   mount points in /proc/self/mounts (octal escapes decoded), key `mounts`
 */
import { fact, type Fact } from '../core/module.js';
import { outputLines } from './util.js';

export const nfsKeys = {
  kernel: () => 'nfs:kernel',
  exports: () => 'nfs:exports',
  mounts: () => 'mounts',
} as const;

export interface NfsKernelFact {
  /** NFS file system types the kernel has registered now (from /proc/filesystems). */
  filesystems: string[];
  /** `modprobe -n nfs` succeeded: the module exists and the kernel would load it on mount. */
  module: boolean;
}

export interface ActiveExportsFact {
  available: boolean;
  /** Exported paths (each once), in table order. */
  paths: string[];
}

export interface MountsFact {
  /** Mount point -> file system type. */
  targets: Record<string, string>;
}

/** Mount points and paths in /proc/mounts and exportfs output escape blanks as \040 etc. */
export function decodeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function nfsKernel(): Fact<NfsKernelFact> {
  const command =
    "awk '$NF ~ /^nfs4?$/ { print \"fs \" $NF }' /proc/filesystems 2>/dev/null; " +
    'if command -v modprobe >/dev/null 2>&1 && modprobe -n -q nfs 2>/dev/null; then echo module; fi; true';
  return fact(nfsKeys.kernel(), command, (out) => {
    const lines = outputLines(out);
    return { filesystems: lines.filter((l) => l.startsWith('fs ')).map((l) => l.slice(3)), module: lines.includes('module') };
  });
}

/** Whether the kernel can mount `fstype` (nfs or nfs4) now or after loading a module. */
export function canMount(k: NfsKernelFact, fstype: string): boolean {
  return k.filesystems.includes(fstype) || k.module;
}

export function activeExports(): Fact<ActiveExportsFact> {
  const command =
    'PATH="$PATH:/usr/sbin:/sbin"; if command -v exportfs >/dev/null 2>&1; then echo exportfs; exportfs -s 2>/dev/null; fi; true';
  return fact(nfsKeys.exports(), command, (out) => {
    const lines = outputLines(out);
    if (lines[0] !== 'exportfs') return { available: false, paths: [] };
    // "/srv/nfs/shared  192.168.165.0/24(sync,wdelay,...)": the path is the first field.
    const paths = lines
      .slice(1)
      .filter((l) => l.startsWith('/'))
      .map((l) => decodeOctal(l.split(/\s+/)[0]!));
    return { available: true, paths: [...new Set(paths)] };
  });
}

export function mountPoints(): Fact<MountsFact> {
  return fact(nfsKeys.mounts(), 'cat /proc/self/mounts', (out) => {
    const targets: Record<string, string> = {};
    for (const line of outputLines(out)) {
      const [, target, fstype] = line.split(' ');
      if (target && fstype) targets[decodeOctal(target)] = fstype;
    }
    return { targets };
  });
}
