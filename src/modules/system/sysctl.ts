/**
 * `sysctl`: a kernel setting in a sysctl file (default /etc/sysctl.conf, like Ansible) and, with
 * reload, in the running kernel (`sysctl -p FILE`). The file is edited on the controller and
 * written with one conditional atomic put. Where /proc/sys is read-only (containers), the file is
 * still written and the plan says the running kernel was not changed.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type Plan, type Step } from '../../core/module.js';
import { raw, sh } from '../../core/quote.js';
import { normPath } from '../../facts/keys.js';
import { normalizeSysctl, sysctlPath, sysctlValue, type SysctlValueFact } from '../../facts/system-settings.js';
import { splitLines } from '../files/lib/text.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/, 'a kernel setting looks like net.ipv4.ip_forward')
      .describe('The setting, e.g. net.ipv4.ip_forward or vm.swappiness'),
    value: z
      .union([z.string(), z.number(), z.boolean()])
      .transform((v) => (v === true ? '1' : v === false ? '0' : String(v)))
      .optional()
      .describe('The value (state: present); true/false are written as 1/0, as in Ansible'),
    state: z.enum(['present', 'absent']).default('present').describe('present: the setting is in sysctl_file with value; absent: its lines are removed'),
    sysctl_file: z.string().default('/etc/sysctl.conf').describe('The file to edit (Ansible\'s default /etc/sysctl.conf; e.g. /etc/sysctl.d/99-app.conf)'),
    reload: z.boolean().default(true).describe('When the file changes, load it into the running kernel (sysctl -p sysctl_file)'),
    sysctl_set: z.boolean().default(false).describe('Also set the running value (sysctl -w) when it differs, even if the file did not change'),
    ignoreerrors: z.boolean().default(false).describe('Ignore unknown keys when loading the file (sysctl -e), and an unknown name'),
  })
  .refine((p) => p.state === 'absent' || p.value !== undefined, { message: 'state: present needs value', path: ['value'] });

type Params = z.output<typeof params>;
type Facts = WriteFacts & { live: SysctlValueFact };

/** The file with the setting present (first line replaced, duplicates removed) or absent (pure). */
export function editSysctl(text: string, name: string, value: string | undefined): string {
  let seen = false;
  const out: string[] = [];
  for (const line of splitLines(text)) {
    const t = line.trim();
    const eq = t.indexOf('=');
    if (!t || t.startsWith('#') || t.startsWith(';') || eq < 0 || t.slice(0, eq).trim() !== name) {
      out.push(line);
      continue;
    }
    if (value !== undefined && !seen) {
      // Keep the line as written when its value is already right.
      out.push(normalizeSysctl(t.slice(eq + 1)) === normalizeSysctl(value) ? (line.endsWith('\n') ? line : line + '\n') : `${name}=${value}\n`);
    }
    seen = true;
  }
  if (value !== undefined && !seen) {
    if (out.length && !out[out.length - 1]!.endsWith('\n')) out[out.length - 1] += '\n';
    out.push(`${name}=${value}\n`);
  }
  return out.join('');
}

const output = z.object({
  name: z.string().describe('The setting'),
  value: z.string().optional().describe('The value asked for'),
  running: z.string().nullable().describe('The running value read before the task (null: the kernel has no such setting)'),
  applied: z.boolean().describe('Whether the running kernel was (or, in check mode, would be) changed'),
});

export default defineModule<typeof params, Facts>({
  name: 'sysctl',
  summary: 'Set a kernel parameter in a sysctl file and in the running kernel.',
  description:
    'Like Ansible: the line name=value goes in sysctl_file (default /etc/sysctl.conf; duplicates of the setting are removed), and with reload ' +
    'the file is loaded when it changed (sysctl -p). sysctl_set also sets the running value when only that differs. Where /proc/sys is read-only ' +
    '(a container), the file is written and the change says the running kernel is left as is; sysctl_set then fails.',
  examples: [
    { title: 'Forward IPv4', task: { name: 'ip forwarding', sysctl: { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: '/etc/sysctl.d/99-forward.conf' } } },
    { title: 'Swappiness, file and running value', task: { name: 'swappiness', sysctl: { name: 'vm.swappiness', value: 10, sysctl_set: true } } },
    { title: 'Drop a setting', task: { name: 'No custom rmem', sysctl: { name: 'net.core.rmem_max', state: 'absent' } } },
  ],
  params,
  output,
  probe: (p) => ({ ...probeWrite(p.sysctl_file), live: sysctlValue(p.name) }),
  plan: (p, f, ctx) => planSysctl(p, f, ctx),
});

