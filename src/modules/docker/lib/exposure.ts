/**
 * Exposure policy for compose projects (pure, no I/O). Docker-published ports bypass ufw, so
 * what a stack exposes is decided by its port bindings: every port of every service is
 * classified, compared with the declared policy before anything is deployed, and the usual
 * hardening mistakes are reported.
 *
 *   public        published on every address (no IP, 0.0.0.0, ::)
 *   localhost     published on 127.0.0.1 / ::1 only
 *   address       published on one specific address (e.g. the bridge, 172.17.0.1)
 *   internal      not published (`expose:` or nothing): reachable from the project's networks only
 *   host-network  `network_mode: host`: every port the process listens on is on the host
 *
 * The policy (the `exposure` parameter of compose-deploy):
 *
 *   exposure: {tracker: public, metrics: localhost, db: internal}          # a level per service
 *   exposure: {tracker: {"7070": public, "1212": localhost}, ...}           # or per port
 *   exposure: {strict: true, hardening: error, tracker: public, ...}        # flags next to services
 *
 * A level allows that class and every less exposed one (internal < localhost < address <
 * public); `host-network` must be declared for a service with `network_mode: host`.
 */
import { z } from 'zod';

export type ExposureClass = 'public' | 'localhost' | 'address' | 'internal' | 'host-network';

export const EXPOSURE_CLASSES = ['public', 'localhost', 'address', 'internal', 'host-network'] as const satisfies readonly ExposureClass[];

/** How exposed a class is; a declared level allows its own rank and below. */
const RANK: Record<ExposureClass, number> = { internal: 0, localhost: 1, address: 2, public: 3, 'host-network': 4 };

/** The class of a published port from its host IP: none / 0.0.0.0 / :: is public, loopback is localhost, anything else one address. */
export function classifyHostIp(ip: string | undefined): ExposureClass {
  const a = (ip ?? '').trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (a === '' || a === '0.0.0.0' || a === '::' || /^0+(:0+){7}$/.test(a) || a === '::0') return 'public';
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === '::1' || /^0+(:0+){6}:0*1$/.test(a) || a === '::ffff:127.0.0.1') return 'localhost';
  return 'address';
}

/** One port of one service, classified. */
export interface ClassifiedPort {
  service: string;
  class: ExposureClass;
  /** Container port or range, e.g. "3306" or "5000-5010". Empty for a host-network service. */
  target: string;
  /** Host port or range; undefined when not published or when Docker picks an ephemeral port. */
  published?: string;
  /** The host address as written; undefined when none was given (all addresses). */
  hostIp?: string;
  protocol: string;
  /** Human form: "0.0.0.0:3306->3306/tcp", "expose 3306/tcp", "network_mode: host". */
  binding: string;
}

export interface ServiceExposure {
  service: string;
  /** The most exposed class among its ports (internal when it has none). */
  class: ExposureClass;
  ports: ClassifiedPort[];
  /**
   * Ports written with compose variables (`"${WEB_PORT}:8080"`), as written: their class is only
   * known once compose has interpolated them (`config`), so they are not classified from the text.
   */
  unresolved?: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses one entry of `ports:` in short syntax: "3000", "3000-3005", "8000:8000",
 * "127.0.0.1:8001:8001", "127.0.0.1::5000", "[::1]:6000:6000", "6060:6060/udp", or a number.
 */
export function parseShortPort(entry: string | number): { hostIp?: string; published?: string; target: string; protocol: string } | string {
  let text = String(entry).trim();
  let protocol = 'tcp';
  const slash = /^(.*)\/([a-z]+)$/i.exec(text);
  if (slash) {
    text = slash[1]!;
    protocol = slash[2]!.toLowerCase();
  }
  let hostIp: string | undefined;
  const bracket = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracket) {
    hostIp = bracket[1]!;
    text = bracket[2]!;
  }
  const portish = /^\d+(-\d+)?$/;
  const parts = text.split(':');
  let published: string | undefined;
  let target: string;
  if (hostIp !== undefined) {
    if (parts.length !== 2) return `port "${entry}": expected [IP]:HOST:CONTAINER`;
    published = parts[0] || undefined;
    target = parts[1]!;
  } else if (parts.length === 1) {
    target = parts[0]!;
  } else if (parts.length === 2) {
    published = parts[0] || undefined;
    target = parts[1]!;
  } else if (parts.length === 3) {
    hostIp = parts[0]!;
    published = parts[1] || undefined;
    target = parts[2]!;
  } else {
    // An unbracketed IPv6 address: the last two fields are the ports.
    target = parts.pop()!;
    published = parts.pop() || undefined;
    hostIp = parts.join(':');
  }
  if (!portish.test(target)) return `port "${entry}": the container port must be a number or a range like 5000-5010`;
  if (published !== undefined && !portish.test(published)) return `port "${entry}": the host port must be a number or a range like 5000-5010`;
  return { ...(hostIp !== undefined ? { hostIp } : {}), ...(published !== undefined ? { published } : {}), target, protocol };
}

