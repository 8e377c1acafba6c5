/**
 * One host's exposure rows from its snapshot (facts/exposure-snapshot.ts) and what the
 * playbooks declared for it (declared.ts). Pure, no I/O: the unit tests feed it fixture facts.
 *
 * A row is one listening socket of the host, or one port of a running container (published,
 * or exposed only: internal). A socket Docker's proxy holds for a published port is folded into
 * that port's row. Sockets of a `network_mode: host` container (matched by its main process)
 * name the container. Each row has its class (exposure.ts: public / localhost / address /
 * internal, host-network), what the firewall admits from outside (firewall.ts) and what was
 * declared; a row reachable from outside whose exposure was not declared is flagged.
 */
import type { DockerContainerPorts } from '../facts/docker-ports.js';
import type { ExposureSnapshotFact } from '../facts/exposure-snapshot.js';
import type { ListeningSocket } from '../facts/listening.js';
import { checkExposure, classifyHostIp, portLevel, type ClassifiedPort, type ExposureClass } from '../modules/docker/lib/exposure.js';
import type { HostDeclarations } from './declared.js';
import { dockerUserVerdict, matchUfw, ufwRuleText, ufwVerdict, type Admission, type Verdict } from './firewall.js';

export type ProbeResult = 'open' | 'refused' | 'timeout' | 'error' | 'not probed';

export interface AuditRow {
  proto: string;
  /** Listen address(es) on the host: "0.0.0.0", "0.0.0.0, ::", "127.0.0.1"; '' for an unpublished container port. */
  address: string;
  /** Port on the host; null when the port is not published (internal) or unknown (host network). */
  port: number | null;
  class: ExposureClass;
  /** socket: a process of the host; docker: a port of a container with its own network; host-network: a container on the host's network. */
  kind: 'socket' | 'docker' | 'host-network';
  /** Process names holding the socket (when readable). */
  process?: string;
  container?: { name: string; id: string; project?: string; service?: string; networkMode: string; image: string; target?: string };
  /** What the firewall admits from outside, and by which chain. */
  firewall: Verdict & { path: 'INPUT' | 'FORWARD' | 'none' };
  /** What the playbooks declared for this port, or null. */
  declared: { level: ExposureClass; by: string } | null;
  /** Why nothing counts as declared, when that is worth saying (e.g. "web is not in the exposure policy of ..."). */
  declaredNote?: string;
  /** Reachable from outside (by the firewall's verdict, or the probe answered) and its exposure not declared. */
  undeclared: boolean;
  /** With --probe: what a TCP connect from the controller to the host's address got. */
  probe?: ProbeResult;
}

export interface HostRowsOptions {
  /** The port tsplay connects to over SSH: declared public by definition. */
  sshPort: number;
}

const RANK: Record<ExposureClass, number> = { internal: 0, localhost: 1, address: 2, public: 3, 'host-network': 4 };

/** Docker's `HostIp` and ss's `*` as a listen address: '' and `*` mean every address. */
const listenAddress = (ip: string) => (ip === '' || ip === '*' ? '0.0.0.0' : ip);
const isV6 = (ip: string) => ip.includes(':') && ip !== '::'; // `::` is dual-stack on Linux: judged by the IPv4 rules

/** What INPUT admits: ufw when it runs, else the INPUT chain's policy when it has no rules. */
function inputVerdict(s: ExposureSnapshotFact, proto: string, port: number, address: string): Verdict {
  if (s.ufw.active === true) return ufwVerdict(s.ufw.rules, s.ufw.policies.incoming, proto, port, { v6: isV6(address), address });
  if (s.ufw.active === null && s.ufw.enabled) return { admits: 'unknown', reason: 'ufw is enabled but its chains could not be read (not root?)' };
  if (!s.input.available) return { admits: 'unknown', reason: 'no iptables on the host: the firewall could not be read' };
  if (s.input.rules.length) return { admits: 'unknown', reason: `INPUT has ${s.input.rules.length} rule(s) not managed by ufw (not evaluated)` };
  if (s.inputPolicy === 'ACCEPT') return { admits: 'yes', reason: 'no firewall: INPUT accepts everything' };
  if (s.inputPolicy === 'DROP' || s.inputPolicy === 'REJECT') return { admits: 'no', reason: `INPUT policy ${s.inputPolicy}` };
  return { admits: 'unknown', reason: 'the INPUT chain could not be read (not root?)' };
}

