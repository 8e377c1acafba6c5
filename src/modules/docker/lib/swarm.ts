/**
 * docker-swarm-init's pieces that are not the plan itself: the wanted shape of docker_gwbridge
 * and of overlay networks, how they compare with what `docker network inspect` shows (each
 * difference as a line a person can read), and the commands that create them.
 */
import { z } from 'zod';
import { sh } from '../../../core/quote.js';
import type { SwarmNetwork } from '../../../facts/swarm.js';
import { cidr, cidrContains, ipAddress } from '../../lib/validators.js';

export const GWBRIDGE = 'docker_gwbridge';
const BRIDGE_OPT = 'com.docker.network.bridge.';
const MTU_OPT = 'com.docker.network.driver.mtu';

export const gwbridgeSchema = z
  .object({
    subnet: cidr.describe('Subnet of docker_gwbridge, e.g. 10.81.10.0/24'),
    gateway: ipAddress.optional().describe('Gateway address in the subnet (default: Docker picks the first address)'),
    enable_icc: z.boolean().default(true).describe('Inter-container connectivity on the bridge (com.docker.network.bridge.enable_icc); false isolates swarm tasks from each other on this host'),
    enable_ip_masquerade: z.boolean().default(true).describe('Masquerade traffic leaving through the bridge (com.docker.network.bridge.enable_ip_masquerade)'),
    host_binding_ipv4: ipAddress.optional().describe('Default host address for published ports (com.docker.network.bridge.host_binding_ipv4)'),
  })
  .strict()
  .superRefine((g, ctx) => {
    if (g.gateway && !cidrContains(g.subnet, g.gateway)) ctx.addIssue({ code: 'custom', message: `gateway ${g.gateway} is not in subnet ${g.subnet}`, path: ['gateway'] });
  });

export type Gwbridge = z.output<typeof gwbridgeSchema>;

const labelKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a label key: letters, digits, . _ / -');

export const overlaySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a network name: letters, digits, _ . -').describe('Network name'),
    driver: z.literal('overlay').default('overlay').describe('Only overlay networks are managed here'),
    encrypted: z.boolean().default(false).describe('Encrypt data traffic between nodes (IPsec, --opt encrypted; needs ESP, IP protocol 50, allowed between the nodes)'),
    subnet: cidr.optional().describe('Subnet, e.g. 10.81.30.0/24 (default: one from the swarm\'s address pool)'),
    gateway: ipAddress.optional().describe('Gateway address in the subnet'),
    attachable: z.boolean().default(false).describe('Standalone containers may attach (--attachable)'),
    mtu: z.number().int().min(68).max(65535).optional().describe('MTU of the network (com.docker.network.driver.mtu)'),
    labels: z.record(labelKey, z.string()).optional().describe('Labels; compared when given'),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.gateway && !n.subnet) ctx.addIssue({ code: 'custom', message: 'a gateway needs a subnet', path: ['gateway'] });
    if (n.gateway && n.subnet && !cidrContains(n.subnet, n.gateway)) ctx.addIssue({ code: 'custom', message: `gateway ${n.gateway} is not in subnet ${n.subnet}`, path: ['gateway'] });
  });

export type Overlay = z.output<typeof overlaySchema>;

const yesNo = (b: boolean) => (b ? 'true' : 'false');

