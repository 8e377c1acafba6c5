/**
 * `docker-firewall`: filters the ports Docker publishes, which ufw cannot see (see
 * docker-user.ts for why). tsplay owns the DOCKER-USER chain: replies, then the declared ports
 * (optionally only from some sources), then drop (or reject) whatever else arrives on the
 * external interface, then RETURN to Docker's rules.
 *
 * The rules survive reboots and Docker restarts through a systemd unit that runs a generated
 * script; the script rebuilds the chain atomically with `iptables-restore --noflush`. Why not
 * ufw's after.rules: ufw rewrites the chain only when ufw itself (re)starts — not when dockerd
 * restarts — and its *filter section could not replace DOCKER-USER atomically without owning
 * it; the unit also works on hosts without ufw.
 *
 * Idempotent from the chain itself: `iptables -S DOCKER-USER` is compared with the wanted lines.
 */
import { z } from 'zod';
import type { AptCacheFact, DebPackageFact } from '../../facts/deb.js';
import { aptCacheAge, debPackage } from '../../facts/deb.js';
import type { FileContentFact } from '../../facts/file-content.js';
import { fileContent } from '../../facts/file-content.js';
import { iptablesChain, iptablesChainKey, type IptablesChainFact } from '../../facts/iptables.js';
import { keys } from '../../facts/keys.js';
import { stat, type StatFact } from '../../facts/stat.js';
import { ENABLED_STATES, systemdUnit, type SystemdUnitFact } from '../../facts/systemd.js';
import { diffText, planWrite } from '../lib/write-file.js';
import { change, defineModule, failPlan, noop, type ExecStep, type FileDiff, type PlanContext } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { PlanBuilder, part, planPart } from '../lib/compose.js';
import apt from '../packages/apt.js';
import { CHAIN, chainRules, normalizeLine, renderScript, renderUnit, restoreInput, RETURN_ALL, sameRules, SCRIPT_PATH, UNIT_NAME, UNIT_PATH } from './lib/docker-user.js';
import { parseCidr } from '../lib/ip.js';
import { addressParam, interfaceParam, parsePort, portParam } from '../lib/validators.js';

const ipv4Only = (v: string | undefined) => v === undefined || v === 'any' || (parseCidr(v) as { family: number }).family === 4;

const allowSchema = z
  .object({
    port: portParam.optional().describe('The published (host) port, range or list: 443, "8000:8010", "53/udp", "80,443". Omitted: every port (give from)'),
    proto: z.enum(['tcp', 'udp']).optional().describe('Default: the /tcp or /udp suffix of port, else tcp'),
    from: z
      .union([addressParam, z.array(addressParam).min(1)])
      .optional()
      .describe('Source address or network, or a list of them, that may connect; default: anywhere'),
    to: addressParam.optional().describe('Only connections to this host address (the address the port is published on); default: any'),
    comment: z
      .string()
      .regex(/^[^\x00-\x1f\x7f]*$/, 'a comment must be one line')
      .optional()
      .describe('Written above the rule in the generated script'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.port === undefined && a.from === undefined) ctx.addIssue({ code: 'custom', message: 'give port (the published port to open) and/or from (sources allowed every port)', path: ['port'] });
    const port = a.port === undefined ? undefined : parsePort(a.port);
    if (typeof port === 'object' && port.proto && a.proto && port.proto !== a.proto) {
      ctx.addIssue({ code: 'custom', message: `proto is ${a.proto} but port says /${port.proto}: give the protocol once`, path: ['proto'] });
    }
    const froms = a.from === undefined ? [] : Array.isArray(a.from) ? a.from : [a.from];
    for (const [v, path] of [...froms.map((f) => [f, 'from'] as const), [a.to, 'to'] as const]) {
      if (typeof v === 'string' && typeof parseCidr(v) !== 'string' && !ipv4Only(v)) {
        ctx.addIssue({ code: 'custom', message: `${v} is IPv6: docker-firewall manages the IPv4 DOCKER-USER chain only`, path: [path] });
      }
    }
  });

