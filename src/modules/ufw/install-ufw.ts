/**
 * `install-ufw`: installs ufw, sets its default policies, log level and rules, enables (or
 * disables) it — and refuses any plan that would block new SSH connections on the port tsplay
 * uses. State is read from ufw's own files (see src/facts/ufw.ts); changes are made with ufw
 * commands, in an order that keeps SSH open at every step:
 *
 *   install -> add/insert/update rules -> default policies, logging -> delete rules -> enable
 *
 * `ufw reset` is never used (it disables the firewall while it rebuilds).
 */
import { z } from 'zod';
import { aptCacheAge, debPackage, type AptCacheFact, type DebPackageFact } from '../../facts/deb.js';
import { keys } from '../../facts/keys.js';
import { sshPeers, ufwState, ufwStateKey, type SshPeersFact, type UfwPolicy, type UfwStateFact } from '../../facts/ufw.js';
import { change, defineModule, failPlan, noop, type PlanContext } from '../../core/module.js';
import { PlanBuilder, part, planPart } from '../lib/compose.js';
import apt from '../packages/apt.js';
import { formatAddress, parseCidr, type Cidr } from '../lib/ip.js';
import { diffRules } from './lib/ufw-diff.js';
import { sshRelevant, sshVerdict, type SshProbe } from './lib/ufw-lockout.js';
import { describeRule, fullKey, groupTuples, matchKey, ruleSchema, ruleTuples, ufwCommand, type RuleGroup } from './lib/ufw-rules.js';

const policy = z.enum(['allow', 'deny', 'reject']);
const LOG_LEVELS = ['off', 'low', 'medium', 'high', 'full'] as const;

const params = z
  .object({
    state: z.enum(['enabled', 'disabled']).default('enabled').describe('enabled: the firewall runs now and at boot; disabled: it is stopped (rules are still kept)'),
    default_incoming: policy.default('deny').describe('What happens to incoming traffic no rule matches'),
    default_outgoing: policy.default('allow').describe('What happens to outgoing traffic no rule matches'),
    default_routed: policy.default('deny').describe('What happens to routed (forwarded) traffic no route rule matches'),
    logging: z.enum(LOG_LEVELS).default('low').describe('ufw log level: off, low, medium, high or full'),
    rules: z
      .array(ruleSchema)
      .default([])
      .describe('The rules, in evaluation order (first match wins). Put the SSH rule first. Each rule: action, port, proto, from, from_port, to, direction, interface, route, interface_in, interface_out, log, comment'),
    exclusive: z
      .boolean()
      .default(false)
      .describe('Delete every rule that is not declared here, so removing a rule from the playbook closes the port'),
    protect_ssh: z
      .boolean()
      .default(true)
      .describe('Refuse to change the firewall when new SSH connections on the port tsplay uses would be blocked. Turn off only when you reach the host another way (console)'),
    ssh_port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('The port sshd listens on, when it differs from the port tsplay connects to (e.g. through NAT). Default: the connection\'s port'),
  })
  .strict()
  .superRefine((p, ctx) => {
    // Two declarations of the same rule would make ufw replace one with the other on every run.
    const seen = new Map<string, number>();
    p.rules.forEach((r, i) => {
      let tuples;
      try {
        tuples = ruleTuples(r, true);
      } catch {
        return; // an invalid rule, already reported
      }
      for (const t of tuples) {
        const prev = seen.get(matchKey(t));
        if (prev !== undefined && prev !== i) {
          ctx.addIssue({ code: 'custom', path: ['rules', i], message: `this is the same rule as rules[${prev}] ("${describeRule([t])}"): declare it once` });
          return;
        }
        seen.set(matchKey(t), i);
      }
    });
  });

type Params = z.output<typeof params>;
type Facts = { pkg: DebPackageFact; apt: AptCacheFact; ufw: UfwStateFact; peers: SshPeersFact };

/** ufw from apt; the package lists are updated only when they were never downloaded. */
const aptUfw = () => part(apt, { name: 'ufw', update_cache: true, cache_valid_time: Number.MAX_SAFE_INTEGER });

