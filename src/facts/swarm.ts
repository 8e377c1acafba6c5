/**
 * `swarmNode()`: everything docker-swarm-init needs about a node's Swarm membership, in one
 * probe: the `Swarm` section of `docker info` (local node state, node id, whether this node is
 * a manager, the cluster id, the managers it knows), the digest of the swarm's root CA (the
 * part of a join token that names its swarm, so a worker can tell whether a token is for the
 * swarm it is in), `docker_gwbridge`, and on a manager the join tokens and the overlay networks.
 *
 * The join tokens are secrets: the module wraps them before they reach a registered result.
 *
 * Key `swarm` (one per host, whatever the task's parameters), so that check mode can assume the
 * state a docker-swarm-init task leaves for the tasks after it. Sections: `@@tsplay:NAME RC`.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { factFailed } from './util.js';

export interface SwarmNetwork {
  name: string;
  id: string;
  driver: string;
  /** local (a bridge like docker_gwbridge) or swarm (an overlay). */
  scope: string;
  /** IPAM configurations: subnet and gateway. */
  ipam: Array<{ subnet?: string; gateway?: string }>;
  attachable: boolean;
  ingress: boolean;
  internal: boolean;
  /** Driver options (`encrypted`, `com.docker.network.driver.mtu`, `com.docker.network.bridge.*`). */
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface SwarmFact {
  /** The docker CLI is installed. */
  docker: boolean;
  /** dockerd answered `docker info`; `error` holds its output when it did not. */
  daemon: boolean;
  error?: string;
  /** LocalNodeState: inactive, pending, active, error, locked. */
  state: string;
  /** The Swarm section's own Error (e.g. a failed join), when not empty. */
  swarmError?: string;
  nodeId: string;
  /** The address this node advertises. */
  nodeAddr: string;
  /** ControlAvailable: the node is a manager. */
  manager: boolean;
  /** The swarm's id (Cluster.ID); known on managers only. */
  clusterId: string;
  /** host:port of the managers this node knows. */
  remoteManagers: string[];
  /** The swarm's address pools and subnet size (managers only). */
  defaultAddrPool: string[];
  subnetSize?: number;
  /** The swarm root CA's digest in base 36, as join tokens carry it (`SWMTKN-1-<digest>-<secret>`). */
  caDigest?: string;
  /** Join tokens (managers only). Secrets: never print them. */
  tokens?: { worker: string; manager: string };
  /** docker_gwbridge, null when it does not exist. */
  gwbridge: SwarmNetwork | null;
  /** Overlay networks (managers only; includes ingress). */
  networks: SwarmNetwork[];
}

export const SWARM_FACT_KEY = 'swarm';

const COMMAND = [
  'PATH="$PATH:/usr/local/bin:/usr/sbin:/sbin"',
  'if ! command -v docker >/dev/null 2>&1; then echo docker:no; exit 0; fi',
  'echo docker:yes',
  `info=$(docker info --format '{{.Swarm.ControlAvailable}} {{.DockerRootDir}} {{json .Swarm}}' 2>&1); rc=$?`,
  'echo "@@tsplay:info $rc"; printf \'%s\\n\' "$info"',
  'if [ $rc != 0 ]; then exit 0; fi',
  'ctl=${info%% *}; rest=${info#* }; root=${rest%% *}',
  'if [ -f "$root/swarm/certificates/swarm-root-ca.crt" ]; then echo "@@tsplay:ca 0"; sha256sum < "$root/swarm/certificates/swarm-root-ca.crt"; fi',
  'g=$(docker network inspect docker_gwbridge 2>/dev/null); echo "@@tsplay:gwbridge $?"; printf \'%s\\n\' "$g"',
  'if [ "$ctl" = true ]; then',
  '  w=$(docker swarm join-token -q worker 2>/dev/null) && m=$(docker swarm join-token -q manager 2>/dev/null) && { echo "@@tsplay:tokens 0"; printf \'%s\\n%s\\n\' "$w" "$m"; }',
  '  ids=$(docker network ls -q --filter driver=overlay); echo "@@tsplay:networks 0"; if [ -n "$ids" ]; then docker network inspect $ids; fi',
  'fi',
  'exit 0',
].join('\n');

export function swarmNode(): Fact<SwarmFact> {
  return fact(SWARM_FACT_KEY, COMMAND, parseSwarmNode);
}

/** A sha256 in hex as the base-36 digest join tokens carry (swarmkit's GenerateJoinToken). */
export function tokenDigest(sha256Hex: string): string {
  return BigInt(`0x${sha256Hex}`).toString(36).padStart(50, '0');
}

/** The CA digest part of a join token, undefined when the text is not a join token. */
export function joinTokenDigest(token: string): string | undefined {
  return /^SWMTKN-1-([0-9a-z]{50})-[0-9a-z]{25}$/.exec(token.trim())?.[1];
}

