/**
 * The benchmark playbook, generated twice with the same meaning: once for tsplay (EJS template)
 * and once for Ansible (Jinja template, FQCN module names). Task i cycles through eight kinds
 * that both tools have with the same semantics, each on its own path or account so that every
 * task changes something on a fresh host and nothing on a converged one.
 */

/** Where every file the playbook creates lives (removed by the reset between first runs). */
export const BENCH_ROOT = '/opt/bench';
export const USER_PREFIX = 'benchuser';
export const GROUP_PREFIX = 'benchgroup';

export const TASK_KINDS = ['file', 'copy', 'lineinfile', 'template', 'apt', 'user', 'group', 'command'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
/** The default workload: file, copy, lineinfile and command tasks (no packages or accounts). */
export const FILE_KINDS: TaskKind[] = ['file', 'copy', 'lineinfile', 'command'];

/** Packages the lab image already has: the apt task must find them installed (changed=0 always). */
export const APT_PACKAGES = ['openssh-server', 'sudo'];

/** One task of the benchmark, tool-neutral: module name, parameters, task vars. */
export interface BenchTask {
  name: string;
  kind: TaskKind | 'root';
  module: string;
  params: Record<string, unknown>;
  vars?: Record<string, unknown>;
}

/** The template's text, written in each tool's syntax; both render to the same bytes. */
export function templateText(tool: 'tsplay' | 'ansible'): string {
  const v = (name: string) => (tool === 'tsplay' ? `<%= ${name} %>` : `{{ ${name} }}`);
  return `# managed by the tsplay/Ansible benchmark\nhost = ${v('inventory_hostname')}\nport = ${v('bench_port')}\nindex = ${v('bench_index')}\n`;
}

/** The template file name each tool looks up in its templates/ folder. */
export const templateFile = (tool: 'tsplay' | 'ansible') => (tool === 'tsplay' ? 'bench.conf.ejs' : 'bench.conf.j2');

/**
 * M tasks: the first creates BENCH_ROOT (a `file` task), the others cycle through `kinds`.
 * The template source is left as `@TEMPLATE@`, filled in per tool by `renderPlaybook`.
 */
export function benchTasks(m: number, kinds: readonly TaskKind[] = TASK_KINDS): BenchTask[] {
  const tasks: BenchTask[] = [
    { name: 'bench root', kind: 'root', module: 'file', params: { path: BENCH_ROOT, state: 'directory', mode: '0755' } },
  ];
  for (let i = 1; i < m; i++) {
    const kind = kinds[(i - 1) % kinds.length]!;
    const name = `${kind} ${i}`;
    switch (kind) {
      case 'file':
        tasks.push({ name, kind, module: 'file', params: { path: `${BENCH_ROOT}/dir-${i}`, state: 'directory', mode: '0750' } });
        break;
      case 'copy':
        tasks.push({ name, kind, module: 'copy', params: { dest: `${BENCH_ROOT}/copy-${i}.txt`, content: `copied file ${i}\nsecond line\n`, mode: '0644' } });
        break;
      case 'lineinfile':
        tasks.push({
          name,
          kind,
          module: 'lineinfile',
          params: { path: `${BENCH_ROOT}/lines-${i}.conf`, regexp: `^setting_${i}\\s*=`, line: `setting_${i} = value ${i}`, create: true, mode: '0644' },
        });
        break;
      case 'template':
        tasks.push({ name, kind, module: 'template', params: { src: '@TEMPLATE@', dest: `${BENCH_ROOT}/tpl-${i}.conf`, mode: '0644' }, vars: { bench_index: i } });
        break;
      case 'apt':
        tasks.push({ name, kind, module: 'apt', params: { name: APT_PACKAGES, state: 'present' } });
        break;
      case 'user':
        tasks.push({ name, kind, module: 'user', params: { name: `${USER_PREFIX}${i}`, shell: '/bin/bash', comment: `Bench user ${i}` } });
        break;
      case 'group':
        tasks.push({ name, kind, module: 'group', params: { name: `${GROUP_PREFIX}${i}`, state: 'present' } });
        break;
      case 'command':
        tasks.push({ name, kind, module: 'command', params: { cmd: `touch ${BENCH_ROOT}/cmd-${i}.done`, creates: `${BENCH_ROOT}/cmd-${i}.done` } });
        break;
    }
  }
  return tasks;
}

/** Accounts the tasks create (for the reset and the end-state comparison). */
export function benchAccounts(tasks: BenchTask[]): { users: string[]; groups: string[] } {
  const names = (module: string) => tasks.filter((t) => t.module === module).map((t) => String(t.params.name));
  return { users: names('user'), groups: names('group') };
}

/** How many tasks of each kind (for the report's "playbook shape"). */
export function shape(tasks: BenchTask[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tasks) out[t.module] = (out[t.module] ?? 0) + 1;
  return out;
}

/** The play for one tool, as YAML-ready data. Facts are off in both (no task uses them). */
export function renderPlaybook(tool: 'tsplay' | 'ansible', tasks: BenchTask[]): unknown[] {
  const moduleName = (m: string) => (tool === 'ansible' ? `ansible.builtin.${m}` : m);
  return [
    {
      name: 'benchmark',
      hosts: 'lab',
      gather_facts: false,
      vars: { bench_port: 8080 },
      tasks: tasks.map((t) => {
        const params = t.params.src === '@TEMPLATE@' ? { ...t.params, src: templateFile(tool) } : t.params;
        return { name: t.name, [moduleName(t.module)]: params, ...(t.vars ? { vars: t.vars } : {}) };
      }),
    },
  ];
}

/**
 * The floor's one command per host: the read-only checks a converged run needs, with no engine
 * around them: one `stat` of every path the tasks name (type, mode, owner, size; a missing path
 * fails it), one `sha256sum` of every file whose content a task sets, the files a `lineinfile`
 * must search. Other kinds (apt, user, group) have no floor equivalent here.
 */
export function floorScript(tasks: BenchTask[]): string {
  const stat: string[] = [];
  const hash: string[] = [];
  const read: string[] = [];
  for (const t of tasks) {
    const p = t.params;
    if (t.module === 'file') stat.push(String(p.path));
    else if (t.module === 'copy' || t.module === 'template') (stat.push(String(p.dest)), hash.push(String(p.dest)));
    else if (t.module === 'lineinfile') (stat.push(String(p.path)), read.push(String(p.path)));
    else if (t.module === 'command' && p.creates) stat.push(String(p.creates));
  }
  const lines = [`stat -c '%n %F %a %U:%G %s' ${stat.join(' ')}`];
  if (hash.length) lines.push(`sha256sum ${hash.join(' ')}`);
  if (read.length) lines.push(`cat ${read.join(' ')}`);
  return `set -e\n${lines.join('\n')}\n`;
}
