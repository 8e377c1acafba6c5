/**
 * The files `tsplay lab up` leaves for playbooks: a YAML inventory of the lab hosts (strict host
 * key checking against the lab's own known_hosts) and that known_hosts file. Pure renderers.
 */
import { stringify } from 'yaml';
import { LAB_GROUP, type LabSpec } from './spec.js';

export interface LabHostAddress {
  name: string;
  ip: string;
  /** The host's `ssh-ed25519 AAAA...` public key. */
  hostKey: string;
}

export interface InventoryPaths {
  /** Absolute path of the lab's SSH private key. */
  keyPath: string;
  /** Absolute path of the lab's known_hosts. */
  knownHostsPath: string;
}

/** One `IP ssh-ed25519 KEY` line per host, in spec order. */
export function renderKnownHosts(hosts: LabHostAddress[]): string {
  return hosts
    .map((h) => {
      const [type, key] = h.hostKey.trim().split(/\s+/);
      return `${h.ip} ${type} ${key}\n`;
    })
    .join('');
}

/**
 * Ansible-style YAML inventory: every host with its connection settings, one child group per
 * spec group, and the `lab` group holding every host.
 */
export function renderInventory(spec: LabSpec, hosts: LabHostAddress[], paths: InventoryPaths): string {
  const ipOf = new Map(hosts.map((h) => [h.name, h.ip]));
  const hostVars = Object.fromEntries(
    spec.hosts.map((h) => [
      h.name,
      {
        ansible_host: ipOf.get(h.name),
        ansible_user: 'root',
        ansible_ssh_private_key_file: paths.keyPath,
        known_hosts_file: paths.knownHostsPath,
        host_key_checking: 'strict',
      },
    ]),
  );
  const groups = new Map<string, string[]>([[LAB_GROUP, spec.hosts.map((h) => h.name)]]);
  for (const h of spec.hosts) {
    for (const g of h.groups) {
      if (g === LAB_GROUP) continue;
      groups.set(g, [...(groups.get(g) ?? []), h.name]);
    }
  }
  const children = Object.fromEntries(
    [...groups].map(([g, members]) => [g, { hosts: Object.fromEntries(members.map((m) => [m, {}])) }]),
  );
  const header = `# Written by \`tsplay lab up\` for lab "${spec.name}"; rewritten on every lab up.\n`;
  return header + stringify({ all: { hosts: hostVars, children } }, { lineWidth: 0 });
}