/** What a freshly installed Debian/Ubuntu ufw package holds. */
export const PACKAGE_DEFAULTS: UfwStateFact = {
  installed: true,
  configured: true,
  enabled: false,
  active: false,
  logLevel: 'low',
  ipv6: true,
  policies: { incoming: 'deny', outgoing: 'allow', routed: 'deny' },
  rules: [],
  skipped: [],
};

const output = z.object({
  state: z.enum(['enabled', 'disabled']).describe('The firewall state after the task'),
  rules: z.array(z.string()).describe('The rules after the task, as `allow 22/tcp` lines, in evaluation order'),
  added: z.array(z.string()).optional().describe('Rules added or updated by this run'),
  removed: z.array(z.string()).optional().describe('Rules deleted by this run'),
});

export default defineModule<typeof params, Facts>({
  name: 'install-ufw',
  summary: 'Install and configure the ufw firewall: default policies, rules, logging; never locks tsplay out.',
  description:
    'Reads the rules ufw stores (/etc/ufw/user.rules, user6.rules) and changes only what differs, so a second run changes nothing. ' +
    'Declared rules keep their order (ufw: first match wins): a new rule is inserted before the next declared rule already present. ' +
    'With exclusive: true, undeclared rules are deleted. Before enabling ufw or changing rules, tsplay checks that new SSH connections ' +
    'to the port it uses (from the controller, or from anywhere when its address is unknown) stay allowed, and refuses the plan otherwise; ' +
    'rules are added before the default policy turns to deny and before ufw is enabled. ' +
    'ufw does NOT filter ports published by Docker (they are forwarded before ufw sees them): use docker-firewall for those.',
  examples: [
    {
      title: 'Default deny, SSH first, a web server',
      task: {
        name: 'Firewall',
        'install-ufw': {
          rules: [
            { action: 'limit', port: '22/tcp', comment: 'ssh' },
            { action: 'allow', port: '80,443/tcp', comment: 'web' },
          ],
          exclusive: true,
        },
      },
    },
    {
      title: 'Monitoring only from the office network, a UDP range, a routed port',
      task: {
        name: 'Firewall for the tracker',
        'install-ufw': {
          rules: [
            { action: 'allow', port: 22, proto: 'tcp' },
            { action: 'allow', port: 9100, proto: 'tcp', from: '10.20.0.0/16' },
            { action: 'allow', port: '6000:6007/udp' },
            { action: 'allow', route: true, interface_in: 'eth0', interface_out: 'wg0', to: '10.8.0.0/24', port: '443/tcp' },
          ],
          logging: 'medium',
        },
      },
    },
  ],
  params,
  output,
  probe: () => ({ pkg: debPackage('ufw'), apt: aptCacheAge(), ufw: ufwState(), peers: sshPeers() }),
  plan: (p, f, ctx) => planUfw(p, f, ctx),
});

