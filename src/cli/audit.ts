/**
 * `tsplay audit -i INV [--limit P] [--probe] [--json] [PLAYBOOK...]`: the exposure audit
 * (src/audit/). A table per host on a terminal, one JSON document with --json.
 *
 * Exit codes: 0 nothing undeclared is exposed; 1 bad input (inventory, --limit, playbook);
 * 3 a port is reachable from outside but its exposure was not declared; 4 a host could not be
 * read (and nothing undeclared was found on the others).
 */
import chalk from 'chalk';
import { auditExitCode, auditInventory, parseExtraVars, UserError, type AuditReport, type AuditRow } from '../index.js';
import { outputMasker } from './output.js';

export interface AuditCliOptions {
  inventory: string[];
  extraVars: string[];
  limit?: string;
  probe?: boolean;
  probeTimeout: string;
  json?: boolean;
  rolesPath?: string;
  forks: string;
}

const what = (r: AuditRow): string => {
  const c = r.container;
  if (!c) return r.process ?? '(process not readable)';
  const svc = c.project && c.service ? ` ${c.project}/${c.service}` : '';
  if (r.kind === 'host-network') return `${c.name}${svc} (network_mode: host${r.process ? `, ${r.process}` : ''})`;
  return `${c.name}${svc} -> ${c.target ?? ''}`;
};

const admitsColor = (a: string) => (a === 'yes' ? chalk.red(a) : a === 'no' ? chalk.green(a) : chalk.yellow(a));
const classColor = (c: string) => (c === 'public' || c === 'host-network' ? chalk.bold(c) : c === 'internal' || c === 'localhost' ? chalk.dim(c) : c);

/** The report as aligned text tables, one per host. */
export function formatAudit(report: AuditReport): string {
  const out: string[] = [];
  for (const h of report.hosts) {
    out.push(chalk.bold(`${h.host}`) + chalk.dim(` (${h.address})`));
    if (h.error) {
      out.push(`  ${chalk.red('could not be read')}: ${h.error}`, '');
      continue;
    }
    const head = ['PORT', 'ADDRESS', 'CLASS', 'WHAT', 'OUTSIDE', 'DECLARED', ...(report.probed ? ['PROBE'] : []), ''];
    const cells = h.rows.map((r) => [
      `${r.port ?? '-'}/${r.proto}`,
      r.address || '-',
      r.class,
      what(r),
      r.firewall.admits,
      r.declared ? r.declared.level : '-',
      ...(report.probed ? [r.probe ?? ''] : []),
      r.undeclared ? 'UNDECLARED' : '',
    ]);
    const widths = head.map((t, i) => Math.max(t.length, ...cells.map((c) => c[i]!.length)));
    const pad = (s: string, i: number) => s + ' '.repeat(widths[i]! - s.length);
    out.push('  ' + chalk.dim(head.map(pad).join('  ').trimEnd()));
    h.rows.forEach((r, n) => {
      const c = cells[n]!;
      const colored = c.map((s, i) => {
        const p = pad(s, i);
        if (head[i] === 'CLASS') return p.replace(s, classColor(s));
        if (head[i] === 'OUTSIDE') return p.replace(s, admitsColor(s));
        if (head[i] === 'PROBE') return p.replace(s, s === 'open' ? chalk.red(s) : chalk.dim(s));
        if (s === 'UNDECLARED') return chalk.red.bold(s);
        return p;
      });
      out.push('  ' + colored.join('  ').trimEnd());
      if (r.firewall.path !== 'none') out.push('    ' + chalk.dim(`${r.firewall.path}: ${r.firewall.reason}`));
      if (r.declared) out.push('    ' + chalk.dim(`declared by ${r.declared.by}`));
      else if (r.declaredNote) out.push('    ' + chalk.dim(r.declaredNote));
    });
    for (const note of h.notes) out.push('  ' + chalk.yellow(`note: ${note}`));
    out.push('');
  }
  const hosts = report.hosts.filter((h) => h.rows.some((r) => r.undeclared)).length;
  out.push(
    report.undeclared
      ? chalk.red(`${report.undeclared} port(s) reachable from outside but not declared, on ${hosts} host(s)`)
      : chalk.green('no undeclared exposure'),
  );
  if (report.unreadable) out.push(chalk.red(`${report.unreadable} host(s) could not be read`));
  return out.join('\n') + '\n';
}

export async function auditCommand(playbooks: string[], o: AuditCliOptions): Promise<number> {
  if (!o.inventory.length) throw new UserError('tsplay audit needs an inventory: -i FILE');
  const forks = Number(o.forks);
  if (!Number.isInteger(forks) || forks < 1) throw new UserError(`--forks must be a positive integer (got ${o.forks})`);
  const timeout = Number(o.probeTimeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UserError(`--probe-timeout must be a positive number of milliseconds (got ${o.probeTimeout})`);
  const report = await auditInventory({
    inventory: o.inventory,
    limit: o.limit,
    playbooks,
    extraVars: parseExtraVars(o.extraVars),
    rolesPath: o.rolesPath?.split(':'),
    probe: o.probe,
    probeTimeoutMs: timeout,
    forks,
  });
  const text = o.json ? JSON.stringify(report, null, 2) + '\n' : formatAudit(report);
  process.stdout.write(outputMasker.mask(text));
  return auditExitCode(report);
}