function verdictFor(s: ExposureSnapshotFact, row: Pick<AuditRow, 'class' | 'kind' | 'proto' | 'port' | 'address'>): AuditRow['firewall'] {
  if (row.class === 'localhost') return { admits: 'no', reason: 'loopback only', path: 'none' };
  if (row.class === 'internal' || row.port === null) {
    return row.kind === 'host-network'
      ? { admits: 'unknown', reason: 'network_mode: host: no listening socket of its main process was seen', path: 'INPUT' }
      : { admits: 'no', reason: 'not published: reachable from its Docker networks only', path: 'none' };
  }
  const address = row.address.split(', ')[0]!;
  if (row.kind === 'docker') {
    if (s.dockerUser.available && s.dockerUser.exists) {
      const v = dockerUserVerdict(s.dockerUser.rules, row.proto, row.port);
      const bypass = s.ufw.active === true ? `Docker-published: bypasses ufw (${s.ufw.policies.incoming || '?'} incoming), goes through FORWARD/DOCKER-USER` : 'Docker-published: goes through FORWARD/DOCKER-USER, not INPUT';
      return { ...v, reason: `${bypass}; ${v.reason}`, path: 'FORWARD' };
    }
    // dockerd without iptables (or no iptables at all): docker-proxy serves the port through INPUT.
    const v = inputVerdict(s, row.proto, row.port, address);
    return { ...v, reason: `Docker-published without a DOCKER-USER chain (dockerd iptables off?): served through INPUT; ${v.reason}`, path: 'INPUT' };
  }
  return { ...inputVerdict(s, row.proto, row.port, address), path: 'INPUT' };
}

/** The declared level of a container port from the compose-deploy policy of its project. */
function composeDeclared(c: DockerContainerPorts, cp: ClassifiedPort, decl: HostDeclarations): Pick<AuditRow, 'declared' | 'declaredNote'> & { ok: boolean } {
  if (!c.project || !c.service) return { declared: null, declaredNote: 'not a compose project: no policy declares it', ok: false };
  const d = decl.compose.find((x) => x.project === c.project);
  if (!d) return { declared: null, declaredNote: `no compose-deploy task declares project ${c.project}`, ok: false };
  if (!d.policy) return { declared: null, declaredNote: `compose-deploy at ${d.where} has no exposure policy`, ok: false };
  const svc = d.policy.services[c.service];
  if (svc === undefined) return { declared: null, declaredNote: `${c.service} is not in the exposure policy at ${d.where}`, ok: false };
  const level = typeof svc === 'string' ? svc : portLevel(svc, cp);
  if (level === undefined) return { declared: null, declaredNote: `the exposure policy at ${d.where} does not name port ${cp.target} of ${c.service}`, ok: false };
  const ok = checkExposure([{ service: c.service, class: cp.class, ports: [cp] }], d.policy).errors.length === 0;
  return { declared: { level, by: `compose-deploy exposure ${c.service}: ${level} (${d.where})` }, ok };
}

/** The declared level of a host socket: the SSH port, or an install-ufw rule admitting it. */
function socketDeclared(proto: string, port: number, decl: HostDeclarations, o: HostRowsOptions): AuditRow['declared'] {
  if (proto === 'tcp' && port === o.sshPort) return { level: 'public', by: 'SSH (the port tsplay connects to)' };
  for (const f of decl.firewall) {
    if (f.state !== 'enabled') continue;
    const r = matchUfw(f.rules, proto, port);
    if (r && (r.action === 'allow' || r.action === 'limit')) return { level: 'public', by: `install-ufw rule "${ufwRuleText(r)}" (${f.where})` };
  }
  return null;
}

const reachable = (a: Admission) => a === 'yes' || a === 'unknown';

export interface HostRows {
  rows: AuditRow[];
  /** Parts that could not be read (ss missing, docker refused). */
  notes: string[];
}

