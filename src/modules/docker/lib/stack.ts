/**
 * compose-deploy `mode: stack`: a compose v3 definition (or files) deployed as a swarm stack
 * with `docker stack deploy` on a manager.
 *
 * - The configuration is rendered on the host by compose (`docker-compose config`: `.env`,
 *   variables), since Docker 20.10's `docker stack deploy` reads neither; the rendered file is
 *   what gets deployed (`--resolve-image never`: no registry is asked about the images).
 * - Changed-ness compares specs, not output: each rendered service is hashed and the hash stored
 *   as a service label (`deploy.labels`, STACK_HASH_LABEL); a service is created when missing,
 *   updated when its label differs; with `prune` services no longer declared are removed
 *   (`--prune`). Unchanged services keep an identical spec, so Docker leaves their tasks alone.
 * - Exposure: swarm cannot bind a published port to an address: a port in ingress mode is
 *   published on every node, one in `mode: host` on the node running the task: both are public.
 *   A port written with an address is refused, and the policy (a service declared localhost or
 *   internal but published) is checked before anything is deployed.
 * - `wait`: every service has its replicas running (`docker service ls`, n/n) and no update
 *   rolling; on timeout, the last task error from `docker service ps --no-trunc`.
 */
import { createHash } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { STACK_HASH_LABEL, type StackFact } from '../../../facts/stack.js';
import type { SwarmFact } from '../../../facts/swarm.js';
import { change, failPlan, noop, type ExecStep, type Plan, type PlanContext, type Step } from '../../../core/module.js';
import { sh } from '../../../core/quote.js';
import { exposureReport, parseShortPort, type ExposurePolicy } from './exposure.js';

/** Where the rendered stack file is written on the manager, relative to project_src. */
export const stackFile = (stack: string): string => `.tsplay/stack-${stack}.yml`;

export interface StackParams {
  project_src: string;
  stack: string;
  state: 'present' | 'absent' | 'stopped' | 'restarted';
  prune: boolean;
  wait: 'none' | 'running' | 'healthy';
  wait_timeout: number;
  exposure?: ExposurePolicy;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with sorted keys: the same service always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The hash of one rendered service (without tsplay's own label). */
export function serviceHash(svc: unknown): string {
  const s = JSON.parse(JSON.stringify(svc ?? {})) as Obj;
  const deploy = isObj(s.deploy) ? s.deploy : undefined;
  if (deploy && isObj(deploy.labels)) delete deploy.labels[STACK_HASH_LABEL];
  return createHash('sha256').update(canonical(s)).digest('hex').slice(0, 16);
}

/** The rendered configuration with each service's hash as a service label: the file deployed. */
export function labelled(rendered: Obj, hashes: Record<string, string>): Obj {
  const doc = JSON.parse(JSON.stringify(rendered)) as Obj;
  // Docker 20.10 refuses a file without a version; compose v1 keeps the one written.
  if (doc.version === undefined) doc.version = '3.8';
  for (const [name, svc] of Object.entries((doc.services ?? {}) as Record<string, Obj>)) {
    const deploy = isObj(svc.deploy) ? svc.deploy : (svc.deploy = {});
    const labels = Array.isArray(deploy.labels)
      ? Object.fromEntries((deploy.labels as unknown[]).map(String).map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])))
      : isObj(deploy.labels) ? deploy.labels : {};
    deploy.labels = { ...labels, [STACK_HASH_LABEL]: hashes[name]! };
  }
  return doc;
}

/** Ports written with an address: swarm publishes on every address (ingress) or the task's node (host). */
export function boundPorts(rendered: Obj): string[] {
  const out: string[] = [];
  for (const [name, svc] of Object.entries((rendered.services ?? {}) as Record<string, Obj>)) {
    for (const entry of Array.isArray(svc?.ports) ? svc.ports : []) {
      const ip = isObj(entry) ? (typeof entry.host_ip === 'string' ? entry.host_ip : undefined) : (() => {
        const p = parseShortPort(entry as string | number);
        return typeof p === 'string' ? undefined : p.hostIp;
      })();
      if (ip) out.push(`${name} port ${typeof entry === 'object' ? JSON.stringify(entry) : String(entry)} is bound to ${ip}: a swarm service cannot bind an address (ingress publishes on every node, mode: host on every address of the task's node); publish without an address, or drop the port`);
    }
  }
  return out;
}

/** A published port's mode, for the exposure report. */
function portMode(svc: Obj, target: string, published?: string): string {
  for (const e of Array.isArray(svc.ports) ? svc.ports : []) {
    if (isObj(e) && String(e.target) === target && (published === undefined || String(e.published) === published)) return e.mode === 'host' ? 'host' : 'ingress';
  }
  return 'ingress';
}

