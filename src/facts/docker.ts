/**
 * `composeProject(...)`: everything compose-deploy needs about one compose project, in one
 * probe (one round trip): which compose implementation is installed (v2 `docker compose` or v1
 * `docker-compose`), whether the project folder exists, the rendered configuration (`config`),
 * compose's per-service configuration hash (`config --hash='*'`, the value compose itself
 * stores in the `com.docker.compose.config-hash` label), the project's containers (labels,
 * state, health, start time), its networks, which of the configuration's images exist locally,
 * the values of `.env` (only to mask them in diffs and outputs, never shown), the sha256 of the
 * given secret files, the configuration applied last by compose-deploy (for --diff), and, for an
 * inline definition not yet on the host, how compose renders it (`-f - config`: the interpolated
 * configuration the exposure policy is checked against).
 *
 * Key `compose:NAME`. Sections are marked by `@@tsplay:NAME RC` lines.
 */
import { parse as parseYaml } from 'yaml';
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { factFailed } from './util.js';

export interface ComposeContainer {
  id: string;
  name: string;
  service: string;
  /** com.docker.compose.config-hash. */
  hash: string;
  oneoff: boolean;
  /** created, running, exited, paused, restarting, dead. */
  state: string;
  /** healthy, unhealthy, starting; undefined without a health check. */
  health?: string;
  /** Output of the last health check, when there is one. */
  healthOutput?: string;
  startedAt: string;
  image: string;
}

export interface ComposeNetwork {
  name: string;
  /** com.docker.compose.network: the network's key in the compose file. */
  key: string;
}

export interface ComposeProjectFact {
  docker: boolean;
  /** The compose implementation found; none when neither is installed. */
  compose: { kind: 'v2' | 'v1'; version: string } | { kind: 'none' };
  /** Whether project_src exists (a folder). */
  src: boolean;
  /** The rendered configuration (interpolated: may hold .env values; never print it unmasked). */
  config?: Record<string, unknown>;
  /** `config` failed: its error output. */
  configError?: string;
  /** Per-service configuration hash. */
  hashes: Record<string, string>;
  containers: ComposeContainer[];
  networks: ComposeNetwork[];
  /** Images of the configuration that are not on the host. */
  missingImages: string[];
  /** Values of .env (for masking only). */
  envValues: string[];
  /** sha256 of the secret files asked for (null: missing). */
  secretFiles: Record<string, string | null>;
  /** The configuration compose-deploy applied last (project_src/.tsplay/applied-config.yml). */
  applied?: string;
  /**
   * The probe's `definition` as compose renders it (`config`, interpolated with project_src's
   * .env and the shell environment; may hold .env values: never print it unmasked).
   */
  rendered?: Record<string, unknown>;
  /** Rendering `definition` failed: compose's error output (last lines). */
  renderError?: string;
}

export const composeKey = (project: string): string => `compose:${project}`;

/** Where compose-deploy keeps the configuration it applied, relative to project_src. */
export const APPLIED_CONFIG = '.tsplay/applied-config.yml';

export interface ComposeProbe {
  src: string;
  project: string;
  /** -f arguments, relative to src; empty: compose's defaults. */
  files: string[];
  /** Secret file paths relative to src, to hash. */
  secretFiles?: string[];
  /** Images to look for on the host besides those of the rendered configuration (e.g. an inline definition's). */
  images?: string[];
  /**
   * A compose file's text to render with compose (`-f - config`) as it would be in src: from src
   * with its .env when src exists, else from / (no .env yet). Read from the command line, not
   * written anywhere.
   */
  definition?: string;
}

/** The compose command line prefix of the detected implementation: `$DC -p NAME -f ...`. */
function dcArgs(p: ComposeProbe): string {
  return sh`-p ${p.project}` + p.files.map((f) => sh` -f ${f}`).join('');
}

