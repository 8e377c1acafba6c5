/**
 * `service`: a service started/stopped/restarted/reloaded and enabled or not. Uses systemd
 * when it is init (systemdUnit fact), else /etc/init.d scripts via `service` and update-rc.d
 * (sysvService fact). In check mode, a unit that does not exist yet while earlier tasks have
 * pending changes (an apt install, a unit file copy) is a pending change, not a failure.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type Plan, type PlanContext, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys, unitName } from '../../facts/keys.js';
import { ENABLED_STATES, systemdUnit, type SystemdUnitFact } from '../../facts/systemd.js';
import { sysvService, type SysvServiceFact } from '../../facts/sysv.js';

const params = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9@_.:\\-]+$/, 'a service name has letters, digits and @ _ . : - only')
      .describe('Service name, e.g. nginx (systemd: nginx.service; other unit types need their suffix, e.g. apt-daily.timer)'),
    state: z
      .enum(['started', 'stopped', 'restarted', 'reloaded'])
      .optional()
      .describe('started/stopped change only when needed; restarted and reloaded always act (a stopped service is started)'),
    enabled: z.boolean().optional().describe('Whether the service starts at boot'),
    daemon_reload: z.boolean().default(false).describe('systemd: run systemctl daemon-reload first when unit files changed on disk'),
  })
  .refine((p) => p.state !== undefined || p.enabled !== undefined || p.daemon_reload, { message: 'give state, enabled or daemon_reload' });

type Params = z.output<typeof params>;
type Facts = { unit: SystemdUnitFact; sysv: SysvServiceFact };

const output = z.object({
  name: z.string().describe('The unit or init script'),
  state: z.string().optional().describe('The state asked for'),
  enabled: z.boolean().optional().describe('The boot setting asked for'),
});

export default defineModule<typeof params, Facts>({
  name: 'service',
  summary: 'Start, stop, restart or reload a service and set whether it starts at boot.',
  description: 'systemd when it is init, otherwise SysV init scripts (`service NAME start`, `update-rc.d`). restarted and reloaded always report a change.',
  examples: [
    { title: 'Running and enabled', task: { name: 'nginx runs', service: { name: 'nginx', state: 'started', enabled: true } } },
    { title: 'A handler', task: { name: 'reload nginx', service: { name: 'nginx', state: 'reloaded' } } },
  ],
  params,
  output,
  probe: (p) => ({ unit: systemdUnit(p.name), sysv: sysvService(p.name) }),
  plan: (p, f, ctx) => {
    const plan = f.unit.systemd ? planSystemd(p, f.unit, ctx) : planSysv(p, f.sysv, ctx);
    return 'failed' in plan ? plan : { ...plan, output: { name: p.name, state: p.state, enabled: p.enabled } };
  },
});

/** In check mode with earlier pending changes, a missing service is expected to appear. */
function missing(what: string, actions: { changes: string[]; steps: Step[] }, ctx: PlanContext, assume: Record<string, unknown>): Plan {
  if (ctx.check && ctx.pending.length > 0) {
    const last = ctx.pending[ctx.pending.length - 1];
    return change(
      actions.changes.map((c) => `${c} (pending: ${what} does not exist yet; earlier tasks in this run would change it, last: ${last})`),
      actions.steps,
      { assume },
    );
  }
  return failPlan(`${what} not found on the host: install its package or unit file first`);
}