const params = z
  .object({
    state: z.enum(['present', 'absent']).default('present').describe('present: install and apply the rules; absent: remove the unit and the script, and leave DOCKER-USER as Docker creates it'),
    allow: z.array(allowSchema).default([]).describe('Published ports that may be reached from outside; each entry: port, proto, from, to, comment'),
    external_interface: interfaceParam({ wildcard: true })
      .optional()
      .describe('The interface the outside arrives on (a trailing + matches a prefix, e.g. "eth+"). Default: the interface of the default route (host facts)'),
    policy: z.enum(['drop', 'reject']).default('drop').describe('What happens to other connections to published ports from the external interface'),
  })
  .strict();

type Params = z.output<typeof params>;
/** iptables from apt; the package lists are updated only when they were never downloaded. */
const aptIptables = () => part(apt, { name: 'iptables', update_cache: true, cache_valid_time: Number.MAX_SAFE_INTEGER });

type Facts = {
  chain: IptablesChainFact;
  unit: SystemdUnitFact;
  scriptStat: StatFact;
  scriptContent: FileContentFact;
  unitStat: StatFact;
  unitContent: FileContentFact;
  pkg: DebPackageFact;
  apt: AptCacheFact;
};

const output = z.object({
  rules: z.array(z.string()).describe('The DOCKER-USER rules, as `iptables -S` prints them'),
  external_interface: z.string().optional().describe('The interface the drop rule applies to'),
  docker_wired: z.boolean().describe("Whether Docker's FORWARD chain already jumps to DOCKER-USER (false: Docker not running yet)"),
});

export default defineModule<typeof params, Facts>({
  name: 'docker-firewall',
  summary: 'Filter Docker-published ports (which ufw cannot) in the DOCKER-USER chain, kept across reboots and Docker restarts.',
  description:
    'tsplay owns the DOCKER-USER chain: replies to established connections, then the declared published ports (matched on the original ' +
    'destination port, since Docker has already rewritten it), then a drop (or reject) of everything else arriving on the external interface, ' +
    `then RETURN to Docker's own rules. A systemd unit (${UNIT_NAME}, before docker.service, restarted with it) runs ${SCRIPT_PATH}, ` +
    'which rebuilds the chain in one atomic iptables-restore. IPv4 only; containers with network_mode: host are not behind DOCKER-USER ' +
    '(filter those with install-ufw).',
  examples: [
    {
      title: 'Only the reverse proxy is public; Grafana from the office',
      task: {
        name: 'Firewall for published ports',
        'docker-firewall': {
          allow: [
            { port: '80,443/tcp', comment: 'reverse proxy' },
            { port: 3000, from: ['203.0.113.0/24'], comment: 'grafana, office only' },
          ],
        },
      },
    },
    { title: 'UDP tracker on a given interface, rejecting the rest', task: { name: 'Tracker ports', 'docker-firewall': { allow: [{ port: '6969/udp' }], external_interface: 'ens3', policy: 'reject' } } },
    { title: 'Remove', task: { name: 'No more DOCKER-USER rules', 'docker-firewall': { state: 'absent' } } },
  ],
  params,
  output,
  probe: () => ({
    chain: iptablesChain(CHAIN),
    unit: systemdUnit(UNIT_NAME),
    scriptStat: stat(SCRIPT_PATH),
    scriptContent: fileContent(SCRIPT_PATH),
    unitStat: stat(UNIT_PATH),
    unitContent: fileContent(UNIT_PATH),
    pkg: debPackage('iptables'),
    apt: aptCacheAge(),
  }),
  plan: (p, f, ctx) => (p.state === 'absent' ? planAbsent(f) : planPresent(p, f, ctx)),
});

