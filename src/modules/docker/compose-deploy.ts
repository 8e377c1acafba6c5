/**
 * `compose-deploy`: deploys a compose project (parameters named like Ansible's
 * community.docker.docker_compose_v2) after checking it against an exposure policy.
 *
 * Which compose: the one on the host, found by the probe: v2 (`docker compose`, Debian 13) or
 * v1 (`docker-compose` 1.29, Debian 12). Both name and label containers and networks the same
 * way and both print the per-service configuration hash they store in the
 * `com.docker.compose.config-hash` label (`config --hash='*'`), so the result is an ordinary
 * compose project either way and changed-ness comes from state, never from CLI output:
 * a service is created when it has no container, recreated when its hash differs from its
 * container's label, started when its container is not running; a network is created when
 * missing; orphans are reported (removed with remove_orphans). `up -d` is then given only those
 * services, so the others keep their containers. Driving the Engine API ourselves would mean
 * re-implementing compose's hash, which differs between v1 and v2; calling compose keeps the
 * project manageable by hand with the usual tools.
 *
 * Before anything changes: the rendered configuration is classified and checked against
 * `exposure` (exposure.ts), and with `pull: never` every image must be on the host.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { APPLIED_CONFIG, composeKey, composeProject, type ComposeContainer, type ComposeProjectFact } from '../../facts/docker.js';
import { fileContent, sha256, type FileContentFact } from '../../facts/file-content.js';
import { change, defineModule, failPlan, noop, type ExecStep, type FileDiff, type PlanContext, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { swarmStack, type StackFact } from '../../facts/stack.js';
import { swarmNode, type SwarmFact } from '../../facts/swarm.js';
import { classifyDefinition, exposureReport, exposureSchema, exposureView, type ClassifiedPort } from './lib/exposure.js';
import { planStack } from './lib/stack.js';

/** The file compose-deploy writes an inline `definition` to, in project_src. */
export const DEFINITION_FILE = 'docker-compose.yml';
/** Where secret files go, relative to project_src. */
export const SECRETS_DIR = 'secrets';

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a compose project or service name: lowercase letters, digits, - and _');

const params = z
  .object({
    mode: z
      .enum(['compose', 'stack'])
      .default('compose')
      .describe('compose: a compose project on this host; stack: a compose v3 definition deployed as a swarm stack (`docker stack deploy`) from this manager, rendered by compose first (.env, variables), images never resolved against a registry'),
    project_src: z.string().regex(/^\//, 'project_src must be an absolute path').describe('Folder on the host holding the compose file(s) and .env; with definition, the file is written there'),
    project_name: name.optional().describe('The compose project name, or the stack name with mode: stack (default: the last component of project_src)'),
    files: z.array(z.string().min(1)).default([]).describe('Compose files in project_src, in order (default: compose\'s usual names: compose.yaml, docker-compose.yml, ...)'),
    definition: z.record(z.string(), z.unknown()).optional().describe(`An inline compose mapping instead of files: written to project_src/${DEFINITION_FILE}`),
    state: z.enum(['present', 'absent', 'stopped', 'restarted']).default('present').describe('present: up; absent: down (containers and networks); stopped: stop; restarted: restart (only `services` when given; for handlers)'),
    services: z.array(name).optional().describe('Limit the task to these services'),
    pull: z.enum(['never', 'missing', 'always']).default('missing').describe('never: every image must already be on the host (checked before anything changes, no registry is contacted); missing: compose pulls absent images; always: pull first'),
    remove_orphans: z.boolean().default(false).describe('Remove containers of services no longer in the configuration'),
    prune: z.boolean().default(false).describe('mode: stack: remove services of the stack no longer declared (`docker stack deploy --prune`)'),
    wait: z.enum(['none', 'running', 'healthy']).default('none').describe('After up: wait until the services run (running) or pass their health checks (healthy; services without one only need to run). mode: stack: until every service runs all its replicas (n/n) with no update rolling'),
    wait_timeout: z.number().int().positive().default(60).describe('Seconds to wait (wait: running or healthy)'),
    exposure: exposureSchema.optional(),
    secrets: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a secret name: letters, digits, . _ -'), z.string())
      .optional()
      .describe(`Docker secrets: NAME: value (use !secret variables). Each is written to project_src/${SECRETS_DIR}/NAME with mode 0400 and, with definition, declared as a file secret; services list it under secrets: and read /run/secrets/NAME (e.g. MYSQL_PASSWORD_FILE). Values are never shown`),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.mode === 'stack') {
      for (const k of ['secrets', 'services'] as const) if (p[k] !== undefined) ctx.addIssue({ code: 'custom', message: `${k} is for mode: compose (a stack declares its secrets and services in the definition)`, path: [k] });
      if (p.remove_orphans) ctx.addIssue({ code: 'custom', message: 'mode: stack removes undeclared services with prune: true', path: ['remove_orphans'] });
      if (p.pull !== 'missing' && p.pull !== 'never') ctx.addIssue({ code: 'custom', message: 'mode: stack never pulls (--resolve-image never): images must be on every node', path: ['pull'] });
      if (p.state === 'stopped' || p.state === 'restarted') ctx.addIssue({ code: 'custom', message: 'a stack is present or absent', path: ['state'] });
    } else if (p.prune) ctx.addIssue({ code: 'custom', message: 'prune is for mode: stack (mode: compose uses remove_orphans)', path: ['prune'] });
    if (p.definition && p.files.length) ctx.addIssue({ code: 'custom', message: 'give files or definition, not both', path: ['files'] });
    if (p.definition && (typeof p.definition.services !== 'object' || p.definition.services === null)) ctx.addIssue({ code: 'custom', message: 'definition needs a services: mapping', path: ['definition'] });
    if (p.state === 'present' && p.definition) {
      try {
        classifyDefinition(p.definition);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message, path: ['definition'] });
      }
    }
  });