export function composeProject(p: ComposeProbe): Fact<ComposeProjectFact> {
  const fmt =
    '{{.Id}}\t{{.Name}}\t{{index .Config.Labels "com.docker.compose.service"}}\t{{index .Config.Labels "com.docker.compose.config-hash"}}\t' +
    '{{index .Config.Labels "com.docker.compose.oneoff"}}\t{{.State.Status}}\t{{.State.StartedAt}}\t{{.Config.Image}}\t{{with index .State "Health"}}{{json .}}{{else}}null{{end}}';
  const label = `label=com.docker.compose.project=${p.project}`;
  const dc = dcArgs(p);
  const command = [
    'PATH="$PATH:/usr/local/bin:/usr/sbin:/sbin"',
    'if command -v docker >/dev/null 2>&1; then echo docker:yes; else echo docker:no; fi',
    // v2 first: it is what Debian 13 ships; v1 otherwise.
    'DC=',
    'if command -v docker >/dev/null 2>&1 && v=$(docker compose version --short 2>/dev/null); then DC="docker compose"; echo "compose:v2 $v"; ' +
      'elif command -v docker-compose >/dev/null 2>&1; then v=$(docker-compose version --short 2>/dev/null); DC=docker-compose; echo "compose:v1 $v"; else echo compose:none; fi',
    sh`S=; if [ -d ${p.src} ]; then echo src:yes; cd ${p.src} || exit 1; S=1; else echo src:no; fi`,
    `if [ -n "$DC" ] && [ -n "$S" ]; then ` +
      `c=$($DC ${dc} config 2>&1); rc=$?; echo "@@tsplay:config $rc"; printf '%s\\n' "$c"; ` +
      `if [ $rc = 0 ]; then h=$($DC ${dc} config --hash='*' 2>&1); echo "@@tsplay:hash $?"; printf '%s\\n' "$h"; ` +
      `echo "@@tsplay:images 0"; printf '%s\\n' "$c" | sed -n 's/^    image: *//p' | sort -u | while read -r img; do ` +
      `img=$(printf '%s' "$img" | sed "s/^['\\"]//; s/['\\"]$//"); docker image inspect "$img" >/dev/null 2>&1 || printf 'missing %s\\n' "$img"; done; fi; fi`,
    ...(p.definition !== undefined
      ? [
          // v1 reads .env from the working directory and resolves relative paths there when the file comes from stdin.
          `if [ -n "$DC" ]; then R=$(pwd); [ -n "$S" ] || R=/; ` +
            sh`render() { printf '%s' ${Buffer.from(p.definition).toString('base64')} | base64 -d | (cd "$R" && $DC -p ${p.project} --project-directory "$R" -f - config); }; ` +
            `r=$(render 2>/dev/null); rc=$?; echo "@@tsplay:rendered $rc"; if [ $rc = 0 ]; then printf '%s\n' "$r"; else render 2>&1 | tail -n 5; fi; fi`,
        ]
      : []),
    ...(p.images?.length
      ? [sh`if command -v docker >/dev/null 2>&1; then echo "@@tsplay:images 0"; for img in ${p.images}; do docker image inspect "$img" >/dev/null 2>&1 || printf 'missing %s\n' "$img"; done; fi`]
      : []),
    `if command -v docker >/dev/null 2>&1; then echo "@@tsplay:containers 0"; ` +
      sh`ids=$(docker ps -aq --filter ${label}); if [ -n "$ids" ]; then docker inspect --format ${fmt} $ids; fi; ` +
      sh`echo "@@tsplay:networks 0"; docker network ls --filter ${label} --format '{{.Name}}\t{{.Label "com.docker.compose.network"}}'; fi`,
    sh`if [ -f ${`${p.src}/.env`} ]; then echo "@@tsplay:env 0"; cat ${`${p.src}/.env`}; fi`,
    ...(p.secretFiles ?? []).map((f) => sh`echo "@@tsplay:secret 0 "${f}; if [ -f ${`${p.src}/${f}`} ]; then sha256sum < ${`${p.src}/${f}`}; fi`),
    sh`if [ -f ${`${p.src}/${APPLIED_CONFIG}`} ]; then echo "@@tsplay:applied 0"; cat ${`${p.src}/${APPLIED_CONFIG}`}; fi`,
    'exit 0',
  ].join('\n');
  return fact(composeKey(p.project), command, (out) => parseComposeProject(out));
}

