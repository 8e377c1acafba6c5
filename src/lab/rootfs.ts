/**
 * The lab hosts' root filesystem: Debian bookworm from debootstrap (cached as a tarball under
 * ~/.cache/tsplay/lab so that rebuilds skip the download), then configured as plain files to boot
 * under systemd in a container: fresh SSH host keys per container, units that cannot work in a
 * container masked, apt pointed at the mirror.
 */
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, readdirSync, unlinkSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from './exec.js';
import type { DebianMirrors } from './mirror.js';
import { debootstrapProgress, follow, phase, type OnProgress } from './progress.js';

export const LAB_SUITE = 'bookworm';

/** Packages added to debootstrap's minbase (curl and nc are there for tests). */
export const LAB_PACKAGES: readonly string[] = [
  'openssh-server',
  'systemd',
  'systemd-sysv',
  'sudo',
  'iproute2',
  'ca-certificates',
  'procps',
  'iputils-ping',
  'netcat-openbsd',
  'curl',
];

/**
 * Debian's ssh.service has no host key generation of its own (its `sshd -t` pre-check fails
 * without keys), so each container runs `ssh-keygen -A` once, before sshd, at first boot.
 */
export const KEYGEN_UNIT_NAME = 'tsplay-ssh-keygen.service';
const KEYGEN_UNIT = `[Unit]
Description=Generate this host's SSH host keys (tsplay lab)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
RequiredBy=ssh.service
`;

/**
 * Units masked in lab hosts: consoles nobody attaches to, and periodic jobs that would take the
 * apt lock or touch disks in the middle of a test run.
 */
export const MASKED_UNITS: readonly string[] = [
  'getty@tty1.service',
  'console-getty.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'e2scrub_reap.service',
  'fstrim.timer',
];

/** Everything the configured root filesystem depends on; its hash names the image. */
export interface RootfsRecipe {
  suite: string;
  variant: 'minbase';
  packages: readonly string[];
  mirror: string;
  aptSources: string;
  keygenUnit: string;
  masked: readonly string[];
}

export function rootfsRecipe(mirrors: DebianMirrors): RootfsRecipe {
  const lines = [`deb ${mirrors.main} ${LAB_SUITE} main`, `deb ${mirrors.main} ${LAB_SUITE}-updates main`];
  if (mirrors.security) lines.push(`deb ${mirrors.security} ${LAB_SUITE}-security main`);
  return {
    suite: LAB_SUITE,
    variant: 'minbase',
    packages: LAB_PACKAGES,
    mirror: mirrors.main,
    aptSources: `${lines.join('\n')}\n`,
    keygenUnit: KEYGEN_UNIT,
    masked: MASKED_UNITS,
  };
}

/** ~/.cache/tsplay/lab (or $XDG_CACHE_HOME/tsplay/lab). */
export function labCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tsplay', 'lab');
}

/** tar flags that keep numeric owners and file capabilities (e.g. ping's cap_net_raw). */
export const TAR_KEEP = ['--numeric-owner', '--xattrs', '--xattrs-include=*'];

/**
 * Fills `dir` with the debootstrap output for `recipe`, from the cached tarball when there is one
 * (named by `cacheKey`), else by running debootstrap and caching the result.
 */
export async function prepareRootfs(dir: string, recipe: RootfsRecipe, cacheKey: string, onProgress?: OnProgress): Promise<void> {
  const tarball = join(labCacheDir(), `rootfs-${recipe.suite}-${cacheKey}.tar`);
  mkdirSync(dir, { recursive: true });
  if (existsSync(tarball)) {
    await phase(onProgress, 'unpack cached rootfs', () => run('tar', ['-C', dir, ...TAR_KEEP, '-xpf', tarball]));
    return;
  }
  await phase(onProgress, 'debootstrap', (update) =>
    run(
      'debootstrap',
      [`--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`, recipe.suite, dir, recipe.mirror],
      { timeoutMs: 30 * 60_000, onLine: follow(debootstrapProgress(), update) },
    ),
  );
  for (const deb of readdirSync(join(dir, 'var/cache/apt/archives')).filter((f) => f.endsWith('.deb'))) {
    unlinkSync(join(dir, 'var/cache/apt/archives', deb));
  }
  await phase(onProgress, 'cache rootfs', async () => {
    mkdirSync(dirname(tarball), { recursive: true });
    const partial = `${tarball}.partial`;
    await run('tar', ['-C', dir, ...TAR_KEEP, '-cf', partial, '.']);
    renameSync(partial, tarball);
  });
}

function forceSymlink(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  symlinkSync(target, path);
}

/** Removes every enablement symlink named `unit` under etc/systemd/system/*.wants. */
function disableUnit(root: string, unit: string): void {
  const sys = join(root, 'etc/systemd/system');
  for (const d of readdirSync(sys).filter((n) => n.endsWith('.wants') || n.endsWith('.requires'))) {
    const link = join(sys, d, unit);
    if (lstatExists(link)) unlinkSync(link);
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Turns a debootstrap tree into a lab host root filesystem (plain file edits, no chroot). */
export function configureRootfs(root: string, recipe: RootfsRecipe): void {
  // Each container makes its own host keys and machine id at first boot.
  const sshDir = join(root, 'etc/ssh');
  for (const f of readdirSync(sshDir).filter((n) => n.startsWith('ssh_host_'))) unlinkSync(join(sshDir, f));
  writeFileSync(join(root, 'etc/machine-id'), '');
  rmSync(join(root, 'var/lib/dbus/machine-id'), { force: true });

  const sys = join(root, 'etc/systemd/system');
  writeFileSync(join(sys, KEYGEN_UNIT_NAME), recipe.keygenUnit);
  forceSymlink(`../${KEYGEN_UNIT_NAME}`, join(sys, 'ssh.service.requires', KEYGEN_UNIT_NAME));
  // openssh-server's postinst enabled ssh.service already; make sure of it.
  forceSymlink('/lib/systemd/system/ssh.service', join(sys, 'multi-user.target.wants/ssh.service'));

  for (const unit of recipe.masked) {
    disableUnit(root, unit);
    forceSymlink('/dev/null', join(sys, unit));
  }

  // The lab writes root's authorized_keys when a host comes up.
  mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, 'etc/apt/sources.list'), recipe.aptSources);
}