function planUfw(p: Params, f: Facts, ctx: PlanContext) {
  const pkgMgr = ctx.hostFacts.pkg_mgr;
  if (typeof pkgMgr === 'string' && pkgMgr !== 'apt') return failPlan(`install-ufw: supports hosts with apt (Debian, Ubuntu); this host uses ${pkgMgr}`);
  const installing = !f.pkg.installed;
  if (!installing && !f.ufw.installed) return failPlan('install-ufw: the ufw package is installed but the ufw command is not on PATH');
  // Not configured yet (fresh install, or a leftover without files): the package's defaults.
  const cur: UfwStateFact = f.ufw.configured ? f.ufw : PACKAGE_DEFAULTS;
  const ipv6 = cur.ipv6;

  const desired: RuleGroup[] = p.rules.map((r, index) => ({ tuples: ruleTuples(r, ipv6), index }));
  const v6Only = desired.find((g) => g.tuples.every((t) => t.v6));
  if (!ipv6 && v6Only) return failPlan(`install-ufw: rule "${describeRule(v6Only, false)}" is for IPv6, but IPv6 is off in /etc/default/ufw (IPV6=no)`);
  const loaded = cur.rules.filter((t) => ipv6 || !t.v6);
  const diff = diffRules(loaded, desired, { exclusive: p.exclusive, ipv6 });

  const wasActive = cur.active ?? cur.enabled;
  const enable = p.state === 'enabled' && (!cur.enabled || cur.active === false);
  const disable = p.state === 'disabled' && (cur.enabled || cur.active === true);
  const policies: Array<[keyof UfwStateFact['policies'], UfwPolicy]> = [
    ['incoming', p.default_incoming],
    ['outgoing', p.default_outgoing],
    ['routed', p.default_routed],
  ];
  const policyChanges = policies.filter(([dir, want]) => cur.policies[dir] !== want);
  const logChange = cur.logLevel !== p.logging;

  const final: UfwStateFact = {
    installed: true,
    configured: true,
    enabled: p.state === 'enabled',
    active: p.state === 'enabled',
    logLevel: p.logging,
    ipv6,
    policies: { incoming: p.default_incoming, outgoing: p.default_outgoing, routed: p.default_routed },
    rules: diff.final,
    skipped: [],
  };
  const ruleLines = groupTuples(diff.final).map((g) => describeRule(g, ipv6));

  const nothingToDo = !installing && !enable && !disable && policyChanges.length === 0 && !logChange && diff.adds.length === 0 && diff.deletes.length === 0;
  if (nothingToDo) {
    const what = `${ruleLines.length} rule${ruleLines.length === 1 ? '' : 's'}, default incoming ${cur.policies.incoming}, outgoing ${cur.policies.outgoing}, routed ${cur.policies.routed}, logging ${cur.logLevel}`;
    return noop(`ufw is ${p.state === 'enabled' ? 'active' : 'disabled'} with ${what}`, { output: { state: p.state, rules: ruleLines } });
  }

  if (p.state === 'enabled' && p.protect_ssh && !ctx.connection.local) {
    const refusal = lockoutRefusal(p, cur, final, desired, wasActive, f.peers, ctx);
    if (refusal) return failPlan(refusal);
  }

  const b = new PlanBuilder();
  const changes = b.changes;
  const phase = (cmds: string[], description: string) => {
    if (cmds.length) b.step(undefined, { kind: 'exec', cmd: cmds.join(' && '), description });
  };
  if (installing) {
    // The apt module plans the install from the facts read here under their own names.
    const failed = b.add(planPart(aptUfw(), { [keys.pkg('ufw')]: f.pkg, [keys.aptCache()]: f.apt }, ctx));
    if (failed) return failPlan(`install-ufw: ${failed}`);
  }
  if (disable) {
    phase(['ufw disable'], 'disable ufw');
    changes.push('disable ufw');
  }
  phase(
    diff.adds.map((o) => o.command),
    'add ufw rules',
  );
  changes.push(...diff.adds.map((o) => o.change));
  phase(
    [...policyChanges.map(([dir, want]) => `ufw default ${want} ${dir}`), ...(logChange ? [`ufw logging ${p.logging}`] : [])],
    'set ufw default policies and logging',
  );
  changes.push(...policyChanges.map(([dir, want]) => `default ${dir}: ${cur.policies[dir] || 'unset'} -> ${want}`));
  if (logChange) changes.push(`logging: ${cur.logLevel || 'unset'} -> ${p.logging}`);
  phase(
    diff.deletes.map((o) => o.command),
    'delete undeclared ufw rules',
  );
  changes.push(...diff.deletes.map((o) => o.change));
  if (enable) {
    // --force: skip ufw's interactive "may disrupt existing ssh connections" prompt; tsplay checked that above.
    phase(['ufw --force enable'], 'enable ufw');
    changes.push(cur.enabled ? 'start ufw (enabled at boot, but not running)' : 'enable ufw');
  }

  return change(b.changes, b.steps, {
    diffs: [{ path: 'ufw rules', before: installing && !f.ufw.configured ? null : renderState(cur, wasActive), after: renderState(final, final.active ?? false) }],
    assume: {
      ...b.assume,
      [ufwStateKey()]: final,
    },
    output: {
      state: p.state,
      rules: ruleLines,
      added: diff.adds.map((o) => o.change.replace(/^(add|update) /, '')),
      removed: diff.deletes.map((o) => o.change.replace(/^remove /, '')),
    },
  });
}

