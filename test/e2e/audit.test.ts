/**
 * End to end: `tsplay audit` on the shared lab. e2e2 (its own dockerd) gets ufw with
 * `default deny incoming` and only SSH allowed (install-ufw), a compose stack deployed by
 * compose-deploy with its exposure policy (web public on 8080, metrics on 127.0.0.1:9090, db
 * internal), a container started by hand with `docker run -p 8081:8081` outside any policy, and
 * a process of the host listening on 7070. e2e1 is the other host, outside.
 *
 * Proves: (a) from e2e1 only the Docker-published ports answer (8080, 8081) although ufw denies
 * incoming: the bypass, made explicit; the host's own 7070 is blocked by ufw; (b) `audit` gives
 * each port its class, the chain that decides (FORWARD/DOCKER-USER for published ports, INPUT
 * for sockets), the declared policy, and flags the hand-started public port, exit 3; (c) with
 * --probe it reports what answers from the controller; (d) the --json shape. Everything changed
 * on e2e2 is undone at the end (the lab is shared between suites).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { auditInventory, type AuditReport, type AuditRow } from '../../src/index.js';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { loadImageIntoHost } from '../../src/lab/lab.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e2';
const OTHER = 'e2e1';
const SRC = '/srv/tsplay-audit';
const PROJECT = 'tsplay-audit';
const ROGUE = 'tsplay-audit-rogue';
const CLI = join(import.meta.dirname, '../../src/cli/main.ts');

const PLAYBOOK = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: firewall
      install-ufw:
        default_incoming: deny
        rules: [{action: allow, port: 22/tcp, comment: ssh}]
    - name: stack
      compose-deploy:
        project_src: ${SRC}
        project_name: ${PROJECT}
        definition:
          services:
            web: {image: ${BUSYBOX_IMAGE}, command: httpd -f -p 8080, ports: ["8080:8080"]}
            metrics: {image: ${BUSYBOX_IMAGE}, command: httpd -f -p 9090, ports: ["127.0.0.1:9090:9090"]}
            db: {image: ${BUSYBOX_IMAGE}, command: httpd -f -p 3306, expose: ["3306"]}
        exposure: {web: public, metrics: localhost, db: internal}
        pull: never
        wait: running
`;

const failures = (r: LabRun) => r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.host}: ${e.result.msg ?? ''}`] : []));

describe('tsplay audit on the lab: Docker-published ports bypass ufw (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  let playbook: string;

  const sh = async (host: string, cmd: string) => {
    const r = await lab.sh(host, cmd);
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  };
  const answers = async (port: number) => (await lab.sh(OTHER, `nc -z -w 2 ${lab.ip(HOST)} ${port}`)).code === 0;
  const reset = () =>
    lab.sh(
      HOST,
      `docker rm -f ${ROGUE} >/dev/null 2>&1; ids=$(docker ps -aq --filter label=com.docker.compose.project=${PROJECT}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
        `nets=$(docker network ls -q --filter label=com.docker.compose.project=${PROJECT}); [ -z "$nets" ] || docker network rm $nets >/dev/null; rm -rf ${SRC}; ` +
        `[ -f /run/tsplay-audit-nc.pid ] && kill $(cat /run/tsplay-audit-nc.pid) 2>/dev/null; rm -f /run/tsplay-audit-nc.pid; ` +
        'if command -v ufw >/dev/null; then ufw --force reset >/dev/null; ufw --force disable >/dev/null; fi; ' +
        'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ufw >/dev/null 2>&1; rm -rf /etc/ufw; true',
    );
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'audit', '-i', lab.inventoryPath, '--limit', HOST, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const row = (report: AuditReport, port: number | null, pred: (r: AuditRow) => boolean = () => true) => {
    const rows = report.hosts[0]!.rows.filter((r) => r.port === port && r.proto === 'tcp' && pred(r));
    expect(rows, `one row for port ${port} in ${JSON.stringify(report.hosts[0]!.rows.map((r) => `${r.port}/${r.proto} ${r.class}`))}`).to.have.length(1);
    return rows[0]!;
  };

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    const t0 = Date.now();
    await sh(HOST, 'command -v docker-compose >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; }');
    await loadImageIntoHost(lab.name, HOST, BUSYBOX_IMAGE);
    await reset();
    const r = await lab.run(PLAYBOOK);
    expect(failures(r)).to.deep.equal([]);
    playbook = join(r.dir, 'playbook.yml');
    await sh(HOST, `docker run -d --name ${ROGUE} -p 8081:8081 ${BUSYBOX_IMAGE} httpd -f -p 8081 >/dev/null`);
    // A process of the host itself on 7070 (ufw applies to it).
    await sh(HOST, 'nohup nc -lk -p 7070 >/dev/null 2>&1 </dev/null & echo $! > /run/tsplay-audit-nc.pid; sleep 0.5');
    console.log(`      [ufw, stack, rogue container and listener on ${HOST} in ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });
  after(async () => {
    if (lab) await reset();
  });

  it('(a) from the other host only the Docker-published ports answer although ufw denies incoming', async () => {
    expect(await sh(HOST, 'ufw status verbose')).to.match(/Status: active[\s\S]*Default: deny \(incoming\)/);
    expect(await answers(8080), 'web, published on 0.0.0.0: bypasses ufw').to.equal(true);
    expect(await answers(8081), 'the hand-started container: bypasses ufw').to.equal(true);
    expect(await answers(22), 'ssh, allowed by ufw').to.equal(true);
    expect(await answers(7070), "the host's own listener: blocked by ufw").to.equal(false);
    expect(await answers(9090), 'metrics on 127.0.0.1').to.equal(false);
    expect(await answers(3306), 'db, not published').to.equal(false);
  });

  it('(b) audit: classes, the deciding chain, the declared policy, and the undeclared public port', async () => {
    const t0 = Date.now();
    const report = await auditInventory({ inventory: [lab.inventoryPath], limit: HOST, playbooks: [playbook] });
    console.log(`      [audit of ${HOST} in ${((Date.now() - t0) / 1000).toFixed(2)} s]`);
    expect(report.hosts.map((h) => [h.host, h.error])).to.deep.equal([[HOST, undefined]]);

    const web = row(report, 8080);
    expect(web).to.deep.include({ class: 'public', kind: 'docker', undeclared: false });
    expect(web.container).to.deep.include({ project: PROJECT, service: 'web', target: '8080/tcp' });
    expect(web.firewall.admits).to.equal('yes');
    expect(web.firewall.path).to.equal('FORWARD');
    expect(web.firewall.reason).to.include('bypasses ufw (deny incoming)');
    expect(web.declared?.level).to.equal('public');

    const metrics = row(report, 9090);
    expect(metrics).to.deep.include({ class: 'localhost', address: '127.0.0.1', undeclared: false });
    expect(metrics.firewall.admits).to.equal('no');
    expect(metrics.declared?.level).to.equal('localhost');

    const db = row(report, null, (r) => r.container?.service === 'db');
    expect(db).to.deep.include({ class: 'internal', undeclared: false });
    expect(db.container?.target).to.equal('3306/tcp');
    expect(db.declared?.level).to.equal('internal');

    const rogue = row(report, 8081);
    expect(rogue).to.deep.include({ class: 'public', kind: 'docker', undeclared: true, declared: null });
    expect(rogue.container?.name).to.equal(ROGUE);
    expect(rogue.firewall.admits).to.equal('yes');

    const ssh = row(report, 22);
    expect(ssh).to.deep.include({ class: 'public', kind: 'socket', undeclared: false });
    expect(ssh.firewall).to.deep.include({ admits: 'yes', path: 'INPUT', reason: 'ufw: allow 22/tcp' });

    const nc = row(report, 7070);
    expect(nc).to.deep.include({ class: 'public', kind: 'socket', undeclared: false, declared: null });
    expect(nc.firewall).to.deep.include({ admits: 'no', path: 'INPUT', reason: 'ufw: default deny incoming' });

    expect(report.undeclared).to.equal(1);
  });

  it('(b) the CLI prints the table and exits 3 on the undeclared exposure', () => {
    const r = cli(playbook);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(3);
    expect(r.stdout).to.match(/8081\/tcp\s+0\.0\.0\.0.*public\s+tsplay-audit-rogue -> 8081\/tcp\s+yes\s+-\s+UNDECLARED/);
    expect(r.stdout).to.match(/8080\/tcp\s+0\.0\.0\.0.*public\s+\S+ tsplay-audit\/web -> 8080\/tcp\s+yes\s+public\s*$/m);
    expect(r.stdout).to.include('1 port(s) reachable from outside but not declared, on 1 host(s)');
  });

  it('(c) --probe reports what answers from the controller', async () => {
    const report = await auditInventory({ inventory: [lab.inventoryPath], limit: HOST, playbooks: [playbook], probe: true });
    expect(row(report, 8080).probe).to.equal('open');
    expect(row(report, 8081).probe).to.equal('open');
    expect(row(report, 22).probe).to.equal('open');
    expect(row(report, 7070).probe).to.equal('timeout');
    expect(row(report, 9090).probe).to.equal('not probed');
  });

  it('(d) --json: one document with hosts, rows and counts; still exit 3', () => {
    const r = cli(playbook, '--json', '--probe');
    expect(r.code).to.equal(3);
    const doc = JSON.parse(r.stdout) as AuditReport;
    expect(Object.keys(doc).sort()).to.deep.equal(['hosts', 'probed', 'undeclared', 'unreadable']);
    expect(doc).to.deep.include({ undeclared: 1, unreadable: 0, probed: true });
    expect(doc.hosts[0]).to.include.keys('host', 'address', 'rows', 'notes');
    const web = doc.hosts[0]!.rows.find((x) => x.port === 8080)!;
    expect(Object.keys(web).sort()).to.deep.equal(['address', 'class', 'container', 'declared', 'firewall', 'kind', 'port', 'probe', 'proto', 'undeclared', ...(web.process ? ['process'] : [])].sort());
  });

  it('without the playbook nothing is declared but SSH: every published public port is flagged', () => {
    const r = cli('--json');
    expect(r.code).to.equal(3);
    const doc = JSON.parse(r.stdout) as AuditReport;
    expect(doc.hosts[0]!.rows.filter((x) => x.undeclared).map((x) => x.port).sort()).to.deep.equal([8080, 8081]);
  });
});