type Params = z.output<typeof params>;
type Facts = { project: ComposeProjectFact; file: FileContentFact } | { node: SwarmFact; stack: StackFact };

const projectName = (p: Params) => p.project_name ?? p.project_src.replace(/\/+$/, '').split('/').pop()!.toLowerCase().replace(/[^a-z0-9_-]/g, '');
const filesOf = (p: Params) => (p.definition ? [DEFINITION_FILE] : p.files);
const secretPath = (n: string) => `${SECRETS_DIR}/${n}`;

/** The inline definition with the given secrets declared as file secrets. */
function definitionWithSecrets(p: Params): Record<string, unknown> | undefined {
  if (!p.definition) return undefined;
  const names = Object.keys(p.secrets ?? {});
  if (!names.length) return p.definition;
  const declared = (p.definition.secrets ?? {}) as Record<string, unknown>;
  const secrets = { ...Object.fromEntries(names.map((n) => [n, { file: `./${secretPath(n)}` }])), ...declared };
  return { ...p.definition, secrets };
}

const definitionText = (p: Params) => {
  const d = definitionWithSecrets(p);
  return d ? `# Written by tsplay compose-deploy: changes made here are overwritten.\n${toYaml(d)}` : undefined;
};

const imagesOf = (def: unknown): string[] => {
  const svcs = (def as { services?: Record<string, { image?: unknown }> } | undefined)?.services ?? {};
  return [...new Set(Object.values(svcs).flatMap((s) => (typeof s?.image === 'string' ? [s.image] : [])))].sort();
};

// ---------------------------------------------------------------- masking

/** Per process: digests of hidden values can be compared within a run, not guessed from a dictionary. */
const SALT = randomBytes(16);
const hidden = (v: unknown) => `<hidden ${createHash('sha256').update(SALT).update(String(v)).digest('hex').slice(0, 8)}>`;

/** Values worth masking: not a bare number (ports) nor an IP address (bind addresses), at least 4 characters. */
const maskable = (values: string[]) => values.filter((v) => v.length >= 4 && !/^\d+$/.test(v) && isIP(v) === 0).sort((a, b) => b.length - a.length);

function maskText(text: string, values: string[]): string {
  let out = text;
  for (const v of maskable(values)) out = out.split(v).join('********');
  return out;
}

/** A configuration for --diff: every environment value hidden (digest only), .env values masked anywhere. */
function maskedConfig(config: unknown, envValues: string[]): string {
  const c = JSON.parse(JSON.stringify(config ?? {})) as { services?: Record<string, { environment?: unknown }> };
  for (const svc of Object.values(c.services ?? {})) {
    const env = svc?.environment;
    if (Array.isArray(env)) svc.environment = env.map((e) => (typeof e === 'string' && e.includes('=') ? `${e.slice(0, e.indexOf('='))}=${hidden(e.slice(e.indexOf('=') + 1))}` : e));
    else if (env && typeof env === 'object') svc.environment = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? v : hidden(v)]));
  }
  return maskText(toYaml(c), envValues);
}