/** The check-mode "file" showing ufw's state: status, policies, logging, then the rules. */
export function renderState(s: UfwStateFact, active: boolean): string {
  const lines = [
    `status: ${active ? 'active' : 'inactive'}`,
    `default incoming: ${s.policies.incoming || 'unset'}`,
    `default outgoing: ${s.policies.outgoing || 'unset'}`,
    `default routed: ${s.policies.routed || 'unset'}`,
    `logging: ${s.logLevel || 'unset'}`,
    'rules:',
    ...groupTuples(s.rules.filter((t) => s.ipv6 || !t.v6)).map((g) => `  ${describeRule(g, s.ipv6)}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The controller's address as this host sees it: the engine's socket address, if the host has
 * an SSH connection from exactly that address (not so behind NAT or a jump host).
 */
export function confirmedController(address: string | undefined, peers: SshPeersFact): { controller?: Cidr; unconfirmed?: string } {
  const parsed = address ? parseCidr(address) : undefined;
  if (!parsed || typeof parsed === 'string' || parsed.prefix !== (parsed.family === 4 ? 32 : 128)) return {};
  const text = formatAddress(parsed);
  const seen = peers.peers.some((p) => {
    const c = parseCidr(p.address);
    return typeof c !== 'string' && formatAddress(c) === text;
  });
  return seen ? { controller: parsed } : { unconfirmed: text };
}

/** Why the plan would lock tsplay out, or undefined when SSH stays reachable. */
function lockoutRefusal(p: Params, cur: UfwStateFact, final: UfwStateFact, desired: RuleGroup[], wasActive: boolean, peers: SshPeersFact, ctx: PlanContext): string | undefined {
  const port = p.ssh_port ?? ctx.connection.port;
  const { controller, unconfirmed } = confirmedController(ctx.connection.controllerAddress, peers);
  const probe: SshProbe = { port, controller };
  // ufw does not filter IPv6 at all when IPV6=no.
  const families = controller ? (controller.family === 6 && !final.ipv6 ? [] : [controller.family === 6]) : final.ipv6 ? [false, true] : [false];
  for (const v6 of families) {
    const rules = final.rules.filter((t) => t.v6 === v6);
    const verdict = sshVerdict(rules, final.policies.incoming, probe);
    if (verdict.allowed) continue;
    // Unchanged for SSH and already active: the connection tsplay holds came through these very rules.
    const before = cur.rules.filter((t) => t.v6 === v6);
    if (wasActive && sshRelevant(before, cur.policies.incoming, probe) === sshRelevant(rules, final.policies.incoming, probe)) continue;
    const addr = controller ? formatAddress(controller) : undefined;
    const who = addr
      ? `the controller (${addr})`
      : unconfirmed
        ? `any address (this host sees no SSH connection from the controller's address ${unconfirmed}: NAT or a jump host?)`
        : "any address (tsplay does not know the controller's address)";
    const from = addr ? `, from: ${addr}` : '';
    const ignored = verdict.ignored.length ? ` Not counted: ${verdict.ignored.join(', ')}.` : '';
    const declareSsh = `a rule that allows them, first in the list: { action: allow, port: "${port}/tcp"${from} }`;
    // A rule not declared here stays where it is, ahead of every declared rule (rules are never
    // moved), so declaring an SSH rule "first" cannot beat it: it has to go.
    const blocker = verdict.rule;
    const declared = new Set(desired.flatMap((g) => g.tuples.map(fullKey)));
    let fix = `Declare ${declareSsh}.`;
    if (blocker && !declared.has(fullKey(blocker))) {
      const group = groupTuples(final.rules).find((g) => g.tuples.includes(blocker))!;
      const declaresSsh = sshVerdict(desired.flatMap((g) => g.tuples.filter((t) => t.v6 === v6)), 'deny', probe).allowed;
      fix =
        `That rule is not declared here and tsplay never moves rules, so no declared rule can get ahead of it: set exclusive: true to delete it (with every other rule not declared here), ` +
        `or delete it first: ${ufwCommand(group.tuples, { kind: 'delete' })}.${declaresSsh ? '' : ` Also declare ${declareSsh}.`}`;
    }
    return (
      `install-ufw would lock tsplay out of ${ctx.host}: afterwards, new SSH connections to port ${port}/tcp${v6 ? ' over IPv6' : ''} from ${who} ` +
      `would be blocked by ${verdict.by}. ${fix}${ignored} ` +
      `If sshd listens on another port than the one tsplay connects to (NAT), set ssh_port; if you reach the host another way (console), set protect_ssh: false.`
    );
  }
  return undefined;
}

export type InstallUfwParams = Params;
