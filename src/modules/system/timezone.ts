/**
 * `timezone`: the host's time zone as Debian keeps it: /etc/localtime a symlink to
 * /usr/share/zoneinfo/ZONE and the zone's name in /etc/timezone (written with the conditional
 * atomic put). No timedatectl, so it works the same in containers.
 */
import { z } from 'zod';
import { defineModule, failPlan, noop, type Plan, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { posix } from 'node:path';
import { timezoneState, type TimezoneFact } from '../../facts/system-settings.js';
import { PlanBuilder } from '../lib/compose.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, 'a time zone is a tz database name like Europe/Paris, America/New_York or UTC')
    .describe('Time zone name from the tz database, e.g. Europe/Paris or UTC'),
  hwclock: z.enum(['local', 'UTC']).optional().describe('Accepted for Ansible compatibility; tsplay does not set the hardware clock'),
});

type Facts = WriteFacts & { tz: TimezoneFact };

const output = z.object({
  name: z.string().describe('The time zone asked for'),
  before: z.string().nullable().describe('The zone /etc/localtime pointed to before the task (null: not a link)'),
});

const ZONEINFO = '/usr/share/zoneinfo';

/** The zone a /etc/localtime link target names, or null. */
function zoneOf(target: string | null): string | null {
  if (target === null) return null;
  const abs = posix.resolve('/etc', target);
  return abs.startsWith(`${ZONEINFO}/`) ? abs.slice(ZONEINFO.length + 1) : null;
}

export default defineModule<typeof params, Facts>({
  name: 'timezone',
  summary: 'Set the host\'s time zone (/etc/localtime and /etc/timezone).',
  description:
    'Points /etc/localtime at /usr/share/zoneinfo/NAME and writes NAME to /etc/timezone, as Debian\'s tzdata does. Fails when the zone is unknown ' +
    '(no zone file: is tzdata installed?). Differs from Ansible: no timedatectl and no hardware clock; running services see the new zone when they restart.',
  examples: [{ title: 'UTC everywhere', task: { name: 'time zone', timezone: { name: 'Etc/UTC' } } }],
  params,
  output,
  probe: (p) => ({ ...probeWrite('/etc/timezone'), tz: timezoneState(p.name) }),
  plan: (p, f, ctx): Plan => {
    const zone = zoneOf(f.tz.localtime);
    const out = { name: p.name, before: zone };
    if (!f.tz.known) return failPlan(`unknown time zone ${p.name}: ${ZONEINFO}/${p.name} does not exist (is tzdata installed?)`);
    const b = new PlanBuilder();
    if (zone !== p.name) {
      const link: Step = { kind: 'exec', cmd: sh`ln -sfn ${`${ZONEINFO}/${p.name}`} /etc/localtime` };
      b.step(`point /etc/localtime at ${p.name}${zone ? ` (was ${zone})` : f.tz.localtime === null ? ' (was no link)' : ` (was ${f.tz.localtime})`}`, link);
      b.diffs.push({ path: '/etc/localtime', before: f.tz.localtime === null ? null : `<symlink to ${f.tz.localtime}>`, after: `<symlink to ${ZONEINFO}/${p.name}>` });
    }
    const failed = b.add(planWrite({ path: '/etc/timezone', content: `${p.name}\n` }, f, ctx));
    if (failed) return failPlan(failed);
    if (b.empty) return noop(`the time zone is ${p.name}`, { output: out });
    return {
      changed: true,
      steps: b.steps,
      changes: b.changes,
      diffs: b.diffs,
      assume: { ...b.assume, [`timezone:${p.name}`]: { known: true, localtime: `${ZONEINFO}/${p.name}`, timezone: p.name } },
      output: out,
    };
  },
});