function planPresent(p: Params, f: Facts, ctx: PlanContext) {
  if (!f.unit.systemd) return failPlan('docker-firewall: needs systemd on the host (to re-apply the rules at boot and when Docker restarts)');
  const defaultRoute = ctx.hostFacts.default_ipv4 as { interface?: string } | null | undefined;
  const iface = p.external_interface ?? defaultRoute?.interface;
  if (!iface) {
    return failPlan('docker-firewall: set external_interface (the interface the outside arrives on): the host facts have no default route (gather_facts off?)');
  }
  const rules = chainRules({ allow: p.allow, externalInterface: iface, policy: p.policy });
  const wanted = rules.map((r) => r.line);

  const b = new PlanBuilder();
  const { steps, changes, diffs, assume } = b;
  if (!f.chain.available) {
    if (f.pkg.installed) return failPlan('docker-firewall: the iptables package is installed but the iptables command is not on PATH');
    // The apt module plans the install from the facts read here under their own names.
    const failed = b.add(planPart(aptIptables(), { [keys.pkg('iptables')]: f.pkg, [keys.aptCache()]: f.apt }, ctx));
    if (failed) return failPlan(`docker-firewall: ${failed}`);
  }

  let fileChanged = false;
  let unitChanged = false;
  for (const [path, content, mode, st, cur] of [
    [SCRIPT_PATH, renderScript(rules), '0755', f.scriptStat, f.scriptContent],
    [UNIT_PATH, renderUnit(), '0644', f.unitStat, f.unitContent],
  ] as const) {
    const w = planWrite({ path, content, mode, owner: 'root', group: 'root' }, { stat: st, content: cur }, ctx);
    if ('failed' in w) return failPlan(`docker-firewall: ${w.msg}`);
    if (!w.changed) continue;
    b.add(w);
    fileChanged = true;
    if (path === UNIT_PATH) unitChanged = true;
  }

  const u = f.unit;
  const enabled = u.exists && ENABLED_STATES.includes(u.unitFileState);
  if (unitChanged) {
    // reenable refreshes the [Install] links when the unit file changed.
    steps.push({ kind: 'exec', cmd: sh`systemctl daemon-reload && systemctl reenable ${UNIT_NAME}` });
    if (!enabled) changes.push(`enable ${UNIT_NAME}`);
  } else if (!enabled) {
    steps.push({ kind: 'exec', cmd: sh`systemctl enable ${UNIT_NAME}` });
    changes.push(`enable ${UNIT_NAME}`);
  }

  const current = f.chain.available && f.chain.exists ? f.chain.rules : [];
  const chainDiffers = !(f.chain.available && f.chain.exists && sameRules(current, wanted));
  const active = u.exists && u.activeState === 'active';
  if (chainDiffers || fileChanged || !active) {
    // Runs the script now (and marks the unit active, so PartOf=docker.service re-runs it on Docker restarts).
    steps.push({ kind: 'exec', cmd: sh`systemctl restart ${UNIT_NAME}`, description: 'apply the DOCKER-USER rules' });
  }
  if (chainDiffers) {
    const cur = new Set(current.map(normalizeLine));
    const want = new Set(wanted.map(normalizeLine));
    const added = rules.filter((r) => !cur.has(normalizeLine(r.line)));
    const removed = current.filter((l) => !want.has(normalizeLine(l)));
    changes.push(...added.map((r) => `DOCKER-USER: add rule: ${r.note}`));
    changes.push(...removed.map((l) => `DOCKER-USER: remove rule: ${l.replace(`-A ${CHAIN} `, '')}`));
    if (!added.length && !removed.length) changes.push('DOCKER-USER: put the rules back in order');
    diffs.unshift({ path: `iptables -S ${CHAIN}`, before: f.chain.available && f.chain.exists ? lines(current) : null, after: lines(wanted) });
  } else if (!active && !fileChanged) {
    changes.push(`start ${UNIT_NAME}`);
  }

  const docker_wired = f.chain.available && f.chain.referencedFromForward;
  const out = { rules: wanted, external_interface: iface, docker_wired };
  if (steps.length === 0) {
    return noop(`DOCKER-USER holds the ${wanted.length} wanted rules and ${UNIT_NAME} is enabled${docker_wired ? '' : ' (Docker does not use the chain yet: is dockerd running?)'}`, {
      output: out,
    });
  }
  assume[iptablesChainKey(CHAIN)] = {
    available: true,
    version: f.chain.available ? f.chain.version : '',
    exists: true,
    rules: wanted,
    referencedFromForward: docker_wired,
  } satisfies IptablesChainFact;
  assume[keys.unit(UNIT_NAME)] = {
    systemd: true,
    unit: UNIT_NAME,
    exists: true,
    loadState: 'loaded',
    activeState: 'active',
    subState: 'exited',
    unitFileState: 'enabled',
    needDaemonReload: false,
  } satisfies SystemdUnitFact;
  return change(changes, steps, { diffs, assume, output: out });
}

