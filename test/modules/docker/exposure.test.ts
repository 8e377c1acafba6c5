/** The exposure policy: port classification, the policy check, hardening findings (pure). */
import { expect } from 'chai';
import {
  checkExposure,
  classifyDefinition,
  classifyHostIp,
  classifyService,
  exposureReport,
  exposureSchema,
  exposureView,
  hardeningFindings,
  parseImage,
  parseShortPort,
  type ExposurePolicy,
} from '../../../src/modules/docker/lib/exposure.js';

const policy = (v: unknown): ExposurePolicy => exposureSchema.parse(v);
const classes = (svc: unknown) => classifyService('s', svc).ports.map((p) => `${p.class} ${p.binding}`);

describe('exposure: classifyHostIp', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'public'],
    ['', 'public'],
    ['0.0.0.0', 'public'],
    ['::', 'public'],
    ['[::]', 'public'],
    ['0:0:0:0:0:0:0:0', 'public'],
    ['127.0.0.1', 'localhost'],
    ['127.1.2.3', 'localhost'],
    ['::1', 'localhost'],
    ['[::1]', 'localhost'],
    ['0:0:0:0:0:0:0:1', 'localhost'],
    ['172.17.0.1', 'address'],
    ['10.0.0.5', 'address'],
    ['fd00::1', 'address'],
    ['203.0.113.7', 'address'],
  ];
  for (const [ip, want] of cases) it(`${JSON.stringify(ip)} is ${want}`, () => expect(classifyHostIp(ip)).to.equal(want));
});

describe('exposure: short port syntax', () => {
  const cases: Array<[string | number, unknown]> = [
    ['3000', { target: '3000', protocol: 'tcp' }],
    [3000, { target: '3000', protocol: 'tcp' }],
    ['3000-3005', { target: '3000-3005', protocol: 'tcp' }],
    ['8000:8000', { published: '8000', target: '8000', protocol: 'tcp' }],
    ['9090-9091:8080-8081', { published: '9090-9091', target: '8080-8081', protocol: 'tcp' }],
    ['127.0.0.1:8001:8001', { hostIp: '127.0.0.1', published: '8001', target: '8001', protocol: 'tcp' }],
    ['127.0.0.1:5000-5010:5000-5010', { hostIp: '127.0.0.1', published: '5000-5010', target: '5000-5010', protocol: 'tcp' }],
    ['127.0.0.1::5000', { hostIp: '127.0.0.1', target: '5000', protocol: 'tcp' }],
    ['6060:6060/udp', { published: '6060', target: '6060', protocol: 'udp' }],
    ['[::1]:6000:6000', { hostIp: '::1', published: '6000', target: '6000', protocol: 'tcp' }],
    ['::1:6000:6000', { hostIp: '::1', published: '6000', target: '6000', protocol: 'tcp' }],
    ['0.0.0.0:53:53/udp', { hostIp: '0.0.0.0', published: '53', target: '53', protocol: 'udp' }],
  ];
  for (const [text, want] of cases) it(String(text), () => expect(parseShortPort(text)).to.deep.equal(want));
  it('rejects a non-numeric port', () => expect(parseShortPort('abc:80')).to.be.a('string').and.include('host port'));
  it('rejects a bad container port', () => expect(parseShortPort('80:http')).to.be.a('string').and.include('container port'));
});