function describeBinding(hostIp: string | undefined, published: string | undefined, target: string, protocol: string): string {
  const ip = hostIp === undefined || hostIp === '' ? '0.0.0.0' : hostIp.includes(':') && !hostIp.startsWith('[') ? `[${hostIp}]` : hostIp;
  return `${ip}:${published ?? '(any)'}->${target}/${protocol}`;
}

/** Where a published port listens, for messages: "0.0.0.0", "127.0.0.1", "::". */
export function listenAddress(p: ClassifiedPort): string {
  return p.hostIp === undefined || p.hostIp === '' ? '0.0.0.0' : p.hostIp.replace(/^\[(.*)\]$/, '$1');
}

/** Classifies the ports of one service (short or long `ports:` syntax, `expose:`, `network_mode: host`). */
export function classifyService(name: string, svc: unknown): ServiceExposure {
  const s = isObj(svc) ? svc : {};
  if (s.network_mode === 'host') {
    return { service: name, class: 'host-network', ports: [{ service: name, class: 'host-network', target: '', protocol: 'any', binding: 'network_mode: host' }] };
  }
  const ports: ClassifiedPort[] = [];
  const unresolved: string[] = [];
  for (const entry of Array.isArray(s.ports) ? s.ports : []) {
    if (hasVariable(entry)) {
      unresolved.push(typeof entry === 'string' ? entry : JSON.stringify(entry));
    } else if (typeof entry === 'string' || typeof entry === 'number') {
      const p = parseShortPort(entry);
      if (typeof p === 'string') throw new Error(`service ${name}: ${p}`);
      ports.push({ service: name, class: classifyHostIp(p.hostIp), ...p, binding: describeBinding(p.hostIp, p.published, p.target, p.protocol) });
    } else if (isObj(entry)) {
      if (entry.target === undefined) throw new Error(`service ${name}: a long-syntax port needs target`);
      const target = String(entry.target);
      const published = entry.published === undefined || entry.published === null || entry.published === '' ? undefined : String(entry.published);
      const hostIp = typeof entry.host_ip === 'string' && entry.host_ip !== '' ? entry.host_ip : undefined;
      const protocol = typeof entry.protocol === 'string' ? entry.protocol.toLowerCase() : 'tcp';
      ports.push({
        service: name,
        class: classifyHostIp(hostIp),
        target,
        ...(published !== undefined ? { published } : {}),
        ...(hostIp !== undefined ? { hostIp } : {}),
        protocol,
        binding: describeBinding(hostIp, published, target, protocol),
      });
    } else {
      throw new Error(`service ${name}: a port must be a string, a number or a mapping (got ${JSON.stringify(entry)})`);
    }
  }
  for (const entry of Array.isArray(s.expose) ? s.expose : []) {
    const text = String(entry);
    const m = /^(\d+(?:-\d+)?)(?:\/([a-z]+))?$/i.exec(text.trim());
    if (!m) throw new Error(`service ${name}: expose entry "${text}" must be a port or range, optionally with /tcp or /udp`);
    const protocol = (m[2] ?? 'tcp').toLowerCase();
    ports.push({ service: name, class: 'internal', target: m[1]!, protocol, binding: `expose ${m[1]}/${protocol}` });
  }
  const cls = ports.reduce<ExposureClass>((acc, p) => (RANK[p.class] > RANK[acc] ? p.class : acc), 'internal');
  return { service: name, class: cls, ports, ...(unresolved.length ? { unresolved } : {}) };
}

