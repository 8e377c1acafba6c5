/**
 * The benchmark's lab hosts, handled behind both tools' backs with `docker exec` (never timed):
 * bring up the dedicated lab `bench`, install what Ansible needs on its targets (python3, and
 * python3-apt for its apt module), reset what the playbook created, and take a snapshot of the
 * end state (paths, modes, owners, content hashes, accounts) to compare the two tools' results.
 */
import { existsSync, readFileSync } from 'node:fs';
import { run } from '../../src/lab/exec.js';
import { labDown, labUp, type LabUpResult } from '../../src/lab/lab.js';
import { ensurePrerequisites } from '../../src/lab/prerequisites.js';
import { specFromCount } from '../../src/lab/spec.js';
import { BENCH_ROOT, GROUP_PREFIX, USER_PREFIX } from './playbook.js';

/** The lab this benchmark owns; no other lab is touched. */
export const LAB_NAME = 'bench';

export async function benchLabUp(hosts: number): Promise<LabUpResult> {
  await ensurePrerequisites({ install: process.getuid?.() === 0 });
  return labUp(specFromCount(hosts, LAB_NAME));
}

export async function benchLabDown(): Promise<string[]> {
  return (await labDown(LAB_NAME)).removed;
}

/** `sh -c script` in a lab host's container; throws on a non-zero exit. */
export async function inHost(container: string, script: string, timeoutMs = 10 * 60_000): Promise<string> {
  return (await run('docker', ['exec', '-i', container, 'sh', '-c', script], { timeoutMs })).stdout;
}

const PYTHON_SCRIPT = `set -eu
if python3 -c 'import apt' 2>/dev/null; then echo present; exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends python3 python3-apt >/dev/null
echo installed
`;

/** Installs python3 and python3-apt on every host (Ansible's modules run in python on the target). */
export async function installPython(containers: string[]): Promise<string[]> {
  return Promise.all(containers.map(async (c) => `${c}: python3 ${(await inHost(c, PYTHON_SCRIPT)).trim()}`));
}

/**
 * Puts a host back to "fresh": removes the bench files, the accounts the playbook created (with
 * their homes) and Ansible's remote temp folder, so the next run starts from the same state.
 */
export const RESET_SCRIPT = `set -u
rm -rf ${BENCH_ROOT} /root/.ansible
for u in $(getent passwd | cut -d: -f1 | grep -E '^${USER_PREFIX}[0-9]+$'); do userdel -r "$u" 2>/dev/null; done
for g in $(getent group | cut -d: -f1 | grep -E '^(${USER_PREFIX}|${GROUP_PREFIX})[0-9]+$'); do groupdel "$g"; done
if [ -e ${BENCH_ROOT} ] || getent passwd | grep -q '^${USER_PREFIX}'; then echo "reset failed" >&2; exit 1; fi
`;

export async function resetHosts(containers: string[]): Promise<void> {
  await Promise.all(containers.map((c) => inHost(c, RESET_SCRIPT)));
}

/**
 * The end state on one host, one line per fact, sorted: every path under the bench root and the
 * new homes with type, mode, owner and size; content hashes; passwd, group and shadow lines of
 * the accounts (shadow without the "last change" day, which depends on the date).
 */
export const SNAPSHOT_SCRIPT = `set -u
cd /
ls=$(ls -d ${BENCH_ROOT} /home/${USER_PREFIX}* 2>/dev/null)
[ -n "$ls" ] && find $ls -printf 'path %p %y %m %u:%g %s\\n' | sort
find ${BENCH_ROOT} -type f -exec sha256sum {} + 2>/dev/null | awk '{print "sha256 " $2 " " $1}' | sort
getent passwd | grep -E '^${USER_PREFIX}' | sed 's/^/passwd /' | sort
getent group | grep -E '^(${USER_PREFIX}|${GROUP_PREFIX})' | sed 's/^/group /' | sort
getent shadow | grep -E '^${USER_PREFIX}' | cut -d: -f1,2,4- | sed 's/^/shadow /' | sort
true
`;

export async function snapshot(container: string): Promise<string> {
  return inHost(container, SNAPSHOT_SCRIPT);
}

/** Lines in one snapshot and not in the other, for a readable mismatch report. */
export function snapshotDiff(a: string, b: string): string[] {
  const la = new Set(a.split('\n'));
  const lb = new Set(b.split('\n'));
  return [...[...la].filter((l) => !lb.has(l)).map((l) => `- ${l}`), ...[...lb].filter((l) => !la.has(l)).map((l) => `+ ${l}`)];
}

/** cgroup files holding a container's CPU time: v1 cpuacct (ns), or v2 cpu.stat (usage_usec). */
function cpuFiles(id: string): Array<{ path: string; read: (text: string) => number }> {
  const ns = (t: string) => Number(t.trim()) / 1e9;
  const usec = (t: string) => Number(/^usage_usec (\d+)$/m.exec(t)?.[1] ?? NaN) / 1e6;
  return [
    { path: `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, read: ns },
    { path: `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`, read: ns },
    { path: `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, read: usec },
    { path: `/sys/fs/cgroup/docker/${id}/cpu.stat`, read: usec },
  ];
}

/**
 * A reader of the CPU seconds the lab's containers have used so far (everything running in
 * them: sshd, the shells and programs each tool starts there, systemd). NaN when the engine's
 * cgroup layout is not one of the known ones.
 */
export function hostsCpuReader(containerIds: string[]): () => number {
  const files = containerIds.map((id) => cpuFiles(id).find((f) => existsSync(f.path)));
  if (files.some((f) => !f)) return () => NaN;
  return () => files.reduce((sum, f) => sum + f!.read(readFileSync(f!.path, 'utf8')), 0);
}