/** Values of a .env file (KEY=VALUE lines; quotes removed). */
export function envFileValues(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[1]!.trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) v = v.slice(1, -1);
    if (v !== '') out.push(v);
  }
  return out;
}

export function parseComposeProject(out: ExecResult): ComposeProjectFact {
  const lines = out.stdout.replace(/\r\n/g, '\n').split('\n');
  if (!lines[0]?.startsWith('docker:')) throw factFailed('the compose project', out);
  const sections = new Map<string, { rc: number; arg: string; lines: string[] }[]>();
  const head: string[] = [];
  let cur: string[] = head;
  for (const l of lines) {
    const m = /^@@tsplay:(\w+) (\d+)(?: (.*))?$/.exec(l);
    if (m) {
      const sec = { rc: Number(m[2]), arg: m[3] ?? '', lines: [] as string[] };
      sections.set(m[1]!, [...(sections.get(m[1]!) ?? []), sec]);
      cur = sec.lines;
    } else cur.push(l);
  }
  const get = (n: string) => sections.get(n)?.[0];
  const text = (n: string) => get(n)?.lines.join('\n').replace(/\n+$/, '');

  const compose = head.find((l) => l.startsWith('compose:'))?.slice(8) ?? 'none';
  const cm = /^(v1|v2) ?(.*)$/.exec(compose);
  const result: ComposeProjectFact = {
    docker: head.includes('docker:yes'),
    compose: cm ? { kind: cm[1] as 'v1' | 'v2', version: cm[2]!.trim() } : { kind: 'none' },
    src: head.includes('src:yes'),
    hashes: {},
    containers: [],
    networks: [],
    missingImages: [],
    envValues: [],
    secretFiles: {},
  };
  const config = get('config');
  if (config) {
    if (config.rc === 0) {
      const parsed = parseYaml(config.lines.join('\n')) as unknown;
      result.config = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } else result.configError = config.lines.join('\n').trim();
  }
  for (const l of get('hash')?.lines ?? []) {
    const m = /^(\S+)\s+([0-9a-f]{64})$/.exec(l.trim());
    if (m) result.hashes[m[1]!] = m[2]!;
  }
  for (const sec of sections.get('images') ?? []) for (const l of sec.lines) if (l.startsWith('missing ') && !result.missingImages.includes(l.slice(8))) result.missingImages.push(l.slice(8));
  for (const l of get('containers')?.lines ?? []) {
    if (!l.trim()) continue;
    const [id, name, service, hash, oneoff, state, startedAt, image, healthJson] = l.split('\t');
    const c: ComposeContainer = { id: id!, name: name!.replace(/^\//, ''), service: service!, hash: hash!, oneoff: oneoff === 'True' || oneoff === 'true', state: state!, startedAt: startedAt!, image: image! };
    const health = healthJson && healthJson !== 'null' ? (JSON.parse(healthJson) as { Status?: string; Log?: Array<{ Output?: string }> } | null) : null;
    if (health?.Status) {
      c.health = health.Status;
      const last = health.Log?.[health.Log.length - 1]?.Output;
      if (last !== undefined) c.healthOutput = last.trim();
    }
    result.containers.push(c);
  }
  for (const l of get('networks')?.lines ?? []) {
    if (!l.trim()) continue;
    const [name, key] = l.split('\t');
    result.networks.push({ name: name!, key: key ?? '' });
  }
  const env = text('env');
  if (env !== undefined) result.envValues = envFileValues(env);
  for (const s of sections.get('secret') ?? []) {
    const sha = /^([0-9a-f]{64})\b/.exec(s.lines[0] ?? '');
    result.secretFiles[s.arg] = sha ? sha[1]! : null;
  }
  const rendered = get('rendered');
  if (rendered) {
    if (rendered.rc === 0) {
      const parsed = parseYaml(rendered.lines.join('\n')) as unknown;
      result.rendered = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } else result.renderError = rendered.lines.join('\n').trim() || `compose config exited with ${rendered.rc}`;
  }
  const applied = get('applied');
  if (applied) result.applied = `${applied.lines.join('\n').replace(/\n+$/, '')}\n`;
  return result;
}