/** A port entry holding a compose variable (`$VAR`, `${VAR:-default}`), in any of its fields. */
const hasVariable = (entry: unknown): boolean =>
  typeof entry === 'string' ? entry.includes('$') : isObj(entry) ? Object.values(entry).some((v) => typeof v === 'string' && v.includes('$')) : false;

/** The service keys the classification and the hardening findings read. */
const EXPOSURE_KEYS = ['image', 'build', 'ports', 'expose', 'network_mode', 'user', 'privileged', 'volumes', 'cap_drop'];

/**
 * A definition reduced to what the exposure report reads, for compose to interpolate: no
 * environment, command, labels or secrets, so nothing secret is sent to be rendered.
 */
export function exposureView(definition: unknown): Record<string, unknown> {
  const d = isObj(definition) ? definition : {};
  const services = isObj(d.services) ? d.services : {};
  return {
    ...(d.version !== undefined ? { version: d.version } : {}),
    services: Object.fromEntries(
      Object.entries(services).map(([name, svc]) => [name, isObj(svc) ? Object.fromEntries(Object.entries(svc).filter(([k]) => EXPOSURE_KEYS.includes(k))) : svc]),
    ),
    ...(d.volumes !== undefined ? { volumes: d.volumes } : {}),
  };
}

/** Classifies every service of a compose definition (a mapping with `services:`). */
export function classifyDefinition(definition: unknown): ServiceExposure[] {
  const services = isObj(definition) && isObj(definition.services) ? definition.services : {};
  return Object.keys(services)
    .sort()
    .map((name) => classifyService(name, services[name]));
}

// ---------------------------------------------------------------- the policy parameter

const level = z.enum(EXPOSURE_CLASSES);
const portKey = z.string().regex(/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/, 'a port key is a container or host port, a range like 5000-5010, optionally with /tcp or /udp');

/** What one service may expose: a level for all its ports, or a level per port. */
const portMapSchema = z.record(portKey, level).describe('A level per port: the key is the container or the host port ("7070", "6969/udp", "5000-5010")');
export const serviceExposureSchema = z.union([level, portMapSchema]);

const HARDENING = ['warn', 'error', 'off'];
const isFlag = (k: string, v: unknown) => (k === 'strict' && typeof v === 'boolean') || (k === 'hardening' && typeof v === 'string' && HARDENING.includes(v));

/**
 * `exposure: {SERVICE: LEVEL | {PORT: LEVEL}, ..., strict?: boolean, hardening?: warn|error|off}`.
 * `strict` and `hardening` are flags (their values are not levels, so no service name is shadowed
 * by accident: a service called "strict" cannot have the level `true`).
 */
export const exposureSchema = z
  .record(z.string(), z.unknown())
  .superRefine((v, ctx) => {
    for (const [k, val] of Object.entries(v)) {
      if (isFlag(k, val)) continue;
      const r = (typeof val === 'object' && val !== null ? portMapSchema : serviceExposureSchema).safeParse(val);
      if (!r.success) {
        const hint =
          k === 'strict'
            ? 'strict must be true or false'
            : k === 'hardening'
              ? 'hardening must be warn, error or off'
              : typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean'
                ? `service ${k}: the level must be one of ${EXPOSURE_CLASSES.join(', ')} (got ${JSON.stringify(val)})`
                : `service ${k}: ${r.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`;
        ctx.addIssue({ code: 'custom', message: hint, path: [k] });
      }
    }
  })
  .transform((v): ExposurePolicy => {
    const services: Record<string, ServicePolicy> = {};
    for (const [k, val] of Object.entries(v)) {
      if (isFlag(k, val)) continue;
      services[k] = val as ServicePolicy;
    }
    return { services, strict: v.strict === true, hardening: (typeof v.hardening === 'string' ? v.hardening : 'warn') as ExposurePolicy['hardening'] };
  })
  .describe(
    'What each service may expose: `{tracker: public, metrics: localhost, db: internal}` (levels: public, localhost, address, internal, host-network), ' +
      'or per port `{tracker: {"7070": public, "1212": localhost}}`. Flags next to the services: `strict: true` makes a service missing from the policy an error; ' +
      '`hardening: error` turns hardening findings (unpinned image, privileged, Docker socket, no user, no cap_drop, published data store) into errors, `off` hides them.',
  );