export function planStack(p: StackParams, node: SwarmFact, f: StackFact, ctx: PlanContext): Plan {
  const fail = (msg: string) => failPlan(`compose-deploy (stack ${p.stack}): ${msg}`);
  const src = p.project_src.replace(/\/+$/, '');
  const label = `label=com.docker.stack.namespace=${p.stack}`;
  if (!node.docker) return fail('Docker is not installed on the host');
  const manager = node.state === 'active' && node.manager;

  if (p.state === 'absent') {
    if (!f.services.length) return noop(`stack ${p.stack} has no services`);
    if (!manager) return fail('this node is not a swarm manager: run the task on a manager');
    return change(f.services.map((s) => `remove service ${p.stack}_${s.name}`), [{ kind: 'exec', cmd: sh`docker stack rm ${p.stack}` }]);
  }
  if (p.state !== 'present') return fail(`state ${p.state} is for mode: compose; a stack is present or absent`);

  if (!manager) {
    if (ctx.check) return change(`deploy stack ${p.stack} (once this node is a swarm manager)`, []);
    return fail(node.state === 'active' ? 'this node is a swarm worker: deploy a stack on a manager' : `this node is not in a swarm (state ${node.state || 'unknown'}): initialize it first (docker-swarm-init)`);
  }
  if (!f.compose && ctx.check) return change(`deploy stack ${p.stack} (once compose is installed to render it)`, []);
  if (!f.compose) return fail('rendering the stack needs compose on the manager: install docker-compose (Debian 12) or the compose plugin');
  if (!f.rendered) {
    if (ctx.check && !f.src && f.renderError === undefined) return change(`deploy stack ${p.stack} from ${src} (does not exist yet: an earlier task creates it)`, []);
    return fail(`compose cannot render the configuration, nothing deployed: ${f.renderError ?? `${src} does not exist`}`);
  }
  const rendered = f.rendered;
  const services = (isObj(rendered.services) ? rendered.services : {}) as Record<string, Obj>;
  const names = Object.keys(services).sort();

  // Exposure, before anything changes.
  const bound = boundPorts(rendered);
  if (bound.length) return fail(`exposure policy violated, nothing deployed:\n  ${bound.join('\n  ')}`);
  let report;
  try {
    report = exposureReport(rendered, p.exposure);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (report.errors.length) return fail(`exposure policy violated, nothing deployed:\n  ${report.errors.join('\n  ')}`);

  const hashes = Object.fromEntries(names.map((n) => [n, serviceHash(services[n])]));
  const current = new Map(f.services.map((s) => [s.name, s]));
  const changes: string[] = [];
  for (const n of names) {
    const cur = current.get(n);
    if (!cur) changes.push(`create service ${p.stack}_${n}`);
    else if (cur.hash !== hashes[n]) changes.push(`update service ${p.stack}_${n} (${cur.hash ? 'its definition changed' : 'not deployed by tsplay before'})`);
  }
  const undeclared = f.services.filter((s) => !names.includes(s.name)).map((s) => `${p.stack}_${s.name}`);
  const warnings = [...report.warnings];
  if (undeclared.length) {
    if (p.prune) changes.push(...undeclared.map((s) => `remove service ${s} (no longer declared)`));
    else warnings.push(`services no longer declared: ${undeclared.join(', ')}: set prune: true to remove them`);
  }

  const output = {
    compose: f.compose,
    project: p.stack,
    services: Object.fromEntries(
      report.services.map((s) => [s.service, { class: s.class, state: current.get(s.service)?.replicas ?? 'absent' }]),
    ),
    exposure: report.services.flatMap((s) =>
      s.ports.map((x) => ({ service: s.service, class: x.class, binding: x.class === 'internal' ? x.binding : `${x.binding} (${portMode(services[s.service] ?? {}, x.target, x.published) === 'host' ? 'mode: host, on the node running each task' : 'ingress, on every node'})` })),
    ),
    warnings,
  };
  if (!changes.length) return noop(`stack ${p.stack} is up to date (${names.length} service${names.length === 1 ? '' : 's'} with their current definition)`, { output, warnings });

  const file = `${src}/${stackFile(p.stack)}`;
  const steps: Step[] = [
    { kind: 'exec', cmd: sh`mkdir -p ${`${src}/.tsplay`}` },
    { kind: 'put', path: file, content: `# Rendered by tsplay compose-deploy (mode: stack): changes made here are overwritten.\n${toYaml(labelled(rendered, hashes))}`, mode: '0600' },
    { kind: 'exec', cmd: `docker stack deploy --resolve-image never${p.prune ? ' --prune' : ''} ${sh`-c ${file} ${p.stack}`}`, description: `docker stack deploy ${p.stack}` },
  ];
  if (p.wait !== 'none') steps.push(stackWaitStep(label, p.wait_timeout));
  return change(changes, steps, { output, warnings });
}

/**
 * Polls `docker service ls` until every service of the stack has its replicas running (n/n)
 * and no update is rolling. On timeout: the services behind and the last task error of each.
 */
export function stackWaitStep(label: string, timeout: number): ExecStep {
  const cmd =
    sh`end=$(( $(date +%s) + ${timeout} )); while :; do behind=; ` +
    sh`for line in $(docker service ls --filter ${label} --format '{{.Name}}={{.Replicas}}' | tr -d ' '); do n=\${line%%=*}; r=\${line#*=}; r=\${r%%(*}; ` +
    sh`u=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$n"); ` +
    'if [ "${r%/*}" != "${r#*/}" ] || [ "$u" = updating ] || [ "$u" = rollback_started ]; then behind="$behind $n=$r${u:+,$u}"; fi; done; ' +
    '[ -z "$behind" ] && break; ' +
    `if [ "$(date +%s)" -ge "$end" ]; then echo "stack services not running all their replicas after ${timeout} s:$behind" >&2; ` +
    'for b in $behind; do n=${b%%=*}; e=$(docker service ps --no-trunc --format \'{{.Name}} {{.CurrentState}}: {{.Error}}\' "$n" | grep -v \': $\' | head -n 1); [ -n "$e" ] && echo "last task error of $n: $e" >&2; done; exit 1; fi; sleep 1; done';
  return { kind: 'exec', cmd, description: `wait until every service of the stack runs its replicas (at most ${timeout} s)`, timeoutMs: (timeout + 30) * 1000 };
}
