/**
 * `wait_for`: waits until a TCP port is open/closed or a path exists/is gone, as ONE exec
 * running a POSIX sh polling loop on the host with a deadline.
 *
 * How a port is tested, first tool found on the host wins:
 *   1. `nc -z -w 2 HOST PORT` (netcat-openbsd or -traditional);
 *   2. bash's /dev/tcp (`timeout 3 bash -c 'exec 3<>/dev/tcp/HOST/PORT'`): dash has no /dev/tcp,
 *      so bash is called explicitly when it is installed;
 *   3. for local hosts only (127.0.0.1, localhost, ::1, 0.0.0.0): `ss -Hltn "sport = :PORT"`,
 *      i.e. "something listens on that port".
 * Without any of them the task fails saying so. In check mode nothing is waited for.
 */
import { z } from 'zod';
import { defineModule, noop, type ExecStep } from '../../core/module.js';
import { quote } from '../../core/quote.js';

const LOCAL = ['127.0.0.1', 'localhost', '::1', '0.0.0.0'];

const params = z
  .object({
    port: z.number().int().min(1).max(65535).optional().describe('TCP port to wait for'),
    host: z.string().default('127.0.0.1').describe('Host to connect to, as seen from the managed host'),
    path: z.string().optional().describe('File or folder to wait for (instead of port)'),
    search_regex: z.string().optional().describe('With path: also wait until the file has a line matching this extended regular expression (grep -E)'),
    state: z
      .enum(['started', 'stopped', 'present', 'absent'])
      .default('started')
      .describe('port: started (open) or stopped (closed); path: present/started (exists) or absent/stopped (gone)'),
    timeout: z.number().int().min(0).default(300).describe('Seconds to wait before failing'),
    delay: z.number().int().min(0).default(0).describe('Seconds to wait before the first test'),
    sleep: z.number().int().min(1).default(1).describe('Seconds between tests'),
    msg: z.string().optional().describe('Message when the timeout is reached'),
  })
  .refine((p) => (p.port === undefined) !== (p.path === undefined), { message: 'give exactly one of port or path' })
  .refine((p) => p.search_regex === undefined || p.path !== undefined, { message: 'search_regex needs path', path: ['search_regex'] });

type Params = z.output<typeof params>;

const wantUp = (p: Params) => p.state === 'started' || p.state === 'present';

/** "port 80 on 127.0.0.1 to be open", "/run/app.sock to exist". */
export function waitGoal(p: Params): string {
  if (p.port !== undefined) return `port ${p.port} on ${p.host} to be ${wantUp(p) ? 'open' : 'closed'}`;
  if (p.search_regex !== undefined && wantUp(p)) return `${p.path} to contain /${p.search_regex}/`;
  return `${p.path} to ${wantUp(p) ? 'exist' : 'be gone'}`;
}

/** The polling script (POSIX sh). `check` succeeds when the goal is reached. */
export function waitScript(p: Params): string {
  const q = quote;
  const lines: string[] = [];
  if (p.port !== undefined) {
    const local = LOCAL.includes(p.host);
    lines.push(
      `if command -v nc >/dev/null 2>&1; then up() { nc -z -w 2 ${q(p.host)} ${p.port} >/dev/null 2>&1; }`,
      `elif command -v bash >/dev/null 2>&1; then up() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${q(p.host)} ${p.port} >/dev/null 2>&1; }`,
      ...(local ? [`elif command -v ss >/dev/null 2>&1; then up() { ss -Hltn ${q(`sport = :${p.port}`)} | grep -q .; }`] : []),
      `else echo 'wait_for: testing a port needs nc or bash${local ? ' or ss' : ''} on the host' >&2; exit 2; fi`,
    );
  } else if (p.search_regex !== undefined) {
    lines.push(`up() { [ -f ${q(p.path!)} ] && grep -Eq -- ${q(p.search_regex)} ${q(p.path!)}; }`);
  } else {
    lines.push(`up() { [ -e ${q(p.path!)} ]; }`);
  }
  lines.push(
    `check() { ${wantUp(p) ? 'up' : '! up'}; }`,
    'start=$(date +%s)',
    `deadline=$((start + ${p.timeout + p.delay}))`,
    ...(p.delay ? [`sleep ${p.delay}`] : []),
    'while :; do',
    '  if check; then echo "elapsed $(( $(date +%s) - start ))"; exit 0; fi',
    `  if [ "$(date +%s)" -ge "$deadline" ]; then echo ${q(p.msg ?? `timeout: waited ${p.timeout}s for ${waitGoal(p)}`)} >&2; exit 1; fi`,
    `  sleep ${p.sleep}`,
    'done',
  );
  // A subshell, so `exit` ends only the loop whatever runs the step.
  return `(\n${lines.join('\n')}\n)`;
}

const output = z.object({
  elapsed: z.number().describe('Seconds waited'),
  state: z.string().describe('The state waited for'),
});

export default defineModule({
  name: 'wait_for',
  summary: 'Wait for a TCP port to open or close, or a path to appear or go.',
  description:
    'Runs one polling loop on the host (POSIX sh): ports are tested with nc, else bash /dev/tcp, else (local ports) ss. ' +
    'Reports ok, never changed. In check mode nothing is waited for.',
  examples: [
    { title: 'Wait for a service', task: { name: 'Postgres is up', wait_for: { port: 5432, timeout: 60 } } },
    { title: 'Wait for a log line', task: { name: 'App started', wait_for: { path: '/var/log/app.log', search_regex: 'listening on', timeout: 120 } } },
  ],
  params,
  output,
  plan: (p, _f, ctx) => {
    const goal = waitGoal(p);
    if (ctx.check) return noop(`would wait for ${goal} (not waited for in check mode)`, { output: { elapsed: 0, state: p.state } });
    const step: ExecStep = { kind: 'exec', cmd: waitScript(p), description: `wait for ${goal}`, timeoutMs: (p.timeout + p.delay + 30) * 1000 };
    return noop(`waited for ${goal}`, { steps: [step] });
  },
  result: (p, _f, results) => {
    const m = /elapsed (\d+)/.exec(results[results.length - 1]?.stdout ?? '');
    return { elapsed: m ? Number(m[1]) : 0, state: p.state };
  },
});