export type ServicePolicy = ExposureClass | Record<string, ExposureClass>;
export interface ExposurePolicy {
  services: Record<string, ServicePolicy>;
  strict: boolean;
  hardening: 'warn' | 'error' | 'off';
}

// ---------------------------------------------------------------- the check

export interface PolicyReport {
  /** Exposure beyond the policy (and, under strict, services missing from it): the task fails. */
  errors: string[];
  /** Services missing from the policy (not strict), hardening findings (hardening: warn). */
  warnings: string[];
  services: ServiceExposure[];
}

const rangeOf = (s: string): [number, number] => {
  const [a, b] = s.split('-');
  return [Number(a), Number(b ?? a)];
};
const overlaps = (a: string, b: string) => {
  const [al, ah] = rangeOf(a);
  const [bl, bh] = rangeOf(b);
  return al <= bh && bl <= ah;
};

/** The declared level for one port under a per-port map, or undefined when the map does not name it. */
export function portLevel(map: Record<string, ExposureClass>, p: ClassifiedPort): ExposureClass | undefined {
  for (const [key, lvl] of Object.entries(map)) {
    const [ports, proto] = key.split('/');
    if (proto && proto !== p.protocol) continue;
    if (overlaps(ports!, p.target) || (p.published !== undefined && overlaps(ports!, p.published))) return lvl;
  }
  return undefined;
}

function what(p: ClassifiedPort): string {
  if (p.class === 'host-network') return 'uses network_mode: host (every port it listens on is on the host)';
  const port = p.published ?? `${p.target} (on a port Docker picks)`;
  return `publishes ${port}${p.protocol !== 'tcp' ? `/${p.protocol}` : ''} on ${listenAddress(p)}`;
}

/** Compares the classified services with the policy. */
export function checkExposure(services: ServiceExposure[], policy: ExposurePolicy | undefined): PolicyReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const s of services) {
    for (const u of s.unresolved ?? []) warnings.push(`${s.service} port ${JSON.stringify(u)} uses variables compose could not render yet: its exposure is checked when it can (before deploying)`);
  }
  if (!policy) return { errors, warnings, services };
  const names = new Set(services.map((s) => s.service));
  for (const s of services) {
    const declared = policy.services[s.service];
    if (declared === undefined) {
      const msg = `${s.service} is not in the exposure policy (it is ${s.class}${s.class === 'internal' ? '' : `: ${s.ports.filter((p) => p.class !== 'internal').map((p) => p.binding).join(', ')}`})`;
      (policy.strict ? errors : warnings).push(msg);
      continue;
    }
    for (const p of s.ports) {
      if (p.class === 'internal') continue;
      const lvl = typeof declared === 'string' ? declared : portLevel(declared, p);
      if (lvl === undefined) {
        errors.push(`${s.service} ${what(p)} but its exposure policy does not name port ${p.target}${p.published && p.published !== p.target ? ` or ${p.published}` : ''}`);
        continue;
      }
      const allowed = p.class === 'host-network' ? lvl === 'host-network' : RANK[p.class] <= RANK[lvl];
      if (!allowed) errors.push(`${s.service} ${what(p)} but its exposure is ${lvl}`);
    }
  }
  for (const name of Object.keys(policy.services)) {
    if (!names.has(name)) warnings.push(`the exposure policy names ${name}, which is not a service of the project`);
  }
  return { errors, warnings, services };
}

// ---------------------------------------------------------------- hardening

export type FindingRule = 'unpinned-image' | 'privileged' | 'docker-socket' | 'root-user' | 'no-cap-drop' | 'data-store-published';
export interface Finding {
  service: string;
  rule: FindingRule;
  msg: string;
}

