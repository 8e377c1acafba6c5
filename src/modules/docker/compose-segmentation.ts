/**
 * `compose-segmentation`: proves a compose project's network isolation on the host, read-only.
 *
 * For every ordered pair of services (containers found by the label com.docker.compose.project)
 * the fact (src/facts/compose-segmentation.ts) tries to connect from the first to every TCP port
 * the second listens on, by service name (resolved by Docker's DNS inside the source's network
 * namespace) and by each of the second's IP addresses, from the host with nsenter: nothing runs
 * inside the images. The plan compares that with the expectation and fails on any deviation:
 *
 *   - a pair that shares a network must connect by name and by the target's address ON the
 *     shared network(s); its addresses on other networks must not answer (Docker isolates
 *     bridge networks from each other even for containers that also share one);
 *   - a pair that shares no network must not connect at all.
 *
 * `expect` replaces "shares a network" with a declared list (service -> services it must reach),
 * so the compose file's networks are checked against intent, not just Docker against the file.
 * TCP only: UDP has no handshake to observe.
 */
import { z } from 'zod';
import { composeSegmentation, type ComposeSegmentationFact, type SegContainer, type SegProbe } from '../../facts/compose-segmentation.js';
import { defineModule, failPlan, noop } from '../../core/module.js';

const serviceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a compose service name: letters, digits, _ . - (starting with a letter or digit)');

const params = z
  .object({
    project_name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a compose project name: lower case letters, digits, _ and - (starting with a letter or digit)')
      .describe('The compose project (its com.docker.compose.project label)'),
    services: z.array(serviceName).min(1).optional().describe('Only these services, as sources and as targets; default: every service of the project'),
    expect: z
      .record(serviceName, z.array(serviceName))
      .optional()
      .describe('Which services each service must reach, e.g. {tracker: [db], metrics: [tracker]}; every other pair must not connect. Default: exactly the pairs that share a network'),
    timeout: z.number().min(0.2).max(30).default(2).describe('Seconds one connection attempt (and one DNS query) may take before it counts as blocked'),
  })
  .strict();

type Params = z.output<typeof params>;
type Facts = { seg: ComposeSegmentationFact };

const probeOut = z.object({
  via: z.enum(['name', 'ip']).describe('By service name or by address'),
  address: z.string().describe('The name or address tried'),
  network: z.string().optional().describe('The network of the address (ip)'),
  port: z.number().describe('TCP port'),
  result: z.string().describe('open, refused, timeout, unreachable, unresolved or error'),
  resolved: z.string().optional().describe('What the name resolved to'),
  expected: z.enum(['open', 'blocked']).describe('What the attempt had to give'),
});

const output = z.object({
  project: z.string().describe('The project'),
  services: z
    .array(z.object({ service: z.string(), containers: z.array(z.string()), networks: z.array(z.string()), ports: z.array(z.number()), network_mode: z.string() }))
    .describe('Each service: its containers, networks and the TCP ports it listens on'),
  matrix: z
    .array(
      z.object({
        from: z.string(),
        to: z.string(),
        shared_networks: z.array(z.string()),
        expected: z.enum(['connect', 'blocked']),
        reachable: z.boolean().describe('Any attempt connected'),
        probes: z.array(probeOut),
      }),
    )
    .describe('One entry per ordered pair of services'),
  deviations: z.array(z.string()).describe('Attempts whose result differs from the expectation'),
  text: z.string().describe('The matrix as a table'),
});