/** How docker_gwbridge on the host differs from the wanted one (empty: as wanted). */
export function gwbridgeDiff(want: Gwbridge, have: SwarmNetwork): string[] {
  const out: string[] = [];
  const ipam = have.ipam[0] ?? {};
  if (have.driver !== 'bridge') out.push(`driver ${have.driver}, want bridge`);
  if (ipam.subnet !== want.subnet) out.push(`subnet ${ipam.subnet ?? 'none'}, want ${want.subnet}`);
  if (want.gateway && ipam.gateway !== want.gateway) out.push(`gateway ${ipam.gateway ?? 'default'}, want ${want.gateway}`);
  const opt = (k: string, dflt: string) => have.options[BRIDGE_OPT + k] ?? dflt;
  if (opt('enable_icc', 'true') !== yesNo(want.enable_icc)) out.push(`enable_icc ${opt('enable_icc', 'true')}, want ${yesNo(want.enable_icc)}`);
  if (opt('enable_ip_masquerade', 'true') !== yesNo(want.enable_ip_masquerade)) out.push(`enable_ip_masquerade ${opt('enable_ip_masquerade', 'true')}, want ${yesNo(want.enable_ip_masquerade)}`);
  const hb = opt('host_binding_ipv4', '');
  if ((want.host_binding_ipv4 ?? '') !== (hb === '0.0.0.0' ? '' : hb)) out.push(`host_binding_ipv4 ${hb || 'unset'}, want ${want.host_binding_ipv4 ?? 'unset'}`);
  return out;
}

export function createGwbridge(g: Gwbridge): string {
  return (
    sh`docker network create --driver bridge --subnet ${g.subnet}` +
    (g.gateway ? sh` --gateway ${g.gateway}` : '') +
    sh` --opt ${`${BRIDGE_OPT}name=${GWBRIDGE}`} --opt ${`${BRIDGE_OPT}enable_icc=${yesNo(g.enable_icc)}`} --opt ${`${BRIDGE_OPT}enable_ip_masquerade=${yesNo(g.enable_ip_masquerade)}`}` +
    (g.host_binding_ipv4 ? sh` --opt ${`${BRIDGE_OPT}host_binding_ipv4=${g.host_binding_ipv4}`}` : '') +
    sh` ${GWBRIDGE} >/dev/null`
  );
}

/**
 * Removes docker_gwbridge after the node left its swarm. The ingress sandbox's endpoint goes
 * away a moment after `docker swarm leave` returns, so the removal is retried for 10 s.
 */
export const REMOVE_GWBRIDGE = sh`n=0; until docker network rm ${GWBRIDGE} >/dev/null 2>&1; do n=$((n + 1)); if [ $n -ge 20 ]; then docker network rm ${GWBRIDGE}; exit 1; fi; sleep 0.5; done`;

/** How an overlay network on the swarm differs from the wanted one (empty: as wanted). */
export function overlayDiff(want: Overlay, have: SwarmNetwork): string[] {
  const out: string[] = [];
  const ipam = have.ipam[0] ?? {};
  if (have.driver !== 'overlay' || have.scope !== 'swarm') out.push(`driver ${have.driver} (${have.scope} scope), want overlay`);
  if (have.ingress) out.push('it is the ingress network');
  const enc = 'encrypted' in have.options;
  if (enc !== want.encrypted) out.push(want.encrypted ? 'not encrypted, want encrypted' : 'encrypted, want not encrypted');
  if (want.subnet && ipam.subnet !== want.subnet) out.push(`subnet ${ipam.subnet ?? 'none'}, want ${want.subnet}`);
  if (want.gateway && ipam.gateway !== want.gateway) out.push(`gateway ${ipam.gateway ?? 'default'}, want ${want.gateway}`);
  if (have.attachable !== want.attachable) out.push(`attachable ${have.attachable}, want ${want.attachable}`);
  if (want.mtu !== undefined && have.options[MTU_OPT] !== String(want.mtu)) out.push(`mtu ${have.options[MTU_OPT] ?? 'default'}, want ${want.mtu}`);
  if (want.labels) {
    const a = JSON.stringify(Object.entries(have.labels).sort());
    const b = JSON.stringify(Object.entries(want.labels).sort());
    if (a !== b) out.push(`labels ${JSON.stringify(have.labels)}, want ${JSON.stringify(want.labels)}`);
  }
  return out;
}