const lines = (l: string[]) => (l.length ? `${l.join('\n')}\n` : '');

function planAbsent(f: Facts) {
  const unitThere = f.unitStat.exists || (f.unit.systemd && f.unit.exists);
  const managed = unitThere || f.scriptStat.exists;
  const out = { rules: f.chain.available ? f.chain.rules : [], docker_wired: f.chain.available && f.chain.referencedFromForward };
  if (!managed) return noop(`docker-firewall is not installed (no ${UNIT_NAME}, no ${SCRIPT_PATH})`, { output: out });
  const steps: ExecStep[] = [];
  const changes: string[] = [];
  // Stop re-applying first, then hand the chain back to Docker, then remove the files.
  if (f.unit.systemd && f.unit.exists) {
    steps.push({ kind: 'exec', cmd: sh`systemctl disable --now ${UNIT_NAME}` });
    changes.push(`disable ${UNIT_NAME}`);
  }
  const pristine = !f.chain.available || !f.chain.exists || f.chain.rules.length === 0 || sameRules(f.chain.rules, [RETURN_ALL]);
  const diffs: FileDiff[] = [];
  if (!pristine && f.chain.available) {
    steps.push({ kind: 'exec', cmd: 'iptables-restore -w 10 --noflush', stdin: restoreInput([{ line: RETURN_ALL, note: '' }]), description: 'empty the DOCKER-USER chain' });
    changes.push(`DOCKER-USER: remove all ${f.chain.rules.length} rules (back to RETURN)`);
    diffs.push({ path: `iptables -S ${CHAIN}`, before: lines(f.chain.rules), after: lines([RETURN_ALL]) });
  }
  const files = [f.unitStat.exists ? UNIT_PATH : undefined, f.scriptStat.exists ? SCRIPT_PATH : undefined].filter((x): x is string => x !== undefined);
  if (files.length) {
    steps.push({ kind: 'exec', cmd: sh`rm -f -- ${files}` + (f.unitStat.exists && f.unit.systemd ? ' && systemctl daemon-reload' : '') });
    changes.push(...files.map((p) => `remove ${p}`));
    for (const p of files) diffs.push({ path: p, before: diffText(p === UNIT_PATH ? f.unitContent : f.scriptContent), after: null });
  }
  return change(changes, steps, {
    diffs,
    assume: {
      [keys.stat(UNIT_PATH)]: { exists: false },
      [keys.content(UNIT_PATH)]: { exists: false },
      [keys.stat(SCRIPT_PATH)]: { exists: false },
      [keys.content(SCRIPT_PATH)]: { exists: false },
      ...(f.unit.systemd ? { [keys.unit(UNIT_NAME)]: { ...f.unit, exists: false, loadState: 'not-found', activeState: 'inactive', subState: 'dead', unitFileState: '' } } : {}),
      ...(f.chain.available ? { [iptablesChainKey(CHAIN)]: { ...f.chain, rules: pristine ? f.chain.rules : [RETURN_ALL] } } : {}),
    },
    output: out,
  });
}