export function hostRows(s: ExposureSnapshotFact, decl: HostDeclarations, o: HostRowsOptions): HostRows {
  const rows: AuditRow[] = [];
  const notes: string[] = [...decl.notes];
  const sockets: ListeningSocket[] = s.listening.available ? s.listening.sockets : [];
  if (!s.listening.available) notes.push('ss is not installed: listening sockets could not be read');
  const used = new Set<ListeningSocket>();
  const containers = s.docker.state === 'ok' ? s.docker.containers : [];
  if (s.docker.state === 'error') notes.push(`docker: ${s.docker.error}`);

  for (const c of containers) {
    const container = { name: c.name, id: c.id.slice(0, 12), ...(c.project ? { project: c.project } : {}), ...(c.service ? { service: c.service } : {}), networkMode: c.networkMode, image: c.image };
    if (c.networkMode === 'host') {
      const own = sockets.filter((x) => x.processes.some((p) => p.pid === c.pid));
      for (const x of own) used.add(x);
      const base = own.length ? own.map((x) => ({ proto: x.proto, address: listenAddress(x.address), port: x.port as number | null, process: x.processes.map((p) => p.name).join(',') })) : [{ proto: 'any', address: '', port: null, process: undefined }];
      for (const b of base) {
        const addrClass = b.port === null ? 'host-network' : classifyHostIp(b.address);
        const cls: ExposureClass = addrClass === 'localhost' ? 'localhost' : 'host-network';
        const cp: ClassifiedPort = { service: c.service ?? c.name, class: 'host-network', target: b.port === null ? '' : String(b.port), protocol: b.proto, binding: 'network_mode: host' };
        const d = composeDeclared(c, cp, decl);
        const socketDecl = b.port === null ? null : socketDeclared(b.proto, b.port, decl, o);
        const row: AuditRow = { proto: b.proto, address: b.address, port: b.port, class: cls, kind: 'host-network', ...(b.process ? { process: b.process } : {}), container, firewall: { admits: 'unknown', reason: '', path: 'INPUT' }, declared: d.declared ?? socketDecl, ...(d.declaredNote && !socketDecl ? { declaredNote: d.declaredNote } : {}), undeclared: false };
        row.firewall = verdictFor(s, row);
        row.undeclared = cls !== 'localhost' && reachable(row.firewall.admits) && !d.ok && !socketDecl;
        rows.push(row);
      }
      continue;
    }
    for (const p of c.ports) {
      const target = `${p.port}/${p.proto}`;
      if (!p.bindings.length) {
        const d = composeDeclared(c, { service: c.service ?? c.name, class: 'internal', target: String(p.port), protocol: p.proto, binding: `expose ${target}` }, decl);
        const row: AuditRow = { proto: p.proto, address: '', port: null, class: 'internal', kind: 'docker', container: { ...container, target }, firewall: { admits: 'no', reason: '', path: 'none' }, declared: d.declared, undeclared: false };
        row.firewall = verdictFor(s, row);
        rows.push(row);
        continue;
      }
      // One row per host port and class: Docker lists 0.0.0.0 and :: separately for one published port.
      const groups = new Map<string, { port: number; cls: ExposureClass; ips: string[] }>();
      for (const b of p.bindings) {
        const cls = classifyHostIp(b.hostIp);
        const key = `${b.hostPort} ${cls}`;
        const g = groups.get(key) ?? { port: b.hostPort, cls, ips: [] };
        if (!g.ips.includes(listenAddress(b.hostIp))) g.ips.push(listenAddress(b.hostIp));
        groups.set(key, g);
      }
      for (const g of groups.values()) {
        const proxies = sockets.filter((x) => x.proto === p.proto && x.port === g.port && g.ips.includes(listenAddress(x.address)));
        for (const x of proxies) used.add(x);
        const hostIp = g.cls === 'public' ? undefined : g.ips[0];
        const cp: ClassifiedPort = { service: c.service ?? c.name, class: g.cls, target: String(p.port), published: String(g.port), ...(hostIp ? { hostIp } : {}), protocol: p.proto, binding: `${g.ips[0]}:${g.port}->${target}` };
        const d = composeDeclared(c, cp, decl);
        const row: AuditRow = { proto: p.proto, address: g.ips.join(', '), port: g.port, class: g.cls, kind: 'docker', ...(proxies.length ? { process: [...new Set(proxies.flatMap((x) => x.processes.map((q) => q.name)))].join(',') || undefined } : {}), container: { ...container, target }, firewall: { admits: 'unknown', reason: '', path: 'FORWARD' }, declared: d.declared, ...(d.declaredNote ? { declaredNote: d.declaredNote } : {}), undeclared: false };
        if (row.process === undefined) delete row.process;
        row.firewall = verdictFor(s, row);
        row.undeclared = RANK[g.cls] >= RANK.address && reachable(row.firewall.admits) && !d.ok;
        rows.push(row);
      }
    }
  }

  // Sockets of the host itself (one row per proto/port/class, addresses merged).
  const groups = new Map<string, { proto: string; port: number; cls: ExposureClass; ips: string[]; procs: Set<string> }>();
  for (const x of sockets) {
    if (used.has(x)) continue;
    const cls = classifyHostIp(x.address === '*' ? '' : x.address);
    const key = `${x.proto} ${x.port} ${cls}`;
    const g = groups.get(key) ?? { proto: x.proto, port: x.port, cls, ips: [], procs: new Set<string>() };
    const a = listenAddress(x.address);
    if (!g.ips.includes(a)) g.ips.push(a);
    for (const p of x.processes) g.procs.add(p.name);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const declared = socketDeclared(g.proto, g.port, decl, o);
    const row: AuditRow = { proto: g.proto, address: g.ips.join(', '), port: g.port, class: g.cls, kind: 'socket', ...(g.procs.size ? { process: [...g.procs].join(',') } : {}), firewall: { admits: 'unknown', reason: '', path: 'INPUT' }, declared, undeclared: false };
    row.firewall = verdictFor(s, row);
    row.undeclared = RANK[g.cls] >= RANK.address && reachable(row.firewall.admits) && !declared;
    rows.push(row);
  }
  rows.sort((a, b) => (a.port ?? 1e6) - (b.port ?? 1e6) || a.proto.localeCompare(b.proto) || (a.container?.name ?? '').localeCompare(b.container?.name ?? '') || a.address.localeCompare(b.address));
  return { rows, notes };
}

/** After a probe: a port that answered from outside counts as reachable even when the firewall analysis said no. */
export function applyProbe(row: AuditRow, result: ProbeResult): void {
  row.probe = result;
  if (result === 'open' && RANK[row.class] >= RANK.address && !row.undeclared) {
    const declaredOk = row.declared !== null && (row.declared.level === 'host-network' || RANK[row.declared.level] >= RANK[row.class]);
    if (!declaredOk) row.undeclared = true;
  }
}