function parseNetwork(raw: Record<string, unknown>): SwarmNetwork {
  const ipam = (raw.IPAM as { Config?: Array<{ Subnet?: string; Gateway?: string }> | null } | undefined)?.Config ?? [];
  return {
    name: String(raw.Name ?? ''),
    id: String(raw.Id ?? ''),
    driver: String(raw.Driver ?? ''),
    scope: String(raw.Scope ?? ''),
    ipam: ipam.map((c) => ({ ...(c.Subnet ? { subnet: c.Subnet } : {}), ...(c.Gateway ? { gateway: c.Gateway } : {}) })),
    attachable: raw.Attachable === true,
    ingress: raw.Ingress === true,
    internal: raw.Internal === true,
    options: { ...((raw.Options as Record<string, string> | null) ?? {}) },
    labels: { ...((raw.Labels as Record<string, string> | null) ?? {}) },
  };
}

function parseNetworks(text: string, what: string, out: ExecResult): SwarmNetwork[] {
  if (!text.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw factFailed(what, { ...out, stderr: `not JSON: ${text.slice(0, 80)}` });
  }
  if (!Array.isArray(parsed)) throw factFailed(what, { ...out, stderr: 'not a JSON list' });
  return parsed.map((n) => parseNetwork(n as Record<string, unknown>));
}

export function parseSwarmNode(out: ExecResult): SwarmFact {
  const lines = out.stdout.replace(/\r\n/g, '\n').split('\n');
  if (!lines[0]?.startsWith('docker:')) throw factFailed('the swarm state', out);
  const result: SwarmFact = {
    docker: lines[0] === 'docker:yes',
    daemon: false,
    state: 'inactive',
    nodeId: '',
    nodeAddr: '',
    manager: false,
    clusterId: '',
    remoteManagers: [],
    defaultAddrPool: [],
    gwbridge: null,
    networks: [],
  };
  const sections = new Map<string, { rc: number; text: string }>();
  let cur: { rc: number; lines: string[] } | undefined;
  const flush = (name?: string) => {
    if (name && cur) sections.set(name, { rc: cur.rc, text: cur.lines.join('\n').replace(/\n+$/, '') });
  };
  let curName: string | undefined;
  for (const l of lines.slice(1)) {
    const m = /^@@tsplay:(\w+) (\d+)$/.exec(l);
    if (m) {
      flush(curName);
      curName = m[1]!;
      cur = { rc: Number(m[2]), lines: [] };
    } else cur?.lines.push(l);
  }
  flush(curName);
  if (!result.docker) return result;

  const info = sections.get('info');
  if (!info) throw factFailed('the swarm state', out);
  if (info.rc !== 0) return { ...result, error: info.text.trim() };
  const m = /^(\S+) (\S+) (\{.*\})$/s.exec(info.text.trim());
  if (!m) throw factFailed('the swarm state', { ...out, stderr: `unexpected docker info output: ${info.text.slice(0, 120)}` });
  const swarm = JSON.parse(m[3]!) as {
    NodeID?: string;
    NodeAddr?: string;
    LocalNodeState?: string;
    ControlAvailable?: boolean;
    Error?: string;
    RemoteManagers?: Array<{ Addr?: string }> | null;
    Cluster?: { ID?: string; DefaultAddrPool?: string[] | null; SubnetSize?: number } | null;
  };
  result.daemon = true;
  result.state = swarm.LocalNodeState || 'inactive';
  if (swarm.Error) result.swarmError = swarm.Error;
  result.nodeId = swarm.NodeID ?? '';
  result.nodeAddr = swarm.NodeAddr ?? '';
  result.manager = swarm.ControlAvailable === true;
  result.clusterId = swarm.Cluster?.ID ?? '';
  result.remoteManagers = (swarm.RemoteManagers ?? []).map((r) => r.Addr ?? '').filter(Boolean).sort();
  result.defaultAddrPool = swarm.Cluster?.DefaultAddrPool ?? [];
  if (swarm.Cluster?.SubnetSize) result.subnetSize = swarm.Cluster.SubnetSize;

  const ca = /^([0-9a-f]{64})\b/.exec(sections.get('ca')?.text ?? '');
  if (ca) result.caDigest = tokenDigest(ca[1]!);
  const gw = sections.get('gwbridge');
  if (gw && gw.rc === 0) result.gwbridge = parseNetworks(gw.text, 'docker_gwbridge', out)[0] ?? null;
  const tokens = sections.get('tokens')?.text.split('\n').map((s) => s.trim());
  if (tokens && tokens.length >= 2 && tokens[0] && tokens[1]) result.tokens = { worker: tokens[0], manager: tokens[1] };
  result.networks = parseNetworks(sections.get('networks')?.text ?? '', 'the overlay networks', out);
  return result;
}