export function createOverlay(n: Overlay): string {
  return (
    'docker network create --driver overlay' +
    (n.encrypted ? ' --opt encrypted' : '') +
    (n.subnet ? sh` --subnet ${n.subnet}` : '') +
    (n.gateway ? sh` --gateway ${n.gateway}` : '') +
    (n.attachable ? ' --attachable' : '') +
    (n.mtu !== undefined ? sh` --opt ${`${MTU_OPT}=${n.mtu}`}` : '') +
    Object.entries(n.labels ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => sh` --label ${`${k}=${v}`}`)
      .join('') +
    sh` ${n.name} >/dev/null`
  );
}

/** The overlay network as `docker network inspect` would show it after createOverlay (for check-mode assumptions). */
export function assumedOverlay(n: Overlay): SwarmNetwork {
  return {
    name: n.name,
    id: '',
    driver: 'overlay',
    scope: 'swarm',
    ipam: n.subnet ? [{ subnet: n.subnet, ...(n.gateway ? { gateway: n.gateway } : {}) }] : [],
    attachable: n.attachable,
    ingress: false,
    internal: false,
    options: { ...(n.encrypted ? { encrypted: '' } : {}), ...(n.mtu !== undefined ? { [MTU_OPT]: String(n.mtu) } : {}) },
    labels: { ...(n.labels ?? {}) },
  };
}

export function assumedGwbridge(g: Gwbridge): SwarmNetwork {
  return {
    name: GWBRIDGE,
    id: '',
    driver: 'bridge',
    scope: 'local',
    ipam: [{ subnet: g.subnet, ...(g.gateway ? { gateway: g.gateway } : {}) }],
    attachable: false,
    ingress: false,
    internal: false,
    options: {
      [`${BRIDGE_OPT}name`]: GWBRIDGE,
      [`${BRIDGE_OPT}enable_icc`]: yesNo(g.enable_icc),
      [`${BRIDGE_OPT}enable_ip_masquerade`]: yesNo(g.enable_ip_masquerade),
      ...(g.host_binding_ipv4 ? { [`${BRIDGE_OPT}host_binding_ipv4`]: g.host_binding_ipv4 } : {}),
    },
    labels: {},
  };
}

/** host:port of a swarm manager address (2377 when no port is given). */
export function managerAddr(a: string): string {
  if (/^\[.*\]:\d+$/.test(a) || /^[^:]+:\d+$/.test(a)) return a;
  return a.includes(':') && !a.startsWith('[') ? `[${a}]:2377` : `${a}:2377`;
}

/**
 * Prints the node's identity after init or join, on two marker lines the module's `result`
 * reads: node id, whether it is a manager, the swarm id (managers), the managers it knows, and
 * on a manager the join tokens.
 */
export const IDENTITY_STEP =
  `i=$(docker info --format '{{.Swarm.NodeID}} {{.Swarm.ControlAvailable}} {{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{else}}-{{end}} {{range .Swarm.RemoteManagers}}{{.Addr}},{{end}}') || exit 1\n` +
  't=; case "$i" in *" true "*) w=$(docker swarm join-token -q worker) && m=$(docker swarm join-token -q manager) || exit 1; t="$w $m" ;; esac\n' +
  `printf '@@tsplay-swarm %s\\n@@tsplay-swarm-tokens %s\\n' "$i" "$t"`;

export interface Identity {
  nodeId: string;
  manager: boolean;
  clusterId: string;
  managers: string[];
  tokens?: { worker: string; manager: string };
}

export function parseIdentity(stdout: string): Identity | undefined {
  const id = /^@@tsplay-swarm (\S+) (true|false) (\S+) ?(\S*)$/m.exec(stdout);
  if (!id) return undefined;
  const tk = /^@@tsplay-swarm-tokens (\S+) (\S+)$/m.exec(stdout);
  return {
    nodeId: id[1]!,
    manager: id[2] === 'true',
    clusterId: id[3] === '-' ? '' : id[3]!,
    managers: id[4]!.split(',').filter(Boolean).sort(),
    ...(tk ? { tokens: { worker: tk[1]!, manager: tk[2]! } } : {}),
  };
}