/** Image names (last path component, without tag) of common data stores. */
export const DATA_STORES = [
  'postgres', 'postgresql', 'postgis', 'mysql', 'mariadb', 'percona', 'mongo', 'mongodb', 'redis', 'valkey', 'keydb', 'memcached',
  'elasticsearch', 'opensearch', 'cassandra', 'couchdb', 'couchbase', 'influxdb', 'clickhouse-server', 'clickhouse', 'neo4j',
  'rabbitmq', 'etcd', 'minio', 'timescaledb', 'cockroach', 'mssql-server', 'oracle', 'arangodb', 'questdb', 'nats', 'zookeeper', 'kafka',
];

/** Splits an image reference into repository name (last component), tag and digest. */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest.slice(lastSlash + 1).toLowerCase(), ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

const UNPINNED = new Set(['latest', 'develop', 'dev', 'main', 'master', 'nightly', 'edge', 'stable']);
const SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

function volumeSources(svc: Obj): string[] {
  const out: string[] = [];
  for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
    if (typeof v === 'string') out.push(v.split(':')[0]!);
    else if (isObj(v) && typeof v.source === 'string') out.push(v.source);
  }
  return out;
}

/** The usual hardening mistakes of one definition, service by service. */
export function hardeningFindings(definition: unknown, exposure: ServiceExposure[] = classifyDefinition(definition)): Finding[] {
  const services = isObj(definition) && isObj(definition.services) ? definition.services : {};
  const findings: Finding[] = [];
  for (const name of Object.keys(services).sort()) {
    const s = isObj(services[name]) ? (services[name] as Obj) : {};
    const add = (rule: FindingRule, msg: string) => findings.push({ service: name, rule, msg: `${name}: ${msg}` });
    const image = typeof s.image === 'string' ? s.image : undefined;
    if (image !== undefined) {
      const img = parseImage(image);
      if (!img.digest && (img.tag === undefined || UNPINNED.has(img.tag.toLowerCase()))) {
        add('unpinned-image', `image ${image} is not pinned to a version (${img.tag === undefined ? 'no tag means latest' : `"${img.tag}" moves`}): pin a version tag or a digest`);
      }
    }
    if (s.privileged === true) add('privileged', 'runs privileged (every device and capability of the host)');
    const sock = volumeSources(s).find((src) => SOCKETS.includes(src.replace(/\/+$/, '')));
    if (sock) add('docker-socket', `mounts the Docker socket ${sock} (root on the host for whoever controls the container)`);
    if (s.user === undefined || s.user === null || s.user === '' || s.user === 'root' || s.user === '0' || s.user === 0 || s.user === '0:0') {
      add('root-user', s.user === undefined || s.user === null || s.user === '' ? 'runs as root unless the image says otherwise (no user:)' : `runs as root (user: ${String(s.user)})`);
    }
    const capDrop = Array.isArray(s.cap_drop) ? s.cap_drop : [];
    if (capDrop.length === 0) add('no-cap-drop', 'keeps every default capability (no cap_drop: add cap_drop: [ALL] and cap_add what it needs)');
    if (image !== undefined && DATA_STORES.includes(parseImage(image).name)) {
      const e = exposure.find((x) => x.service === name);
      const pub = e?.ports.filter((p) => p.class !== 'internal') ?? [];
      if (pub.length) add('data-store-published', `is a data store (${parseImage(image).name}) and is published (${pub.map((p) => p.binding).join(', ')}): keep it internal`);
    }
  }
  return findings;
}

/** Classification, policy check and hardening in one: what compose-deploy runs before deploying. */
export function exposureReport(definition: unknown, policy: ExposurePolicy | undefined): PolicyReport & { findings: Finding[] } {
  const services = classifyDefinition(definition);
  const report = checkExposure(services, policy);
  const findings = hardeningFindings(definition, services);
  const mode = policy?.hardening ?? 'warn';
  if (mode !== 'off') (mode === 'error' ? report.errors : report.warnings).push(...findings.map((f) => f.msg));
  return { ...report, findings };
}