describe('exposure: classifying services', () => {
  it('no ports: internal, no port rows', () => {
    expect(classifyService('db', { image: 'mysql:8' })).to.deep.equal({ service: 'db', class: 'internal', ports: [] });
  });
  it('expose: internal', () => expect(classes({ expose: ['3306', '5000-5001/udp'] })).to.deep.equal(['internal expose 3306/tcp', 'internal expose 5000-5001/udp']));
  it('short syntax: public, localhost, address', () => {
    expect(classes({ ports: ['7070:7070', '127.0.0.1:9090:9090', '172.17.0.1:3000:3000', '6969:6969/udp', '8080'] })).to.deep.equal([
      'public 0.0.0.0:7070->7070/tcp',
      'localhost 127.0.0.1:9090->9090/tcp',
      'address 172.17.0.1:3000->3000/tcp',
      'public 0.0.0.0:6969->6969/udp',
      'public 0.0.0.0:(any)->8080/tcp',
    ]);
  });
  it('long syntax, with and without host_ip and published', () => {
    expect(
      classes({
        ports: [
          { target: 80, published: 8080 },
          { target: 81, published: '8181', host_ip: '127.0.0.1', protocol: 'tcp' },
          { target: 53, published: 53, protocol: 'UDP', host_ip: '::' },
          { target: 82 },
          { target: 83, published: '8300-8301', host_ip: '10.1.2.3' },
        ],
      }),
    ).to.deep.equal([
      'public 0.0.0.0:8080->80/tcp',
      'localhost 127.0.0.1:8181->81/tcp',
      'public [::]:53->53/udp',
      'public 0.0.0.0:(any)->82/tcp',
      'address 10.1.2.3:8300-8301->83/tcp',
    ]);
  });
  it('the service class is its most exposed port', () => {
    expect(classifyService('m', { ports: ['127.0.0.1:9090:9090'], expose: ['9100'] }).class).to.equal('localhost');
    expect(classifyService('m', { ports: ['127.0.0.1:9090:9090', '172.17.0.1:1:1'] }).class).to.equal('address');
    expect(classifyService('m', { ports: ['127.0.0.1:9090:9090', '1:1'] }).class).to.equal('public');
  });
  it('network_mode: host is its own class, whatever the ports say', () => {
    expect(classifyService('h', { network_mode: 'host', ports: ['127.0.0.1:1:1'] })).to.deep.equal({
      service: 'h',
      class: 'host-network',
      ports: [{ service: 'h', class: 'host-network', target: '', protocol: 'any', binding: 'network_mode: host' }],
    });
  });
  it('a bad port names the service', () => expect(() => classifyService('web', { ports: ['x:y:z:w'] })).to.throw(/service web/));
  it('a port with a compose variable is not classified from its text: it is listed as unresolved (compose renders it first)', () => {
    const s = classifyService('web', { ports: ['${WEB_PORT}:8080', '${BIND:-127.0.0.1}:9090:9090', { target: 81, published: '${P}' }, '127.0.0.1:82:82'] });
    expect(s.ports.map((p) => p.binding)).to.deep.equal(['127.0.0.1:82->82/tcp']);
    expect(s.unresolved).to.deep.equal(['${WEB_PORT}:8080', '${BIND:-127.0.0.1}:9090:9090', '{"target":81,"published":"${P}"}']);
    expect(classifyService('web', { ports: ['80:80'] })).to.not.have.property('unresolved');
  });
  it('an unresolved port is a warning of the policy check, never silently allowed', () => {
    const r = checkExposure(classifyDefinition({ services: { web: { ports: ['${WEB_PORT}:8080'] } } }), policy({ web: 'internal' }));
    expect(r.errors).to.deep.equal([]);
    expect(r.warnings).to.deep.equal(['web port "${WEB_PORT}:8080" uses variables compose could not render yet: its exposure is checked when it can (before deploying)']);
    expect(checkExposure(classifyDefinition({ services: { web: { ports: ['${WEB_PORT}:8080'] } } }), undefined).warnings).to.have.length(1);
  });
  it('a definition: services sorted, missing services section is empty', () => {
    expect(classifyDefinition({ services: { b: {}, a: { ports: ['1:1'] } } }).map((s) => `${s.service}=${s.class}`)).to.deep.equal(['a=public', 'b=internal']);
    expect(classifyDefinition({})).to.deep.equal([]);
    expect(classifyDefinition(undefined)).to.deep.equal([]);
  });
});