function planSystemd(p: Params, u: Extract<SystemdUnitFact, { systemd: true }>, ctx: PlanContext): Plan {
  const unit = unitName(p.name);
  const steps: Step[] = [];
  const changes: string[] = [];
  const running = ['active', 'activating', 'reloading'].includes(u.activeState);
  const enabled = ENABLED_STATES.includes(u.unitFileState);
  let activeState = u.activeState;
  let unitFileState = u.unitFileState;

  if (p.daemon_reload && (u.needDaemonReload || !u.exists)) {
    steps.push({ kind: 'exec', cmd: 'systemctl daemon-reload' });
    changes.push('reload the systemd configuration');
  }
  if (p.enabled === true && (!enabled || !u.exists)) {
    steps.push({ kind: 'exec', cmd: sh`systemctl enable ${unit}` });
    changes.push(`enable ${unit}`);
    unitFileState = 'enabled';
  } else if (p.enabled === false && u.exists && (u.unitFileState === 'enabled' || u.unitFileState === 'enabled-runtime')) {
    steps.push({ kind: 'exec', cmd: sh`systemctl disable ${unit}` });
    changes.push(`disable ${unit}`);
    unitFileState = 'disabled';
  }
  const act = (verb: string, line: string, after: string) => {
    steps.push({ kind: 'exec', cmd: sh`systemctl ${verb} ${unit}` });
    changes.push(line);
    activeState = after;
  };
  if (p.state === 'started' && (!running || !u.exists)) act('start', `start ${unit}`, 'active');
  else if (p.state === 'stopped' && running && u.exists) act('stop', `stop ${unit}`, 'inactive');
  else if (p.state === 'restarted') act('restart', `restart ${unit}`, 'active');
  else if (p.state === 'reloaded' && running && u.exists) act('reload', `reload ${unit}`, 'active');
  else if (p.state === 'reloaded') act('start', `start ${unit} (reloaded asked, it was not running)`, 'active');

  const assume = { [keys.unit(unit)]: { ...u, exists: true, loadState: 'loaded', activeState, unitFileState, needDaemonReload: false } };
  if (!u.exists) {
    if (p.state === 'stopped' && p.enabled !== true) return noop(`${unit} does not exist, so it is not running`);
    return missing(unit, { changes, steps }, ctx, assume);
  }
  if (u.loadState === 'masked' && (p.state === 'started' || p.state === 'restarted' || p.state === 'reloaded' || p.enabled === true)) {
    return failPlan(`${unit} is masked: run systemctl unmask ${unit} (or remove the mask) first`);
  }
  if (!steps.length) return noop(`${unit} is ${u.activeState}${p.enabled !== undefined ? ` and ${u.unitFileState}` : ''}`);
  return change(changes, steps, { assume });
}

function planSysv(p: Params, s: SysvServiceFact, ctx: PlanContext): Plan {
  const name = p.name;
  const steps: Step[] = [];
  const changes: string[] = [];
  const running = s.systemd === false && s.exists && s.running;
  const enabled = s.systemd === false && s.exists && s.enabled;
  const act = (verb: string, line: string) => {
    steps.push({ kind: 'exec', cmd: sh`service ${name} ${verb}` });
    changes.push(line);
  };

  if (p.enabled === true && !enabled) {
    steps.push({ kind: 'exec', cmd: sh`update-rc.d ${name} defaults && update-rc.d ${name} enable` });
    changes.push(`enable ${name} at boot`);
  } else if (p.enabled === false && enabled) {
    steps.push({ kind: 'exec', cmd: sh`update-rc.d ${name} disable` });
    changes.push(`disable ${name} at boot`);
  }
  if (p.state === 'started' && !running) act('start', `start ${name}`);
  else if (p.state === 'stopped' && running) act('stop', `stop ${name}`);
  else if (p.state === 'restarted') act('restart', `restart ${name}`);
  else if (p.state === 'reloaded' && running) act('reload', `reload ${name}`);
  else if (p.state === 'reloaded') act('start', `start ${name} (reloaded asked, it was not running)`);

  const willRun = p.state === 'stopped' ? false : p.state !== undefined ? true : running;
  const assume = {
    [keys.sysv(name)]: { systemd: false, exists: true, running: willRun, statusCode: willRun ? 0 : 3, enabled: p.enabled ?? enabled },
  };
  if (s.systemd || !s.exists) {
    if (p.state === 'stopped' && p.enabled !== true) return noop(`/etc/init.d/${name} does not exist, so it is not running`);
    return missing(`/etc/init.d/${name}`, { changes, steps }, ctx, assume);
  }
  if (!steps.length) return noop(`${name} is ${running ? 'running' : 'stopped'}${p.enabled !== undefined ? ` and ${enabled ? 'enabled' : 'disabled'} at boot` : ''}`);
  return change(changes, steps, { assume });
}
