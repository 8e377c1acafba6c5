/**
 * Ansible's names and values for the common facts, made from tsplay's gathered facts
 * (gather.ts), so `ansible_facts['os_family']` is 'Debian' as in Ansible, not tsplay's 'debian'.
 * Expressions see them as `ansible_facts.<name>` and as top-level `ansible_<name>`; a fact not
 * listed here is refused at validation rather than read as undefined.
 *
 * | Ansible fact | value (Ansible's) | from |
 * | --- | --- | --- |
 * | os_family | 'Debian', 'RedHat', 'Alpine', 'Suse', 'Archlinux' | os_family |
 * | distribution | 'Debian', 'Ubuntu', 'CentOS', 'RedHat', 'Fedora', 'Rocky', 'AlmaLinux', ... | os_id |
 * | distribution_release | 'bookworm' ('NA' when os-release has no codename) | os_codename |
 * | distribution_major_version | '12' | os_version |
 * | distribution_version, distribution_minor_version | '12.11', '11' on Debian (/etc/debian_version when it is a number, as Ansible); '22.04', '04' on Ubuntu; else VERSION_ID ('NA' when empty; no minor without a dot) | debian_version, os_version |
 * | hostname, nodename, fqdn | short host name, host name, FQDN | hostname, fqdn |
 * | default_ipv4 | { address, interface, alias, gateway, prefix, netmask, network } ({} without a default route) | default_ipv4 |
 * | all_ipv4_addresses, architecture, machine, kernel, processor_vcpus, memtotal_mb, user_id, pkg_mgr, service_mgr, system | as Ansible | gather.ts |
 */

const FAMILY: Record<string, string> = { debian: 'Debian', redhat: 'RedHat', alpine: 'Alpine', suse: 'Suse', arch: 'Archlinux' };

const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', centos: 'CentOS', rhel: 'RedHat', fedora: 'Fedora', rocky: 'Rocky', almalinux: 'AlmaLinux',
  alpine: 'Alpine', arch: 'Archlinux', amzn: 'Amazon', ol: 'OracleLinux', sles: 'SLES', 'opensuse-leap': 'openSUSE Leap',
  'opensuse-tumbleweed': 'openSUSE Tumbleweed', linuxmint: 'Linux Mint', kali: 'Kali', raspbian: 'Debian',
};

/** The facts tsplay provides under Ansible's names (`ansible_facts.X`, `ansible_X`). */
export const ANSIBLE_FACT_NAMES: readonly string[] = Object.freeze([
  'os_family', 'distribution', 'distribution_release', 'distribution_major_version', 'distribution_version', 'distribution_minor_version', 'hostname', 'nodename', 'fqdn', 'default_ipv4',
  'all_ipv4_addresses', 'architecture', 'machine', 'kernel', 'processor_vcpus', 'memtotal_mb', 'user_id', 'pkg_mgr', 'service_mgr', 'system',
]);

/** The top-level variables (`ansible_os_family`, ...). */
export const ANSIBLE_FACT_VARS: readonly string[] = Object.freeze(ANSIBLE_FACT_NAMES.map((n) => `ansible_${n}`));

function netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

function network(address: string, prefix: number): string {
  const mask = netmask(prefix).split('.').map(Number);
  return address.split('.').map((o, i) => Number(o) & mask[i]!).join('.');
}

/** Ansible's facts (names without the `ansible_` prefix) from tsplay's gathered facts. */
export function ansibleFacts(f: Record<string, unknown>): Record<string, unknown> {
  const s = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : '');
  const id = s('os_id');
  const distribution = DISTRIBUTION[id] ?? (id ? id.charAt(0).toUpperCase() + id.slice(1) : 'NA');
  const d4 = f.default_ipv4 as { address: string; interface: string; gateway: string | null } | null | undefined;
  const iface = (f.interfaces as Array<{ name: string; address: string; prefix: number }> | undefined)?.find((i) => i.address === d4?.address);
  const defaultIpv4: Record<string, unknown> = {};
  if (d4) {
    Object.assign(defaultIpv4, { address: d4.address, interface: d4.interface, alias: d4.interface });
    if (d4.gateway) defaultIpv4.gateway = d4.gateway;
    if (iface) Object.assign(defaultIpv4, { prefix: String(iface.prefix), netmask: netmask(iface.prefix), network: network(iface.address, iface.prefix) });
  }
  const hostname = s('hostname');
  const version = (distribution === 'Debian' && /^\d+(\.\d+)*$/.test(s('debian_version')) ? s('debian_version') : s('os_version')) || 'NA';
  const out: Record<string, unknown> = {
    os_family: FAMILY[s('os_family')] ?? distribution,
    distribution,
    distribution_release: s('os_codename') || 'NA',
    distribution_major_version: s('os_version').split('.')[0] || 'NA',
    distribution_version: version,
    distribution_minor_version: version.split('.')[1],
    hostname: hostname.split('.')[0],
    nodename: hostname,
    fqdn: s('fqdn') || hostname,
    default_ipv4: defaultIpv4,
    all_ipv4_addresses: f.all_ipv4_addresses ?? [],
    architecture: s('architecture'),
    machine: s('architecture'),
    kernel: s('kernel'),
    processor_vcpus: f.cpus,
    memtotal_mb: typeof f.memtotal_kb === 'number' ? Math.floor(f.memtotal_kb / 1024) : f.memtotal_mb,
    user_id: f.user_id,
    pkg_mgr: f.pkg_mgr,
    service_mgr: s('init'),
    system: 'Linux',
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** `ansible_<name>` variables for every Ansible fact. */
export function ansibleFactVars(facts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(facts).map(([k, v]) => [`ansible_${k}`, v]));
}
