/**
 * `tsplay audit`: the exposure of every host of an inventory, read-only. Per host, one exec
 * over the normal connection layer reads the listening sockets, Docker's published ports, ufw
 * and the INPUT / DOCKER-USER chains (facts/exposure-snapshot.ts); the playbooks given say what
 * was declared (declared.ts); rows.ts puts both together. With `probe`, the controller also
 * connects to each host's non-loopback TCP ports on the host's inventory address.
 *
 * Bad input (unreadable inventory, unknown --limit name, a playbook that does not load) throws
 * a UserError before any host is contacted. An unreachable host is a report entry, not an error.
 */
import { UserError } from '../core/errors.js';
import { BecomeError, CommandTimeoutError, openConnection, UnreachableError, type Connection } from '../connection/index.js';
import { SshConfigFiles } from '../connection/ssh-config.js';
import { exposureSnapshot } from '../facts/exposure-snapshot.js';
import { CONNECTION_VAR_NAMES, connectionVars } from '../inventory/connection.js';
import { Inventory, loadInventory } from '../inventory/model.js';
import { loadPlaybook } from '../playbook/load.js';
import type { Playbook } from '../playbook/model.js';
import { buildScope } from '../vars/precedence.js';
import { declarationsFor, emptyDeclarations, inventoryLayers } from './declared.js';
import { probePorts } from './probe.js';
import { applyProbe, hostRows, type AuditRow } from './rows.js';
import { dirname, resolve } from 'node:path';
import type { ConnectionVars } from '../connection/types.js';
import type { ExposureSnapshotFact } from '../facts/exposure-snapshot.js';

export interface AuditOptions {
  /** Inventory files or folders (like -i), or an inventory already loaded. */
  inventory: string[] | Inventory;
  /** Host pattern; default all. */
  limit?: string;
  /** Playbooks whose compose-deploy and install-ufw tasks say what is declared. */
  playbooks?: string[];
  extraVars?: Record<string, unknown>;
  rolesPath?: string[];
  /** Also connect from the controller to each host's non-loopback TCP ports. */
  probe?: boolean;
  /** Per connect, default 1500 ms. */
  probeTimeoutMs?: number;
  /** Hosts read at once (default 20). */
  forks?: number;
  /** Injectable for unit tests (fake connections). */
  connect?: (vars: ConnectionVars) => Connection;
}

export interface HostAudit {
  host: string;
  /** The address tsplay connects to (and probes). */
  address: string;
  /** Set when the host could not be read (unreachable, sudo refused, unreadable output): rows are then empty. */
  error?: string;
  rows: AuditRow[];
  notes: string[];
}

export interface AuditReport {
  hosts: HostAudit[];
  /** Rows reachable from outside whose exposure no playbook declared. */
  undeclared: number;
  /** Hosts that could not be read. */
  unreadable: number;
  probed: boolean;
}

/** Exit code of `tsplay audit`: 3 when anything is exposed undeclared, else 4 when a host could not be read, else 0. */
export function auditExitCode(r: AuditReport): number {
  if (r.undeclared) return 3;
  if (r.unreadable) return 4;
  return 0;
}

export async function auditInventory(o: AuditOptions): Promise<AuditReport> {
  const playbookFiles = o.playbooks ?? [];
  const inventory =
    o.inventory instanceof Inventory ? o.inventory : loadInventory(o.inventory, playbookFiles.length ? { playbookDir: dirname(resolve(playbookFiles[0]!)) } : {});
  const hosts = o.limit ? inventory.select(o.limit) : inventory.select('all');
  if (!hosts.length) throw new UserError(o.limit ? `--limit ${o.limit} selects no host` : 'the inventory has no hosts');
  const playbooks: Playbook[] = [];
  for (const f of playbookFiles) playbooks.push((await loadPlaybook(f, { inventory, extraVars: o.extraVars, rolesPath: o.rolesPath })).playbook);
  const declarations = declarationsFor(playbooks, inventory, hosts, o.extraVars ?? {});
  const extra = o.extraVars && Object.keys(o.extraVars).length ? [{ vars: o.extraVars, label: 'extra vars (-e)' }] : [];
  // Hosts are reached as `tsplay run` reaches them: ~/.ssh/config and /etc/ssh/ssh_config too.
  const ssh = { configs: new SshConfigFiles(), files: SshConfigFiles.defaultFiles() };
  const vars = hosts.map((h) => {
    const scope = buildScope({ inventoryLayers: inventoryLayers(inventory, h), extraVars: extra, magic: { ...inventory.magicVars(h), groups: inventory.groupsVar() } });
    const v: Record<string, unknown> = {};
    for (const n of CONNECTION_VAR_NAMES) if (scope.has(n)) v[n] = scope.get(n);
    return connectionVars(h, v, { pos: (k) => inventory.varSource(h, k)?.pos, ssh });
  });

  const results: HostAudit[] = new Array(hosts.length);
  const queue = hosts.map((_, i) => i);
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) results[i] = await auditHost(vars[i]!, declarations.get(hosts[i]!) ?? emptyDeclarations(), o);
  };
  await Promise.all(Array.from({ length: Math.min(o.forks ?? 20, hosts.length) }, worker));
  return {
    hosts: results,
    undeclared: results.reduce((n, h) => n + h.rows.filter((r) => r.undeclared).length, 0),
    unreadable: results.filter((h) => h.error !== undefined).length,
    probed: o.probe === true,
  };
}

async function auditHost(cv: ConnectionVars, decl: ReturnType<typeof emptyDeclarations>, o: AuditOptions): Promise<HostAudit> {
  const base = { host: cv.name, address: cv.address };
  const conn = (o.connect ?? openConnection)(cv);
  const fact = exposureSnapshot();
  let snapshot: ExposureSnapshotFact;
  try {
    const become = cv.become ? { user: cv.becomeUser, password: cv.becomePassword } : undefined;
    const out = await conn.run(fact.command, { become, timeoutMs: 60_000 });
    snapshot = fact.parse(out);
  } catch (e) {
    if (e instanceof UnreachableError) return { ...base, error: `unreachable: ${e.message}`, rows: [], notes: [] };
    if (e instanceof BecomeError || e instanceof CommandTimeoutError) return { ...base, error: e.message, rows: [], notes: [] };
    // A parser that could not read the output: the host was reached but cannot be judged.
    return { ...base, error: (e as Error).message, rows: [], notes: [] };
  } finally {
    await conn.close().catch(() => undefined);
  }
  const { rows, notes } = hostRows(snapshot, decl, { sshPort: cv.connection === 'local' ? -1 : cv.port });
  if (o.probe) {
    const targets = rows.filter((r) => r.proto === 'tcp' && r.port !== null && r.class !== 'localhost' && r.class !== 'internal');
    if (cv.connection === 'local') notes.push('--probe: a local connection has no address to probe');
    else {
      const res = await probePorts(cv.address, targets.map((r) => r.port!), { timeoutMs: o.probeTimeoutMs ?? 1500 });
      for (const r of targets) applyProbe(r, res.get(r.port!)!);
    }
    for (const r of rows) r.probe ??= 'not probed';
  }
  return { ...base, rows, notes };
}
