/**
 * `hostname`: the host's name in /etc/hostname and in the running kernel. /etc/hostname is
 * written in place (containers bind-mount it, so a rename over it fails), and only if it still
 * holds what the plan read. A kernel that refuses the new name (a container without
 * CAP_SYS_ADMIN) fails the task with that reason after the file is written.
 */
import { z } from 'zod';
import { change, defineModule, noop, type Step } from '../../core/module.js';
import { raw, sh } from '../../core/quote.js';
import { hostnameState, type HostnameFact } from '../../facts/system-settings.js';

const params = z.object({
  name: z
    .string()
    .max(64, 'a host name has at most 64 characters')
    .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'a host name has letters, digits and inner hyphens, in dot-separated labels (RFC 1123)')
    .describe('The host name, e.g. web1 or web1.example.org'),
  use: z
    .enum(['systemd', 'debian', 'generic', 'alpine', 'redhat', 'sles', 'freebsd', 'openbsd', 'solaris', 'openrc', 'darwin'])
    .optional()
    .describe('Accepted for Ansible compatibility; tsplay always writes /etc/hostname and sets the kernel\'s name (hostname NAME)'),
});

type Facts = { host: HostnameFact };

const output = z.object({ name: z.string().describe('The host name asked for'), before: z.string().describe('The running host name read before the task') });

const REFUSED = 'the kernel refused the new host name (a container without CAP_SYS_ADMIN, or a shared UTS namespace?): /etc/hostname is written, the name applies at the next boot';

export default defineModule<typeof params, Facts>({
  name: 'hostname',
  summary: 'Set the host name in /etc/hostname and in the running kernel.',
  description:
    'Writes /etc/hostname (in place, only if it is still what was read) and runs `hostname NAME`. /etc/hosts is not changed (as in Ansible). ' +
    'In a container the kernel may refuse the new name: the task then fails saying so, with /etc/hostname already written.',
  examples: [{ title: 'Name a host after its inventory name', task: { name: 'host name', hostname: { name: '{{ inventory_hostname }}' } } }],
  params,
  output,
  probe: () => ({ host: hostnameState() }),
  plan: (p, f) => {
    const { running, file } = f.host;
    const steps: Step[] = [];
    const changes: string[] = [];
    const out = { name: p.name, before: running };
    if (file !== p.name) {
      // $(cat) drops trailing newlines, as the fact does: compare what was read.
      const guard = file === null ? sh`[ ! -e /etc/hostname ]` : sh`[ "$(cat /etc/hostname)" = ${file} ]`;
      steps.push({
        kind: 'exec',
        cmd: sh`if ${raw(guard)}; then printf '%s\\n' ${p.name} > /etc/hostname; else echo '/etc/hostname changed since tsplay read it: run again' >&2; exit 1; fi`,
        description: 'write /etc/hostname',
      });
      changes.push(file === null ? `create /etc/hostname (${p.name})` : `write /etc/hostname: ${file.split('\n')[0]} -> ${p.name}`);
    }
    if (running !== p.name) {
      steps.push({
        kind: 'exec',
        cmd: sh`if command -v hostname >/dev/null 2>&1; then hostname ${p.name}; else printf '%s' ${p.name} > /proc/sys/kernel/hostname; fi 2>/dev/null || { echo ${REFUSED} >&2; exit 1; }`,
        description: `hostname ${p.name}`,
      });
      changes.push(`set the running host name: ${running} -> ${p.name}`);
    }
    if (!steps.length) return noop(`the host name is ${p.name}`, { output: out });
    return change(changes, steps, {
      diffs: file !== p.name ? [{ path: '/etc/hostname', before: file === null ? null : `${file}\n`, after: `${p.name}\n` }] : undefined,
      assume: { hostname: { running: p.name, file: p.name } },
      output: out,
    });
  },
});