// ---------------------------------------------------------------- networks

interface NetworkWant {
  key: string;
  name: string;
}

function wantedNetworks(config: Record<string, unknown>, project: string, only?: string[]): NetworkWant[] {
  const services = (config.services ?? {}) as Record<string, Record<string, unknown>>;
  const declared = (config.networks ?? {}) as Record<string, Record<string, unknown> | null>;
  const keys = new Set<string>();
  for (const [svcName, svc] of Object.entries(services)) {
    if (only && !only.includes(svcName)) continue;
    if (typeof svc?.network_mode === 'string') continue;
    const nets = svc?.networks;
    const list = Array.isArray(nets) ? nets.map(String) : nets && typeof nets === 'object' ? Object.keys(nets) : ['default'];
    for (const n of list) keys.add(n);
  }
  return [...keys]
    .filter((k) => !(declared[k] && (declared[k] as { external?: unknown }).external))
    .sort()
    .map((k) => ({ key: k, name: typeof declared[k]?.name === 'string' ? (declared[k]!.name as string) : `${project}_${k}` }));
}

// ---------------------------------------------------------------- the module

const output = z.object({
  compose: z.string().describe('The compose implementation used: "v1 1.29.2", "v2 2.26.1"'),
  project: z.string().describe('The compose project name'),
  services: z.record(z.string(), z.object({ class: z.string(), state: z.string(), container: z.string().optional() })).describe('Per service: exposure class, container state before the task, container id'),
  exposure: z.array(z.object({ service: z.string(), class: z.string(), binding: z.string() })).describe('Every classified port'),
  warnings: z.array(z.string()).describe('Services missing from the policy, hardening findings'),
});

export default defineModule<typeof params, Facts>({
  name: 'compose-deploy',
  summary: 'Deploy a Docker Compose project (v1 or v2) after checking what it exposes against a declared policy.',
  description:
    'Parameters follow Ansible\'s docker_compose_v2. Changed-ness comes from state: compose\'s per-service configuration hash (`config --hash`) against ' +
    'the `com.docker.compose.config-hash` label of the running containers, missing or stopped containers, missing networks, orphans. Only the ' +
    'services that need it are passed to `up -d`, so the others keep their containers. Before anything changes, every port of every service is ' +
    'classified (public, localhost, address, internal, host-network) and checked against `exposure`: Docker-published ports bypass ufw, so a ' +
    'binding the policy does not allow fails the task with nothing deployed. With `pull: never`, an image missing on the host fails the task ' +
    'first, naming it. Secret values (secrets:, .env) are never shown: --diff hides environment values (a digest shows whether one changed). ' +
    'mode: stack deploys the definition or files as a swarm stack from a manager: rendered by compose first (.env, variables), deployed with ' +
    '`docker stack deploy --resolve-image never`; a hash of each rendered service is kept as its label io.tsplay.config-hash, so only services ' +
    'whose definition changed are updated; prune removes services no longer declared. Swarm publishes a port on every node (ingress) or on the ' +
    'node running the task (mode: host): both are public, and a port bound to an address is refused.',
  examples: [
    {
      title: 'A segmented stack with its exposure policy',
      task: {
        name: 'Deploy the tracker stack',
        'compose-deploy': {
          project_src: '/opt/tracker',
          exposure: { tracker: 'public', grafana: 'public', prometheus: 'localhost', mysql: 'internal', strict: true },
          pull: 'never',
          wait: 'healthy',
        },
      },
    },
    {
      title: 'Inline definition with a Docker secret',
      task: {
        name: 'Deploy the database',
        'compose-deploy': {
          project_src: '/opt/db',
          definition: {
            services: {
              db: { image: 'mariadb:11.4', environment: { MARIADB_ROOT_PASSWORD_FILE: '/run/secrets/db_root' }, secrets: ['db_root'], expose: ['3306'] },
            },
          },
          secrets: { db_root: '{{ vault_db_root_password }}' },
          exposure: { db: 'internal' },
        },
      },
    },
    {
      title: 'A swarm stack from the manager: 3 replicas published on the node running each task',
      task: {
        name: 'Deploy the web stack',
        'compose-deploy': {
          mode: 'stack',
          project_src: '/srv/web',
          project_name: 'web',
          definition: {
            version: '3.8',
            services: {
              httpd: {
                image: 'tsplay/busybox:1.36',
                command: ['httpd', '-f', '-p', '8080'],
                ports: [{ target: 8080, published: 8080, mode: 'host' }],
                deploy: { replicas: 3, endpoint_mode: 'dnsrr', placement: { max_replicas_per_node: 1 } },
              },
            },
          },
          exposure: { httpd: 'public', strict: true },
          prune: true,
          wait: 'running',
        },
      },
    },
    { title: 'Handler: restart one service after its bind-mounted config changed', task: { name: 'restart metrics', 'compose-deploy': { project_src: '/opt/tracker', services: ['metrics'], state: 'restarted' } } },
    { title: 'Remove a project', task: { name: 'Remove the old stack', 'compose-deploy': { project_src: '/opt/old', state: 'absent', remove_orphans: true } } },
  ],
  params,
  output,
  secretParams: ['secrets'],
  probe: (p) => p.mode === 'stack' ? {
    node: swarmNode(),
    stack: swarmStack({ stack: projectName(p), src: p.project_src, files: p.files, definition: p.definition ? toYaml(p.definition) : undefined }),
  } : ({
    project: composeProject({
      src: p.project_src,
      project: projectName(p),
      files: filesOf(p),
      secretFiles: Object.keys(p.secrets ?? {}).map(secretPath),
      images: p.pull === 'never' && p.definition ? imagesOf(p.definition) : undefined,
      definition: p.state === 'present' && p.definition ? toYaml(exposureView(p.definition)) : undefined,
    }),
    file: fileContent(`${p.project_src.replace(/\/+$/, '')}/${DEFINITION_FILE}`),
  }),
  plan: (p, f, ctx) => ('stack' in f ? planStack({ ...p, stack: projectName(p) }, f.node, f.stack, ctx) : plan(p, f, ctx)),
});