describe('exposure: the policy parameter', () => {
  it("the issue's short form", () => {
    expect(policy({ tracker: 'public', metrics: 'localhost', db: 'internal' })).to.deep.equal({
      services: { tracker: 'public', metrics: 'localhost', db: 'internal' },
      strict: false,
      hardening: 'warn',
    });
  });
  it('per-port maps and flags', () => {
    expect(policy({ strict: true, hardening: 'error', tracker: { '7070': 'public', '6969/udp': 'public', '1212': 'localhost' } })).to.deep.equal({
      services: { tracker: { '7070': 'public', '6969/udp': 'public', '1212': 'localhost' } },
      strict: true,
      hardening: 'error',
    });
  });
  it('a service may be called strict or hardening when its value is a level', () => {
    expect(policy({ strict: 'public', hardening: 'internal' }).services).to.deep.equal({ strict: 'public', hardening: 'internal' });
  });
  const bad: Array<[unknown, string]> = [
    [{ db: 'private' }, 'service db: the level must be one of public, localhost, address, internal, host-network (got "private")'],
    [{ db: { web: 'public' } }, 'service db: '],
    [{ db: { '80': 'everywhere' } }, 'service db: 80'],
    [{ strict: 'yes' }, 'strict must be true or false'],
    [{ hardening: 'loud' }, 'hardening must be warn, error or off'],
    ['strict', 'expected record'],
  ];
  for (const [v, msg] of bad) {
    it(`rejects ${JSON.stringify(v)}`, () => {
      const r = exposureSchema.safeParse(v);
      expect(r.success).to.equal(false);
      expect(r.error!.issues.map((i) => i.message).join('\n')).to.include(msg);
    });
  }
});

describe('exposure: the policy check', () => {
  const stack = {
    services: {
      tracker: { image: 'torrust/tracker:3.0.0', ports: ['6969:6969/udp', '7070:7070', '1212:1212'] },
      metrics: { image: 'prom/prometheus:v2.50.0', ports: ['127.0.0.1:9090:9090'] },
      db: { image: 'mysql:8.0', expose: ['3306'] },
    },
  };
  const check = (def: unknown, p: unknown) => checkExposure(classifyDefinition(def), policy(p));

  it('a stack within its policy has no errors', () => {
    expect(check(stack, { tracker: 'public', metrics: 'localhost', db: 'internal' })).to.include({}).and.have.property('errors').that.deep.equals([]);
  });
  it('a more generous level allows less exposure', () => {
    expect(check(stack, { tracker: 'public', metrics: 'public', db: 'localhost' }).errors).to.deep.equal([]);
  });
  it('the issue example: db publishes 3306 on 0.0.0.0 but its exposure is internal', () => {
    const def = { services: { ...stack.services, db: { image: 'mysql:8.0', ports: ['3306:3306'] } } };
    expect(check(def, { tracker: 'public', metrics: 'localhost', db: 'internal' }).errors).to.deep.equal(['db publishes 3306 on 0.0.0.0 but its exposure is internal']);
  });
  it('localhost declared, public published', () => {
    const def = { services: { metrics: { ports: ['9090:9090'] } } };
    expect(check(def, { metrics: 'localhost' }).errors).to.deep.equal(['metrics publishes 9090 on 0.0.0.0 but its exposure is localhost']);
  });
  it('address declared allows a bridge address and localhost, not all addresses', () => {
    const def = { services: { web: { ports: ['172.17.0.1:80:80', '127.0.0.1:81:81', '82:82'] } } };
    expect(check(def, { web: 'address' }).errors).to.deep.equal(['web publishes 82 on 0.0.0.0 but its exposure is address']);
  });
  it('localhost declared, an address published', () => {
    const def = { services: { web: { ports: ['172.17.0.1:80:80'] } } };
    expect(check(def, { web: 'localhost' }).errors).to.deep.equal(['web publishes 80 on 172.17.0.1 but its exposure is localhost']);
  });
  it('udp and ephemeral ports are named as such', () => {
    const def = { services: { t: { ports: ['6969:6969/udp', '8080'] } } };
    expect(check(def, { t: 'internal' }).errors).to.deep.equal([
      't publishes 6969/udp on 0.0.0.0 but its exposure is internal',
      't publishes 8080 (on a port Docker picks) on 0.0.0.0 but its exposure is internal',
    ]);
  });
  it('IPv6 any is public', () => {
    const def = { services: { t: { ports: ['[::]:80:80'] } } };
    expect(check(def, { t: 'localhost' }).errors).to.deep.equal(['t publishes 80 on :: but its exposure is localhost']);
  });
  it('per-port map: by container or host port, per protocol', () => {
    const p = { tracker: { '7070': 'public', '6969/udp': 'public', '1212': 'localhost' } };
    expect(check(stack, { ...p, metrics: 'localhost', db: 'internal' }).errors).to.deep.equal(['tracker publishes 1212 on 0.0.0.0 but its exposure is localhost']);
    const def = { services: { w: { ports: ['8080:80'] } } };
    expect(check(def, { w: { '8080': 'public' } }).errors).to.deep.equal([]);
    expect(check(def, { w: { '80': 'public' } }).errors).to.deep.equal([]);
    expect(check(def, { w: { '80/udp': 'public' } }).errors).to.deep.equal(['w publishes 8080 on 0.0.0.0 but its exposure policy does not name port 80 or 8080']);
  });
  it('per-port map with ranges', () => {
    const def = { services: { w: { ports: ['127.0.0.1:5000-5010:5000-5010'] } } };
    expect(check(def, { w: { '5005': 'localhost' } }).errors).to.deep.equal([]);
    expect(check(def, { w: { '5000-5010': 'internal' } }).errors).to.deep.equal(['w publishes 5000-5010 on 127.0.0.1 but its exposure is internal']);
  });
  it('network_mode: host must be declared host-network', () => {
    const def = { services: { n: { network_mode: 'host' } } };
    expect(check(def, { n: 'public' }).errors).to.deep.equal(['n uses network_mode: host (every port it listens on is on the host) but its exposure is public']);
    expect(check(def, { n: 'host-network' }).errors).to.deep.equal([]);
  });
  it('a service missing from the policy is a warning, an error under strict', () => {
    const r = check(stack, { tracker: 'public', metrics: 'localhost' });
    expect(r.errors).to.deep.equal([]);
    expect(r.warnings).to.deep.equal(['db is not in the exposure policy (it is internal)']);
    expect(check(stack, { tracker: 'public', db: 'internal', strict: true }).errors).to.deep.equal([
      'metrics is not in the exposure policy (it is localhost: 127.0.0.1:9090->9090/tcp)',
    ]);
  });
  it('a policy naming a service the project lacks is a warning', () => {
    expect(check(stack, { tracker: 'public', metrics: 'localhost', db: 'internal', cache: 'internal' }).warnings).to.deep.equal([
      'the exposure policy names cache, which is not a service of the project',
    ]);
  });
  it('no policy: nothing checked', () => expect(checkExposure(classifyDefinition(stack), undefined)).to.include({}).and.have.property('errors').that.is.empty);
});

