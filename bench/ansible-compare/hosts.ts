/**
 * The benchmark's hosts: N plain sshd containers (sshd as PID 1, no systemd, so that hundreds fit
 * on a small machine) on the bench's own Docker network, from an image derived once from the lab's
 * base image with host keys and python3 (Ansible's modules run in python on the target). Handled
 * behind the tools' backs with `docker exec` (never timed): reset what the playbook created, and a
 * snapshot of the end state (paths, modes, owners, content hashes) to compare the tools' results.
 * Every container and the network are named `bench-*`; nothing else on the engine is touched.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { run, tryRun } from '../../src/lab/exec.js';
import { ensureImage, imageId } from '../../src/lab/image.js';
import { BENCH_ROOT, USER_PREFIX, GROUP_PREFIX } from './playbook.js';

export const NETWORK = 'bench-net';
export const CONTAINER_PREFIX = 'bench-';
const LABEL = 'tsplay.bench=1';

export interface BenchHost {
  name: string;
  container: string;
  id: string;
  ip: string;
}

export interface BenchHosts {
  hosts: BenchHost[];
  keyPath: string;
  /** `IP ssh-ed25519 KEY` for every host (all share the image's host key). */
  knownHostsPath: string;
  /** The host key's base64, for the floor's ssh2 host verifier. */
  hostKey: string;
  /** How many containers were running already (their state is unknown: reset them). */
  reused: number;
}

/** Host keys, /run/sshd and python3 on top of the lab's base image (a one-off, ~1 minute). */
const IMAGE_SCRIPT = `set -eu
ssh-keygen -A
mkdir -p /run/sshd /root/.ssh
chmod 700 /root/.ssh
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends python3 >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/*
`;

/** The sshd image, built by `docker commit` the first time (tagged after the base it comes from). */
export async function ensureSshdImage(log: (s: string) => void): Promise<string> {
  const base = await ensureImage({ flavor: 'base' });
  const tag = `tsplay-bench:sshd-${base.tag.split(':')[1]!.replace(/^base-/, '')}`;
  if (await imageId(tag)) return tag;
  log(`building ${tag} from ${base.tag} (host keys, python3)`);
  const builder = `${CONTAINER_PREFIX}image-${process.pid}`;
  try {
    await run('docker', ['run', '--name', builder, '--label', LABEL, '--entrypoint', 'sh', base.tag, '-c', IMAGE_SCRIPT], { timeoutMs: 20 * 60_000 });
    await run('docker', ['commit', '--change', 'ENTRYPOINT ["/usr/sbin/sshd"]', '--change', 'CMD ["-D", "-e"]', builder, tag]);
  } finally {
    await tryRun('docker', ['rm', '-f', builder]);
  }
  return tag;
}

const hostName = (i: number) => `${CONTAINER_PREFIX}${String(i).padStart(3, '0')}`;

/** Runs `fn` on every item, at most `limit` at once. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Resolves once something answers with an SSH banner on ip:22 (sshd is up). */
function waitForBanner(ip: string, deadline: number): Promise<void> {
  return new Promise((done, fail) => {
    const attempt = () => {
      const s = connect(22, ip);
      s.setTimeout(10_000);
      const retry = () => {
        s.destroy();
        if (Date.now() > deadline) fail(new Error(`no sshd banner from ${ip}`));
        else setTimeout(attempt, 100);
      };
      s.once('data', (b) => (b.toString().startsWith('SSH-') ? (s.destroy(), done()) : retry()));
      s.once('error', retry);
      s.once('timeout', retry);
    };
    attempt();
  });
}

/**
 * Starts hosts bench-001 .. bench-N (those already running are reused) with the bench key in
 * root's authorized_keys (a read-only bind mount), and writes the key and known_hosts to `dir`.
 */
export async function hostsUp(n: number, dir: string, log: (s: string) => void): Promise<BenchHosts> {
  const image = await ensureSshdImage(log);
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const keyPath = join(root, 'id_ed25519');
  if (!existsSync(keyPath)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsplay-bench', '-f', keyPath]);
  if ((await tryRun('docker', ['network', 'inspect', NETWORK])).code !== 0) {
    await run('docker', ['network', 'create', '--label', LABEL, NETWORK]);
  }
  const names = Array.from({ length: n }, (_, i) => hostName(i + 1));
  const running = new Set((await run('docker', ['ps', '--filter', `label=${LABEL}`, '--format', '{{.Names}}'])).stdout.split('\n'));
  const missing = names.filter((c) => !running.has(c));
  log(`starting ${missing.length} sshd container(s) (${n - missing.length} running already)`);
  await pool(missing, 6, async (c) => {
    await tryRun('docker', ['rm', '-f', c]);
    await run('docker', ['run', '-d', '--name', c, '--hostname', c, '--network', NETWORK, '--label', LABEL,
      '-v', `${keyPath}.pub:/root/.ssh/authorized_keys:ro`, image]);
  });
  const inspect = await run('docker', ['inspect', '--format', `{{.Name}} {{.Id}} {{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, ...names]);
  const byName = new Map(inspect.stdout.trim().split('\n').map((l) => {
    const [name, id, ip] = l.trim().split(' ');
    return [name!.replace(/^\//, ''), { id: id!, ip: ip! }];
  }));
  const hosts = names.map((c) => ({ name: c, container: c, ...byName.get(c)! }));
  const deadline = Date.now() + 600_000; // minutes: sshd forks slowly on a machine loaded far past its cores
  await pool(hosts, 20, (h) => waitForBanner(h.ip, deadline));
  const hostKey = (await run('docker', ['exec', names[0]!, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.trim().split(/\s+/).slice(0, 2);
  const knownHostsPath = join(root, 'known_hosts');
  writeFileSync(knownHostsPath, hosts.map((h) => `${h.ip} ${hostKey.join(' ')}\n`).join(''));
  return { hosts, keyPath, knownHostsPath, hostKey: hostKey[1]!, reused: n - missing.length };
}

/** Removes every bench-* container this benchmark started and its network. */
export async function hostsDown(): Promise<number> {
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=${LABEL}`])).stdout.split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 50) await tryRun('docker', ['rm', '-f', ...ids.slice(i, i + 50)]);
  await tryRun('docker', ['network', 'rm', NETWORK]);
  return ids.length;
}

/** `sh -c script` in a host's container; throws on a non-zero exit. */
export async function inHost(container: string, script: string, timeoutMs = 10 * 60_000): Promise<string> {
  return (await run('docker', ['exec', '-i', container, 'sh', '-c', script], { timeoutMs })).stdout;
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
  await pool(containers, 8, (c) => inHost(c, RESET_SCRIPT));
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
