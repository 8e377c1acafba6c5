/**
 * `hostFacts()`: everything `setup` (and the engine's fact gathering) collects, in ONE exec of
 * POSIX sh. Tools that may be missing (ip, hostname -f) degrade to empty fields.
 *
 * | field              | type                                        | from                                  |
 * |--------------------|---------------------------------------------|---------------------------------------|
 * | hostname           | string                                      | `hostname` (or /proc/sys/kernel/hostname) |
 * | fqdn               | string                                      | `hostname -f`, else hostname           |
 * | os_id              | string, e.g. "debian", "ubuntu"             | /etc/os-release ID                     |
 * | os_version         | string, e.g. "12"                           | /etc/os-release VERSION_ID             |
 * | os_codename        | string, e.g. "bookworm"                     | /etc/os-release VERSION_CODENAME       |
 * | debian_version     | string, e.g. "12.11" ('' elsewhere)         | /etc/debian_version                    |
 * | os_family          | string: debian, redhat, alpine, suse, arch… | os-release ID_LIKE, else ID            |
 * | os_pretty          | string                                      | /etc/os-release PRETTY_NAME            |
 * | kernel             | string, e.g. "6.1.0-18-amd64"               | `uname -r`                             |
 * | architecture       | string, e.g. "x86_64"                       | `uname -m`                             |
 * | default_ipv4       | { address, interface, gateway } or null     | `ip -4 route show default` + addresses |
 * | interfaces         | [{ name, address, prefix }] (IPv4)          | `ip -4 -o addr show`                   |
 * | all_ipv4_addresses | string[] (without loopback)                 | interfaces, else `hostname -I`         |
 * | cpus               | number                                      | `nproc`                                |
 * | memtotal_mb        | number (rounded)                            | /proc/meminfo MemTotal                 |
 * | memtotal_kb        | number                                      | /proc/meminfo MemTotal                 |
 * | user_id            | string: the user facts were gathered as     | `id -un`                               |
 * | init               | "systemd" or the name of PID 1              | /run/systemd/system, /proc/1/comm      |
 * | pkg_mgr            | "apt", "dnf", "yum", "apk" or null          | `command -v`                           |
 * | docker             | boolean                                     | `command -v docker`                    |
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export interface HostFactsData {
  hostname: string;
  fqdn: string;
  os_id: string;
  os_version: string;
  os_codename: string;
  debian_version: string;
  os_family: string;
  os_pretty: string;
  kernel: string;
  architecture: string;
  default_ipv4: { address: string; interface: string; gateway: string | null } | null;
  interfaces: { name: string; address: string; prefix: number }[];
  all_ipv4_addresses: string[];
  cpus: number;
  memtotal_mb: number;
  memtotal_kb: number;
  user_id: string;
  init: string;
  pkg_mgr: 'apt' | 'dnf' | 'yum' | 'apk' | null;
  docker: boolean;
}

const COMMAND = [
  'echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"',
  'echo "fqdn=$(hostname -f 2>/dev/null)"',
  "if [ -r /etc/os-release ]; then sed 's/^/os-release:/' /etc/os-release; fi",
  'if [ -r /etc/debian_version ]; then echo "debian_version=$(cat /etc/debian_version)"; fi',
  'echo "kernel=$(uname -r)"',
  'echo "architecture=$(uname -m)"',
  'echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
  "sed -n 's/^MemTotal: *\\([0-9]*\\).*/memtotal_kb=\\1/p' /proc/meminfo",
  'echo "user_id=$(id -un 2>/dev/null)"',
  'if [ -d /run/systemd/system ]; then echo init=systemd; else echo "init=$(cat /proc/1/comm 2>/dev/null)"; fi',
  'for m in apt-get dnf yum apk; do if command -v $m >/dev/null 2>&1; then echo "pkg_mgr=$m"; break; fi; done',
  'if command -v docker >/dev/null 2>&1; then echo docker=yes; else echo docker=no; fi',
  "if command -v ip >/dev/null 2>&1; then ip -4 route show default 2>/dev/null | sed 's/^/route:/'; ip -4 -o addr show 2>/dev/null | sed 's/^/addr:/'; " +
    'else echo "hostname_i=$(hostname -I 2>/dev/null)"; fi',
].join('; ');