describe('exposure: hardening findings', () => {
  const rules = (svc: Record<string, unknown>) => hardeningFindings({ services: { s: svc } }).map((f) => f.rule);
  const hardened = { image: 'app:1.2.3', user: '1000:1000', cap_drop: ['ALL'] };
  it('a hardened service has none', () => expect(rules(hardened)).to.deep.equal([]));
  it('image without tag, latest, develop are unpinned; a version or digest is pinned', () => {
    for (const image of ['app', 'app:latest', 'org/app:develop', 'registry:5000/app', 'ghcr.io/x/app:main']) expect(rules({ ...hardened, image }), image).to.deep.equal(['unpinned-image']);
    for (const image of ['app:1', 'registry:5000/app:2.1', 'app@sha256:abc', 'app:latest@sha256:abc']) expect(rules({ ...hardened, image }), image).to.deep.equal([]);
  });
  it('privileged', () => expect(rules({ ...hardened, privileged: true })).to.deep.equal(['privileged']));
  it('the Docker socket, short and long volume syntax', () => {
    expect(rules({ ...hardened, volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro'] })).to.deep.equal(['docker-socket']);
    expect(rules({ ...hardened, volumes: [{ type: 'bind', source: '/run/docker.sock', target: '/x' }] })).to.deep.equal(['docker-socket']);
    expect(rules({ ...hardened, volumes: ['./data:/data'] })).to.deep.equal([]);
  });
  it('no user, or root', () => {
    const { user: _u, ...noUser } = hardened;
    expect(rules(noUser)).to.deep.equal(['root-user']);
    expect(rules({ ...hardened, user: 'root' })).to.deep.equal(['root-user']);
    expect(rules({ ...hardened, user: 0 })).to.deep.equal(['root-user']);
  });
  it('no cap_drop', () => expect(rules({ ...hardened, cap_drop: [] })).to.deep.equal(['no-cap-drop']));
  it('a published data store, whatever the registry path; internal ones are fine', () => {
    for (const image of ['mysql:8.0', 'docker.io/library/postgres:16', 'bitnami/redis:7.2', 'mariadb:11', 'mongo:7']) {
      expect(rules({ ...hardened, image, ports: ['127.0.0.1:1:1'] }), image).to.deep.equal(['data-store-published']);
      expect(rules({ ...hardened, image, expose: ['1'] }), image).to.deep.equal([]);
    }
  });
  it('messages name the service', () => {
    expect(hardeningFindings({ services: { db: { image: 'mysql', ports: ['3306:3306'] } } }).map((f) => f.msg)).to.deep.equal([
      'db: image mysql is not pinned to a version (no tag means latest): pin a version tag or a digest',
      'db: runs as root unless the image says otherwise (no user:)',
      'db: keeps every default capability (no cap_drop: add cap_drop: [ALL] and cap_add what it needs)',
      'db: is a data store (mysql) and is published (0.0.0.0:3306->3306/tcp): keep it internal',
    ]);
  });
  it('parseImage', () => {
    expect(parseImage('registry:5000/org/app:1.2@sha256:ab')).to.deep.equal({ name: 'app', tag: '1.2', digest: 'sha256:ab' });
    expect(parseImage('registry:5000/app')).to.deep.equal({ name: 'app' });
  });
});

describe('exposure: the report compose-deploy runs', () => {
  const def = { services: { db: { image: 'mysql', ports: ['3306:3306'] } } };
  it('hardening: warn (default) adds findings to the warnings', () => {
    const r = exposureReport(def, policy({ db: 'public' }));
    expect(r.errors).to.deep.equal([]);
    expect(r.warnings).to.have.length(4);
  });
  it('hardening: error makes them errors', () => expect(exposureReport(def, policy({ db: 'public', hardening: 'error' })).errors).to.have.length(4));
  it('hardening: error turns each kind of finding into an error of its own', () => {
    const hardened = { image: 'app:1.2.3', user: '1000', cap_drop: ['ALL'] };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['latest', { image: 'app:latest' }, 's: image app:latest is not pinned to a version'],
      ['develop', { image: 'app:develop' }, 's: image app:develop is not pinned to a version'],
      ['no tag', { image: 'app' }, 's: image app is not pinned to a version (no tag means latest)'],
      ['privileged', { privileged: true }, 's: runs privileged'],
      ['docker socket', { volumes: ['/var/run/docker.sock:/var/run/docker.sock'] }, 's: mounts the Docker socket /var/run/docker.sock'],
      ['no user', { user: undefined }, 's: runs as root unless the image says otherwise (no user:)'],
      ['no cap_drop', { cap_drop: undefined }, 's: keeps every default capability'],
      ['published data store, even on localhost', { image: 'postgres:16', ports: ['127.0.0.1:5432:5432'] }, 's: is a data store (postgres) and is published (127.0.0.1:5432->5432/tcp)'],
    ];
    for (const [what, extra, msg] of cases) {
      const r = exposureReport({ services: { s: { ...hardened, ...extra } } }, policy({ s: 'public', hardening: 'error' }));
      expect(r.errors, what).to.have.length(1);
      expect(r.errors[0], what).to.include(msg);
      expect(r.warnings, what).to.deep.equal([]);
    }
  });
  it('hardening: off hides them, findings still listed', () => {
    const r = exposureReport(def, policy({ db: 'public', hardening: 'off' }));
    expect([...r.errors, ...r.warnings]).to.deep.equal([]);
    expect(r.findings).to.have.length(4);
  });
  it('no policy: findings are warnings', () => expect(exposureReport(def, undefined).warnings).to.have.length(4));
});

describe('exposure: the view compose renders', () => {
  it('keeps what the report reads (ports, expose, network_mode, image, user, privileged, volumes, cap_drop) and top-level volumes', () => {
    const svc = { image: 'a:1', build: '.', ports: ['1:1'], expose: ['2'], network_mode: 'host', user: '1', privileged: true, volumes: ['d:/d'], cap_drop: ['ALL'] };
    expect(exposureView({ version: '3.9', services: { s: { ...svc, environment: { A: 'x' }, command: 'c', entrypoint: 'e', labels: ['l'], secrets: ['s'], env_file: '.env' } }, volumes: { d: {} }, secrets: { s: {} }, networks: { n: {} } })).to.deep.equal({
      version: '3.9',
      services: { s: svc },
      volumes: { d: {} },
    });
    expect(exposureView(undefined)).to.deep.equal({ services: {} });
  });
});