function planSysctl(p: Params, f: Facts, ctx: Parameters<typeof planWrite>[2]): Plan {
  const file = normPath(p.sysctl_file);
  const name = p.name.replace(/\//g, '.');
  const live = f.live;
  if (live.value === null && p.state === 'present' && !p.ignoreerrors && (p.reload || p.sysctl_set)) {
    return failPlan(`the kernel has no setting ${name} (${sysctlPath(name)} does not exist); check the name, or set ignoreerrors: true`);
  }
  let before = '';
  if (f.content.exists) {
    if (f.content.type !== 'file' || f.content.content === undefined) return failPlan(`${file} is not a readable text file`);
    before = f.content.content;
  } else if (p.state === 'absent') {
    return noop(`${file} does not exist, so ${name} is not in it`, { output: { name, running: live.value, applied: false } });
  }
  const after = editSysctl(before, name, p.value);
  const write = after === before ? undefined : planWrite({ path: file, content: after }, f, ctx);
  if (write && 'failed' in write) return write;

  const want = p.value !== undefined ? normalizeSysctl(p.value) : undefined;
  const differs = want !== undefined && live.value !== null && live.value !== want;
  const steps: Step[] = write?.changed ? [...write.steps] : [];
  const changes: string[] = write?.changed ? [p.state === 'absent' ? `remove ${name} from ${file}` : `${f.content.exists ? 'set' : 'create ' + file + ' with'} ${name}=${p.value}${f.content.exists ? ` in ${file}` : ''}`] : [];
  const notes: string[] = [];
  let applied = false;
  const readOnly = `${sysctlPath(name)} is read-only here (a container?): the running kernel keeps ${name}=${live.value}`;
  if (p.sysctl_set && differs) {
    if (!live.writable) return failPlan(`sysctl_set: ${readOnly}; set it on the container's host, or drop sysctl_set`);
    steps.push({ kind: 'exec', cmd: sh`sysctl -w ${`${name}=${p.value}`}`, description: `sysctl -w ${name}=${p.value}` });
    changes.push(`set the running ${name}: ${live.value} -> ${want}`);
    applied = true;
  }
  if (p.reload && write?.changed) {
    if (live.writable || live.value === null) {
      steps.push({ kind: 'exec', cmd: sh`sysctl ${raw(p.ignoreerrors ? '-e ' : '')}-p ${file}`, description: `sysctl -p ${file}` });
      if (!applied) changes.push(`load ${file} into the running kernel${differs ? ` (${name}: ${live.value} -> ${want})` : ''}`);
      applied = applied || differs;
    } else if (differs) {
      notes.push(`not applied: ${readOnly}; it takes effect at the next boot`);
    }
  }
  const out = { name, ...(p.value !== undefined ? { value: p.value } : {}), running: live.value, applied };
  if (!steps.length) {
    const state = p.state === 'absent' ? `${name} is not in ${file}` : `${name}=${p.value} is in ${file}`;
    const runningNote = differs ? `; the running value is ${live.value}${live.writable ? ' (sysctl_set: true would set it)' : ` (${sysctlPath(name)} is read-only here)`}` : '';
    return noop(state + runningNote, { output: out });
  }
  return change([...changes, ...notes], steps, {
    diffs: write?.changed ? write.diffs : undefined,
    assume: { ...(write?.changed ? write.assume : {}), ...(applied ? { [`sysctl:${name}`]: { value: want, writable: true } } : {}) },
    output: out,
  });
}