export default defineModule<typeof params, Facts>({
  name: 'compose-segmentation',
  summary: 'Prove a compose project\'s network segmentation: every service pair connects exactly when it should (read-only, runs in check mode).',
  description:
    'From each container\'s network namespace (nsenter from the host, no tools needed in the images) tries every TCP port each other service listens on ' +
    '(read with ss inside its namespace), by service name through Docker\'s DNS and by each of its addresses. Pairs sharing a network must connect ' +
    '(on the shared network\'s address), all others must not; `expect` declares the allowed pairs instead. Reports the matrix and fails on any deviation. Needs root. ' +
    'Names are resolved the way the application resolves them: a DNS query to Docker\'s embedded resolver (127.0.0.11) from inside the source\'s namespace, ' +
    'sent by a small Perl script (perl-base is on every Debian host); getent cannot (under nsenter -n it reads the host\'s resolv.conf), and reading ' +
    '`docker network inspect` would only repeat what Docker was told. TCP only (UDP has no handshake to observe).',
  examples: [
    { title: 'Prove what the networks say', task: { name: 'Segmentation holds', become: true, 'compose-segmentation': { project_name: 'tracker' } } },
    {
      title: 'Prove the intended flows (seed 001)',
      task: {
        name: 'Only the intended flows',
        become: true,
        'compose-segmentation': { project_name: 'tracker', expect: { tracker: ['db'], metrics: ['tracker'], dashboard: ['metrics'], db: [] } },
        register: 'seg',
      },
    },
  ],
  params,
  output,
  probe: (p) => ({ seg: composeSegmentation(p.project_name, { services: p.services, timeout: p.timeout }) }),
  plan: (p, f, ctx) => {
    const fact = f.seg;
    if (!fact.docker) return failPlan('compose-segmentation: docker is not installed on the host');
    const notYet = (what: string) =>
      ctx.check && ctx.pending.length ? noop(`${what}; the proof runs after the pending changes (${ctx.pending.length} pending)`) : failPlan(`compose-segmentation: ${what}`);
    const containers = fact.containers.filter((c) => !p.services || p.services.includes(c.service));
    if (!containers.length) return notYet(`project ${p.project_name} has no containers (label com.docker.compose.project=${p.project_name})`);
    const stopped = containers.filter((c) => !c.running);
    if (stopped.length) return notYet(`not running: ${stopped.map((c) => `${c.service} (${c.name})`).join(', ')}; a stopped container cannot be probed`);

    const bySvc = new Map<string, SegContainer[]>();
    for (const c of containers) bySvc.set(c.service, [...(bySvc.get(c.service) ?? []), c]);
    const services = [...bySvc.keys()].sort();
    const unknown = [...(p.services ?? []), ...Object.keys(p.expect ?? {}), ...Object.values(p.expect ?? {}).flat()].filter((s) => !bySvc.has(s));
    if (unknown.length) return failPlan(`compose-segmentation: project ${p.project_name} has no service ${[...new Set(unknown)].join(', ')} (services: ${services.join(', ')})`);

    const netsOf = (svc: string) => [...new Set(bySvc.get(svc)!.flatMap((c) => c.networks.map((n) => n.name)))].sort();
    const isolated = (svc: string) => bySvc.get(svc)!.some((c) => c.networkMode === 'host' || c.networkMode.startsWith('container:'));
    const svcOf = new Map(containers.map((c) => [c.id, c]));
    const allowed = (from: string, to: string) => (p.expect ? (p.expect[from] ?? []).includes(to) : netsOf(from).some((n) => netsOf(to).includes(n)));

    const deviations: string[] = [];
    const matrix: z.infer<typeof output>['matrix'] = [];
    const notes: string[] = [];
    for (const from of services) {
      for (const to of services) {
        if (from === to && bySvc.get(from)!.length < 2) continue;
        if (isolated(from) || isolated(to)) continue;
        const shared = netsOf(from).filter((n) => netsOf(to).includes(n));
        const ok = allowed(from, to);
        const probes = fact.probes.filter((x) => svcOf.get(x.from)?.service === from && svcOf.get(x.to)?.service === to);
        const rows = probes.map((x) => {
          const src = svcOf.get(x.from)!;
          const want = x.via === 'name' ? ok : ok && src.networks.some((n) => n.name === x.network);
          const row = { via: x.via, address: x.address, ...(x.network ? { network: x.network } : {}), port: x.port, result: x.result, ...(x.resolved ? { resolved: x.resolved } : {}), expected: want ? ('open' as const) : ('blocked' as const) };
          if ((x.result === 'open') !== want) deviations.push(describeDeviation(from, to, x, want, shared, !!p.expect));
          return row;
        });
        if (!probes.length && bySvc.get(to)!.every((c) => c.ports.length === 0)) notes.push(`${to} listens on no TCP port: ${from} -> ${to} not tried`);
        matrix.push({ from, to, shared_networks: shared, expected: ok ? 'connect' : 'blocked', reachable: probes.some((x) => x.result === 'open'), probes: rows });
      }
    }
    for (const s of services.filter(isolated)) notes.push(`${s} uses network_mode ${bySvc.get(s)![0]!.networkMode}: not segmented by Docker networks, not tried`);

    const text = table(services.filter((s) => !isolated(s)), matrix);
    const attempts = matrix.reduce((n, m) => n + m.probes.length, 0);
    const head = `compose project ${p.project_name}: ${matrix.length} service pairs, ${attempts} connection attempts, ${deviations.length} deviation${deviations.length === 1 ? '' : 's'}`;
    const nets = `networks: ${services.map((s) => `${s} [${netsOf(s).join(', ')}]`).join('; ')}`;
    const msg = [head, nets, text, ...notes, ...deviations.map((d) => `DEVIATION: ${d}`)].join('\n');
    const out = {
      project: p.project_name,
      services: services.map((s) => {
        const cs = bySvc.get(s)!;
        return { service: s, containers: cs.map((c) => c.name), networks: netsOf(s), ports: [...new Set(cs.flatMap((c) => c.ports))].sort((a, b) => a - b), network_mode: cs[0]!.networkMode };
      }),
      matrix,
      deviations,
      text,
    };
    if (deviations.length) return failPlan(`compose-segmentation: ${msg}`);
    return noop(msg, { output: out });
  },
});

function describeDeviation(from: string, to: string, x: SegProbe, want: boolean, shared: string[], declared: boolean): string {
  const target = x.via === 'name' ? `${to}:${x.port} by name${x.resolved ? ` (${x.resolved})` : ''}` : `${to}:${x.port} at ${x.address} (${x.network})`;
  const why = want
    ? declared
      ? `declared reachable`
      : `they share ${shared.join(', ')}`
    : declared && shared.length
      ? `not declared reachable (although they share ${shared.join(', ')})`
      : shared.length
        ? `${from} is not on ${x.network}`
        : 'they share no network';
  return `${from} -> ${target}: ${x.result}, expected ${want ? 'to connect' : 'blocked'} (${why})`;
}

/** Rows: from; columns: to; cells: connects / blocked / no port, with "!" on a deviation. */
function table(services: string[], matrix: z.infer<typeof output>['matrix']): string {
  const cell = (from: string, to: string) => {
    const m = matrix.find((x) => x.from === from && x.to === to);
    if (!m) return '-';
    if (!m.probes.length) return 'no port';
    const bad = m.probes.some((x) => (x.result === 'open') !== (x.expected === 'open'));
    return `${m.reachable ? 'connects' : 'blocked'}${bad ? '!' : ''}`;
  };
  const rows = [['from \\ to', ...services], ...services.map((f) => [f, ...services.map((t) => cell(f, t))])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
