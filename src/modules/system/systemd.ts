/**
 * `systemd`: Ansible's systemd module. The start/stop/enable part is the `service` module's
 * systemd plan (composed); this adds masked (mask/unmask around it), scope: user (the
 * connecting user's manager: the same plan with `systemctl --user`), no_block, and a bare
 * daemon_reload.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type Plan, type Step } from '../../core/module.js';
import { raw, sh } from '../../core/quote.js';
import { keys, unitName } from '../../facts/keys.js';
import { systemdUnit, type SystemdUnitFact } from '../../facts/systemd.js';
import { USER_SYSTEMCTL, userUnit } from '../../facts/systemd-user.js';
import { part, planPart, PlanBuilder } from '../lib/compose.js';
import service from './service.js';

const params = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9@_.:\\-]+$/, 'a unit name has letters, digits and @ _ . : - only')
      .optional()
      .describe('Unit name, e.g. nginx (nginx.service) or apt-daily.timer; optional with only daemon_reload'),
    state: z
      .enum(['started', 'stopped', 'restarted', 'reloaded'])
      .optional()
      .describe('started/stopped change only when needed; restarted and reloaded always act (a stopped unit is started)'),
    enabled: z.boolean().optional().describe('Whether the unit starts at boot'),
    masked: z.boolean().optional().describe('true: systemctl mask (the unit can not be started at all); false: unmask it'),
    daemon_reload: z.boolean().default(false).describe('Run systemctl daemon-reload first: with name, only when unit files changed on disk; without name, always (and it reports no change, like Ansible)'),
    scope: z
      .enum(['system', 'user', 'global'])
      .default('system')
      .describe('system: the system manager; user: the connecting user\'s manager (systemctl --user; it must be running, e.g. with lingering); global is not supported'),
    no_block: z.boolean().default(false).describe('Queue start/stop jobs without waiting for them to finish (--no-block)'),
  })
  .refine((p) => p.name !== undefined || (p.state === undefined && p.enabled === undefined && p.masked === undefined), {
    message: 'state, enabled and masked need name',
    path: ['name'],
  })
  .refine((p) => p.state !== undefined || p.enabled !== undefined || p.masked !== undefined || p.daemon_reload, {
    message: 'give state, enabled, masked or daemon_reload',
  })
  .refine((p) => !(p.masked === true && (p.enabled === true || (p.state !== undefined && p.state !== 'stopped'))), {
    message: 'a masked unit can not be enabled, started, restarted or reloaded: use masked: true with state: stopped only',
    path: ['masked'],
  })
  .refine((p) => p.scope !== 'global', { message: 'scope: global (systemctl --global) is not supported by tsplay; use system or user', path: ['scope'] });

type Params = z.output<typeof params>;
type Facts = { unit?: SystemdUnitFact };

const output = z.object({
  name: z.string().optional().describe('The unit, e.g. nginx.service'),
  state: z.string().optional().describe('The state asked for'),
  enabled: z.boolean().optional().describe('The boot setting asked for'),
  masked: z.boolean().optional().describe('The mask asked for'),
  status: z
    .object({ LoadState: z.string(), ActiveState: z.string(), SubState: z.string(), UnitFileState: z.string() })
    .optional()
    .describe('The unit\'s properties as read before the task (systemctl show)'),
});

/** systemctl for the scope, with --no-block on jobs. */
function rewrite(steps: Step[], p: Params): Step[] {
  const prefix = p.scope === 'user' ? USER_SYSTEMCTL : 'systemctl';
  return steps.map((s) => {
    if (s.kind !== 'exec' || !s.cmd.startsWith('systemctl ')) return s;
    let rest = s.cmd.slice('systemctl '.length);
    if (p.no_block && /^(start|stop|restart|reload) /.test(rest)) rest = rest.replace(/^(\w+) /, '$1 --no-block ');
    return { ...s, cmd: `${prefix} ${rest}` };
  });
}