function plan(p: Params, f: { project: ComposeProjectFact; file: FileContentFact }, ctx: PlanContext) {
  const pr = f.project;
  const project = projectName(p);
  const src = p.project_src.replace(/\/+$/, '');
  const dcBin = pr.compose.kind === 'v1' ? 'docker-compose' : 'docker compose';
  const dcRaw = (args: string) => `${dcBin} ${sh`-p ${project}`}${filesOf(p).map((x) => sh` -f ${x}`).join('')} ${args}`;
  const dc = (args: string) => `cd ${sh`${src}`} && ${dcRaw(args)}`;
  const composeLabel = pr.compose.kind === 'none' ? 'none' : `${pr.compose.kind} ${pr.compose.version}`;
  const mask = (s: string) => maskText(s, pr.envValues);
  const fail = (msg: string) => failPlan(`compose-deploy: ${mask(msg)}`);
  const ours = (c: ComposeContainer) => !c.oneoff && (!p.services || p.services.includes(c.service));

  if (pr.compose.kind === 'none' && !(ctx.check && p.state === 'present')) {
    if (p.state === 'absent' && pr.containers.length === 0 && pr.networks.length === 0) return noop(`project ${project} is absent`);
    return fail(pr.docker ? 'no compose on the host: install docker-compose (Debian 12) or docker-compose-v2 / docker-compose-plugin' : 'Docker is not installed on the host');
  }

  if (p.state === 'absent') {
    const containers = pr.containers.filter(ours);
    if (!containers.length && (p.services || !pr.networks.length)) return noop(`project ${project} has no containers${p.services ? ` for ${p.services.join(', ')}` : ' and no networks'}`);
    const changes = [...containers.map((c) => `remove container ${c.name} (${c.service})`), ...(p.services ? [] : pr.networks.map((n) => `remove network ${n.name}`))];
    const steps: ExecStep[] = p.services
      ? [{ kind: 'exec', cmd: dc(sh`rm -s -f ${p.services}`) }]
      : pr.config
        ? [{ kind: 'exec', cmd: dc(`down${p.remove_orphans ? ' --remove-orphans' : ''}`) }]
        : [
            // The compose files are gone: remove what carries the project's label.
            ...(containers.length ? [{ kind: 'exec' as const, cmd: sh`docker rm -f ${containers.map((c) => c.id)}` }] : []),
            ...(pr.networks.length ? [{ kind: 'exec' as const, cmd: sh`docker network rm ${pr.networks.map((n) => n.name)}` }] : []),
          ];
    return change(changes, steps, { assume: { [composeKey(project)]: { ...pr, containers: pr.containers.filter((c) => !ours(c)), networks: p.services ? pr.networks : [] } } });
  }

  if (p.state === 'stopped' || p.state === 'restarted') {
    if (!pr.src || !pr.config) return ctx.check && !pr.src ? change(`${p.state === 'stopped' ? 'stop' : 'restart'} project ${project} (${src} does not exist yet)`, []) : fail(pr.src ? `compose config failed: ${pr.configError ?? ''}` : `${src} does not exist`);
    const containers = pr.containers.filter(ours);
    if (p.state === 'stopped') {
      const running = containers.filter((c) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused');
      if (!running.length) return noop(`project ${project}: no running containers${p.services ? ` for ${p.services.join(', ')}` : ''}`);
      return change(running.map((c) => `stop ${c.service} (${c.name})`), [{ kind: 'exec', cmd: dc(sh`stop ${[...new Set(running.map((c) => c.service))].sort()}`) }]);
    }
    const svcs = p.services ?? Object.keys((pr.config.services ?? {}) as object).sort();
    const missing = svcs.filter((s) => !containers.some((c) => c.service === s));
    if (missing.length) return fail(`cannot restart ${missing.join(', ')}: no container (deploy with state: present first)`);
    return change(svcs.map((s) => `restart ${s}`), [{ kind: 'exec', cmd: dc(sh`restart ${svcs}`) }]);
  }

  // ---------------------------------------------------------------- present
  const defText = definitionText(p);
  const fileCur = f.file.exists && f.file.type === 'file' ? f.file : undefined;
  const fileChanged = defText !== undefined && fileCur?.sha256 !== sha256(defText);
  if (!pr.src && !defText && !ctx.check) return fail(`${src} does not exist (give definition, or create the project folder and its compose file first)`);
  if (pr.src && !fileChanged && !pr.config) return fail(`compose config failed in ${src}: ${pr.configError ?? 'no output'}`);

  // What will be deployed: the host's rendered configuration, or the definition when it is new.
  const config: Record<string, unknown> | undefined = fileChanged || !pr.src ? definitionWithSecrets(p) : pr.config;
  const allServices = Object.keys(((config?.services ?? {}) as object)).sort();
  const unknown = (p.services ?? []).filter((s) => config && !allServices.includes(s));
  if (unknown.length) return fail(`services ${unknown.join(', ')} are not in the project (it has ${allServices.join(', ')})`);
  const svcs = p.services ?? allServices;

  // The exposure policy is checked on what compose will deploy: a definition not on the host yet
  // as compose renders it (`${VAR}` interpolated from .env), the files as `config` rendered them.
  let exposed = config;
  if (config && config !== pr.config) {
    if (pr.rendered) exposed = pr.rendered;
    else if (pr.renderError !== undefined && !ctx.check) return fail(`compose cannot render the definition, nothing deployed: ${pr.renderError}`);
  }
  let report;
  try {
    report = exposureReport(exposed ?? {}, p.exposure);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (report.errors.length) return fail(`exposure policy violated, nothing deployed:\n  ${report.errors.join('\n  ')}`);

  if (p.pull === 'never') {
    const wanted = imagesOf(config);
    const missing = pr.missingImages.filter((i) => wanted.includes(i) || !config);
    if (missing.length) return fail(`pull: never, but ${missing.length === 1 ? 'image' : 'images'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on the host: nothing was changed`);
  }

  const changes: string[] = [];
  const steps: Step[] = [];
  const diffs: FileDiff[] = [];
  const byService = (s: string) => pr.containers.filter((c) => !c.oneoff && c.service === s);
  const act = new Set<string>();

  if (!config) {
    // Check mode, project_src not there yet and files (not definition): an earlier task creates them.
    changes.push(`deploy project ${project} from ${src} (does not exist yet: an earlier task creates it)`);
    return change(changes, [], { output: outputOf(p, pr, project, composeLabel, [], report) });
  }

  if (!pr.src || defText || (p.secrets && Object.keys(p.secrets).length)) {
    if (!pr.src) changes.push(`create ${src}`);
  }
  if (defText !== undefined && fileChanged) {
    steps.push({ kind: 'exec', cmd: sh`mkdir -p ${src}` });
    steps.push({ kind: 'put', path: `${src}/${DEFINITION_FILE}`, content: defText, mode: '0644', ...(fileCur ? { expect: { sha256: fileCur.sha256 } } : { expect: 'absent' as const }) });
    changes.push(`${fileCur ? 'update' : 'write'} ${src}/${DEFINITION_FILE}`);
    diffs.push({ path: `${src}/${DEFINITION_FILE}`, before: fileCur?.content !== undefined ? mask(fileCur.content) : null, after: mask(defText) });
  }

  // Secrets: files of mode 0400; a changed one recreates the services reading it (a bind mount keeps the old inode).
  const forceRecreate = new Set<string>();
  for (const [n, value] of Object.entries(p.secrets ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const cur = pr.secretFiles[secretPath(n)];
    if (cur === sha256(value)) continue;
    if (!steps.some((s) => s.kind === 'exec' && s.cmd.startsWith('mkdir'))) steps.push({ kind: 'exec', cmd: sh`mkdir -p ${src}` });
    steps.push({ kind: 'exec', cmd: sh`mkdir -p -m 0700 ${`${src}/${SECRETS_DIR}`}` });
    steps.push({ kind: 'put', path: `${src}/${secretPath(n)}`, content: value, mode: '0400', owner: 'root', group: 'root', description: `write secret ${n}` });
    changes.push(`${cur ? 'update' : 'write'} secret ${n} (${src}/${secretPath(n)}, mode 0400)`);
    diffs.push({ path: `${src}/${secretPath(n)}`, before: cur ? '<secret>\n' : null, after: '<secret>\n' });
    if (cur) {
      for (const s of svcs) {
        const list = ((config.services as Record<string, { secrets?: unknown[] }>)[s]?.secrets ?? []).map((x) => (typeof x === 'string' ? x : (x as { source?: string })?.source));
        if (list.includes(n) && byService(s).length) forceRecreate.add(s);
      }
    }
  }

  // Services, from state.
  for (const s of svcs) {
    const cs = byService(s);
    if (!cs.length) {
      changes.push(`create service ${s}`);
      act.add(s);
    } else if (!fileChanged && pr.hashes[s] && cs.some((c) => c.hash !== pr.hashes[s])) {
      changes.push(`recreate service ${s} (configuration changed)`);
      act.add(s);
    } else if (forceRecreate.has(s)) {
      changes.push(`recreate service ${s} (secret changed)`);
    } else if (cs.some((c) => c.state !== 'running')) {
      changes.push(`start service ${s} (${cs.map((c) => c.state).join(', ')})`);
      act.add(s);
    }
  }
  if (fileChanged && pr.containers.some((c) => !c.oneoff && svcs.includes(c.service))) {
    const existing = svcs.filter((s) => byService(s).length && !act.has(s));
    if (existing.length) changes.push(`update services whose configuration changed (compose compares: ${existing.join(', ')})`);
  }
  for (const n of wantedNetworks(config, project, p.services)) {
    if (!pr.networks.some((x) => x.key === n.key || x.name === n.name)) changes.push(`create network ${n.name}`);
  }
  const orphans = pr.containers.filter((c) => !c.oneoff && !allServices.includes(c.service));
  const warnings = [...report.warnings];
  if (orphans.length) {
    if (p.remove_orphans) changes.push(...orphans.map((c) => `remove orphan container ${c.name} (service ${c.service})`));
    else warnings.push(`orphan containers (services no longer in the configuration): ${orphans.map((c) => c.name).join(', ')}: set remove_orphans: true to remove them`);
  }

  // The configuration change for --diff (files): what was applied last vs what is rendered now.
  if (!fileChanged && act.size && pr.config) {
    const before = pr.applied ? maskedConfig(parseYaml(pr.applied), pr.envValues) : null;
    const after = maskedConfig(pr.config, pr.envValues);
    if (before !== after) diffs.push({ path: `${src} (compose config${before === null ? ', not applied by tsplay before' : ''})`, before, after });
  }

  const out = outputOf(p, pr, project, composeLabel, warnings, report);
  const upNeeded = act.size > 0 || fileChanged || (orphans.length > 0 && p.remove_orphans);
  if (!upNeeded && !forceRecreate.size && !steps.length && p.pull !== 'always') {
    return noop(`project ${project} is up to date (${svcs.length} service${svcs.length === 1 ? '' : 's'} running their current configuration)`, { output: out, warnings: out.warnings });
  }
  if (p.pull === 'always') {
    steps.push({ kind: 'exec', cmd: dc(sh`pull ${p.services ?? []}`.trimEnd()), description: 'pull images' });
    changes.push('pull images (pull: always)');
  }
  const up = (extra: string, names: string[]) => dc(`up -d${extra}${names.length ? ` ${sh`${names}`}` : ''}`);
  if (upNeeded || p.pull === 'always') {
    // A rewritten definition: compose compares every service itself (hashes of the new file are not known yet).
    const names = fileChanged || p.pull === 'always' ? (p.services ?? []) : [...act].sort();
    steps.push({ kind: 'exec', cmd: up(p.remove_orphans ? ' --remove-orphans' : '', names), description: `compose up ${names.length ? names.join(' ') : 'all services'}` });
  }
  if (forceRecreate.size) steps.push({ kind: 'exec', cmd: up(' --no-deps --force-recreate', [...forceRecreate].sort()), description: `recreate ${[...forceRecreate].join(' ')} (secret changed)` });
  steps.push({
    kind: 'exec',
    cmd: `cd ${sh`${src}`} && umask 077 && mkdir -p .tsplay && ${dcRaw(`config > ${APPLIED_CONFIG}.tmp`)} && mv ${APPLIED_CONFIG}.tmp ${APPLIED_CONFIG}`,
    description: 'record the applied configuration (for --diff)',
  });
  if (p.wait !== 'none') steps.push(waitStep(project, svcs, p.wait, p.wait_timeout));
  return change(changes.map(mask), steps, { diffs, output: out, warnings: out.warnings });
}

function outputOf(p: Params, pr: ComposeProjectFact, project: string, compose: string, warnings: string[], report: { services: Array<{ service: string; class: string; ports: ClassifiedPort[] }> }) {
  const services: Record<string, { class: string; state: string; container?: string }> = {};
  for (const s of report.services) {
    if (p.services && !p.services.includes(s.service)) continue;
    const c = pr.containers.find((x) => !x.oneoff && x.service === s.service);
    services[s.service] = { class: s.class, state: c ? c.state : 'absent', ...(c ? { container: c.id } : {}) };
  }
  const mask = (t: string) => maskText(t, pr.envValues);
  return {
    compose,
    project,
    services,
    exposure: report.services.flatMap((s) => s.ports.map((x) => ({ service: s.service, class: x.class, binding: mask(x.binding) }))),
    warnings: warnings.map(mask),
  };
}

/**
 * Polls the services' containers until each runs (and, for healthy, passes its health check when
 * it has one). On timeout it names the service, its state and the last health-check output.
 */
function waitStep(project: string, services: string[], wait: 'running' | 'healthy', timeout: number): ExecStep {
  const fmt = '{{.State.Status}} {{with index .State "Health"}}{{.Status}}{{else}}none{{end}}';
  const logFmt = '{{with index .State "Health"}}{{range .Log}}{{json .Output}}{{"\\n"}}{{end}}{{end}}';
  const cmd =
    sh`end=$(( $(date +%s) + ${timeout} )); for s in ${services}; do ` +
    sh`while :; do id=$(docker ps -aq --filter ${`label=com.docker.compose.project=${project}`} --filter "label=com.docker.compose.service=$s" | head -n 1); ` +
    sh`st=$(docker inspect --format ${fmt} "$id" 2>/dev/null); state=\${st% *}; health=\${st#* }; ` +
    `if [ "$state" = running ] && { [ ${sh`${wait}`} = running ] || [ "$health" = healthy ] || [ "$health" = none ]; }; then break; fi; ` +
    `if [ "$(date +%s)" -ge "$end" ]; then echo "service $s is not ${wait} after ${timeout} s: container state \${state:-absent}, health \${health:-none}" >&2; ` +
    sh`last=$(docker inspect --format ${logFmt} "$id" 2>/dev/null | grep . | tail -n 1); if [ -n "$last" ]; then printf 'last health check output: %s\\n' "$last" >&2; fi; exit 1; fi; sleep 1; done; done`;
  return { kind: 'exec', cmd, description: `wait until ${services.join(', ')} ${wait === 'healthy' ? 'are healthy' : 'run'} (at most ${timeout} s)`, timeoutMs: (timeout + 30) * 1000 };
}