export function hostFacts(): Fact<HostFactsData> {
  return fact(keys.hostFacts(), COMMAND, parseHostFacts);
}

const FAMILIES: Record<string, string> = {
  debian: 'debian',
  ubuntu: 'debian',
  rhel: 'redhat',
  fedora: 'redhat',
  centos: 'redhat',
  alpine: 'alpine',
  suse: 'suse',
  arch: 'arch',
};

export function parseHostFacts(out: ExecResult): HostFactsData {
  const kv: Record<string, string> = {};
  const osr: Record<string, string> = {};
  const routes: string[] = [];
  const addrs: string[] = [];
  for (const line of outputLines(out)) {
    if (line.startsWith('os-release:')) {
      const m = /^os-release:([A-Z_]+)=(.*)$/.exec(line);
      if (m) osr[m[1]!] = unquoteOsRelease(m[2]!);
    } else if (line.startsWith('route:')) routes.push(line.slice(6));
    else if (line.startsWith('addr:')) addrs.push(line.slice(5));
    else {
      const eq = line.indexOf('=');
      if (eq > 0) kv[line.slice(0, eq)] = line.slice(eq + 1).trim();
    }
  }
  if (kv.hostname === undefined || kv.kernel === undefined) throw factFailed('host facts', out);

  const interfaces = addrs.flatMap((l) => {
    // "2: eth0    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0\       valid_lft ..."
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/.exec(l);
    return m ? [{ name: m[1]!, address: m[2]!, prefix: Number(m[3]) }] : [];
  });
  const fromHostnameI = (kv.hostname_i ?? '').split(/\s+/).filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  const all = interfaces.length
    ? interfaces.filter((i) => !i.address.startsWith('127.')).map((i) => i.address)
    : fromHostnameI;

  let defaultIpv4: HostFactsData['default_ipv4'] = null;
  const route = routes.map((r) => /^default(?: via (\S+))?.* dev (\S+)/.exec(r)).find(Boolean);
  if (route) {
    const iface = interfaces.find((i) => i.name === route[2]);
    if (iface) defaultIpv4 = { address: iface.address, interface: iface.name, gateway: route[1] ?? null };
  } else if (all[0]) {
    defaultIpv4 = { address: all[0], interface: '', gateway: null };
  }

  const like = (osr.ID_LIKE ?? '').split(/\s+/).filter(Boolean);
  const id = osr.ID ?? '';
  const family = [id, ...like].map((x) => FAMILIES[x]).find(Boolean) ?? (like[0] || id);
  const pkgMgr = kv.pkg_mgr === 'apt-get' ? 'apt' : ((kv.pkg_mgr ?? null) as HostFactsData['pkg_mgr']);

  return {
    hostname: kv.hostname,
    fqdn: kv.fqdn || kv.hostname,
    os_id: id,
    os_version: osr.VERSION_ID ?? '',
    os_codename: osr.VERSION_CODENAME ?? '',
    debian_version: kv.debian_version ?? '',
    os_family: family,
    os_pretty: osr.PRETTY_NAME ?? '',
    kernel: kv.kernel,
    architecture: kv.architecture ?? '',
    default_ipv4: defaultIpv4,
    interfaces,
    all_ipv4_addresses: all,
    cpus: Number(kv.cpus) || 0,
    memtotal_mb: Math.round(Number(kv.memtotal_kb ?? 0) / 1024),
    memtotal_kb: Number(kv.memtotal_kb ?? 0),
    user_id: kv.user_id ?? '',
    init: kv.init ?? '',
    pkg_mgr: pkgMgr,
    docker: kv.docker === 'yes',
  };
}

/** os-release values may be "double", 'single' quoted or bare. */
function unquoteOsRelease(v: string): string {
  const m = /^"(.*)"$/.exec(v) ?? /^'(.*)'$/.exec(v);
  return m ? m[1]!.replace(/\\(["\\$`])/g, '$1') : v;
}