export default defineModule<typeof params, Facts>({
  name: 'systemd',
  summary: 'Manage a systemd unit: start, stop, restart, reload, enable, mask; daemon-reload; system or user scope.',
  description:
    'The service module\'s systemd plan plus masked, scope: user, no_block and a bare daemon_reload. ' +
    'Order as in Ansible: daemon-reload, unmask, enable/disable, state, and mask last. Fails on hosts where systemd is not init. ' +
    'Differs from Ansible: daemon_reload with a name runs only when systemd says unit files changed (NeedDaemonReload); scope: global is not supported.',
  examples: [
    {
      title: 'A new unit file, then running and enabled',
      task: { name: 'app runs', systemd: { name: 'app', state: 'started', enabled: true, daemon_reload: true } },
    },
    { title: 'Mask a unit', task: { name: 'No apt timers', systemd: { name: 'apt-daily.timer', state: 'stopped', masked: true } } },
    { title: 'A user service', task: { name: 'syncthing', systemd: { name: 'syncthing', scope: 'user', state: 'started', enabled: true } } },
    { title: 'Reload unit files only', task: { name: 'daemon-reload', systemd: { daemon_reload: true } } },
  ],
  params,
  output,
  probe: (p) => (p.name === undefined ? {} : { unit: p.scope === 'user' ? userUnit(p.name) : systemdUnit(p.name) }),
  plan: (p, f, ctx): Plan => {
    if (p.name === undefined || !f.unit) {
      if (ctx.check) return noop('systemctl daemon-reload would run (not in check mode; it changes no unit\'s state)', { output: {} });
      const step: Step = { kind: 'exec', cmd: p.scope === 'user' ? `${USER_SYSTEMCTL} daemon-reload` : 'systemctl daemon-reload', description: 'systemctl daemon-reload' };
      return noop('systemctl daemon-reload runs (it changes no unit\'s state)', { steps: [step], output: {} });
    }
    const u = f.unit;
    if (!u.systemd) return failPlan('systemd is not init on this host (no /run/systemd/system): use the service module');
    const unit = unitName(p.name);
    const key = p.scope === 'user' ? `user-unit:${unit}` : keys.unit(unit);
    const masked = u.loadState === 'masked' || u.unitFileState === 'masked';
    const out = {
      name: unit,
      ...(p.state !== undefined ? { state: p.state } : {}),
      ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
      ...(p.masked !== undefined ? { masked: p.masked } : {}),
      status: { LoadState: u.loadState, ActiveState: u.activeState, SubState: u.subState, UnitFileState: u.unitFileState },
    };
    const b = new PlanBuilder();
    let seen: SystemdUnitFact = u;
    if (p.daemon_reload && (u.needDaemonReload || !u.exists)) {
      // Done here, before unmask, so that service does not repeat it.
      b.step('reload the systemd configuration', { kind: 'exec', cmd: 'systemctl daemon-reload' });
    }
    if (p.masked === false && masked) {
      b.step(`unmask ${unit}`, { kind: 'exec', cmd: sh`systemctl unmask ${unit}` });
      // What the unit file says once unmasked is known only then: plan enable from "unknown".
      seen = { ...u, exists: true, loadState: 'loaded', unitFileState: '' };
    }
    if (p.state !== undefined || p.enabled !== undefined) {
      const svc = part(service, { name: p.name, state: p.state, enabled: p.enabled });
      // A unit masked on purpose (masked: true, state: stopped) is stopped like a loaded one.
      const view = p.masked === true && masked ? { ...seen, loadState: 'loaded' } : seen;
      const failed = b.add(planPart(svc, { [keys.unit(unit)]: view }, ctx));
      if (failed) return failPlan(failed);
    }
    if (p.masked === true && !masked) {
      b.step(`mask ${unit}`, { kind: 'exec', cmd: sh`systemctl mask ${unit}` });
    }
    if (b.empty) {
      const what = [masked ? 'masked' : u.exists ? u.activeState : 'not found', ...(p.enabled !== undefined && !masked ? [u.unitFileState] : [])];
      return noop(`${unit} is ${what.join(' and ')}`, { output: out });
    }
    const after = (b.assume[keys.unit(unit)] ?? { ...seen }) as Record<string, unknown>;
    if (p.masked === true) Object.assign(after, { exists: true, loadState: 'masked', unitFileState: 'masked', activeState: p.state === 'stopped' ? 'inactive' : (after.activeState ?? u.activeState) });
    const steps = rewrite(b.steps, p);
    return change(b.changes, steps, { assume: { [key]: { ...u, ...after, needDaemonReload: false } }, output: out, diffs: b.diffs.length ? b.diffs : undefined });
  },
});
