/**
 * `swarmStack()`: what compose-deploy `mode: stack` needs about a swarm stack, in one probe on a
 * manager: the compose file(s) rendered by compose (`docker-compose config`, which reads `.env`
 * and interpolates variables; Docker 20.10's `docker stack deploy` does neither), and the
 * stack's services as Docker reports them (`docker service ls/inspect`): the hash label tsplay
 * stored in each service's spec, replicas running / desired, and whether an update is rolling.
 *
 * Key `stack:NAME`. Sections: `@@tsplay:NAME RC`.
 */
import { parse as parseYaml } from 'yaml';
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { factFailed } from './util.js';

/** The service label holding the hash of the rendered service definition tsplay deployed. */
export const STACK_HASH_LABEL = 'io.tsplay.config-hash';

export interface StackService {
  /** Service name without the stack prefix (`web` for `site_web`). */
  name: string;
  /** The STACK_HASH_LABEL label of the service's spec ('' when not deployed by tsplay). */
  hash: string;
  /** `docker service ls` replicas: "3/3", "1/3", "2/2 (max 1 per node)". */
  replicas: string;
  /** UpdateStatus.State ('' when never updated): updating, completed, paused, rollback_completed... */
  update: string;
}

export interface StackFact {
  /** Compose used to render: "v1 1.29.2", "v2 2.26.1", '' when none. */
  compose: string;
  /** project_src exists. */
  src: boolean;
  /** The rendered configuration; undefined when it could not be rendered (see renderError). */
  rendered?: Record<string, unknown>;
  renderError?: string;
  services: StackService[];
}

export interface StackProbe {
  stack: string;
  src: string;
  files: string[];
  /** An inline definition (YAML text) to render instead of files. */
  definition?: string;
}

export const stackKey = (stack: string): string => `stack:${stack}`;

export function swarmStack(p: StackProbe): Fact<StackFact> {
  const label = `label=com.docker.stack.namespace=${p.stack}`;
  const files = p.files.map((f) => sh` -f ${f}`).join('');
  const render = p.definition !== undefined
    ? sh`printf '%s' ${Buffer.from(p.definition).toString('base64')} | base64 -d | (cd "$R" && $DC -p ${p.stack} --project-directory "$R" -f - config)`
    : `cd "$R" && $DC ${sh`-p ${p.stack}`}${files} config`;
  const command = [
    'PATH="$PATH:/usr/local/bin:/usr/sbin:/sbin"',
    'if ! command -v docker >/dev/null 2>&1; then echo docker:no; exit 0; fi',
    'echo docker:yes',
    'DC=; if v=$(docker compose version --short 2>/dev/null); then DC="docker compose"; echo "compose:v2 $v"; ' +
      'elif command -v docker-compose >/dev/null 2>&1; then v=$(docker-compose version --short 2>/dev/null); DC=docker-compose; echo "compose:v1 $v"; else echo compose:none; fi',
    sh`if [ -d ${p.src} ]; then echo src:yes; R=${p.src}; else echo src:no; R=/; fi`,
    `if [ -n "$DC" ] && { [ "$R" != / ] || ${p.definition !== undefined ? 'true' : 'false'}; }; then r=$(${render} 2>/dev/null); rc=$?; echo "@@tsplay:rendered $rc"; if [ $rc = 0 ]; then printf '%s\\n' "$r"; else ${render} 2>&1 | tail -n 5; fi; fi`,
    sh`ids=$(docker service ls -q --filter ${label} 2>/dev/null); echo "@@tsplay:services 0"; ` +
      sh`if [ -n "$ids" ]; then docker service ls --filter ${label} --format '{{.Name}}\t{{.Replicas}}' | while IFS="$(printf '\t')" read -r n rep; do ` +
      sh`printf '%s\t%s\t%s\n' "$n" "$rep" "$(docker service inspect --format ${`{{index .Spec.Labels "${STACK_HASH_LABEL}"}}\t{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}`} "$n")"; done; fi`,
    'exit 0',
  ].join('\n');
  return fact(stackKey(p.stack), command, (out) => parseSwarmStack(out, p.stack));
}

export function parseSwarmStack(out: ExecResult, stack: string): StackFact {
  const lines = out.stdout.replace(/\r\n/g, '\n').split('\n');
  if (lines[0] !== 'docker:yes' && lines[0] !== 'docker:no') throw factFailed('the swarm stack', out);
  const fact: StackFact = { compose: '', src: false, services: [] };
  if (lines[0] === 'docker:no') return fact;
  let section = '';
  let renderRc: number | undefined;
  const rendered: string[] = [];
  for (const line of lines.slice(1)) {
    const m = /^@@tsplay:(\w+) (\d+)$/.exec(line);
    if (m) {
      section = m[1]!;
      if (section === 'rendered') renderRc = Number(m[2]);
      continue;
    }
    if (section === '') {
      if (line.startsWith('compose:')) fact.compose = line === 'compose:none' ? '' : line.slice(8);
      else if (line.startsWith('src:')) fact.src = line === 'src:yes';
    } else if (section === 'rendered') rendered.push(line);
    else if (section === 'services' && line.trim()) {
      const [full = '', replicas = '', hash = '', update = ''] = line.split('\t');
      const prefix = `${stack}_`;
      fact.services.push({ name: full.startsWith(prefix) ? full.slice(prefix.length) : full, hash, replicas, update });
    }
  }
  if (renderRc !== undefined && renderRc !== 0) fact.renderError = rendered.join('\n').trim() || `compose config failed (exit ${renderRc})`;
  else if (renderRc === 0) {
    const text = rendered.join('\n');
    try {
      const doc = parseYaml(text) as unknown;
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) fact.rendered = doc as Record<string, unknown>;
      else fact.renderError = 'compose config printed no mapping';
    } catch (e) {
      fact.renderError = `compose config printed invalid YAML: ${(e as Error).message}`;
    }
  }
  fact.services.sort((a, b) => a.name.localeCompare(b.name));
  return fact;
}
