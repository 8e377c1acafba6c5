/**
 * End to end: compose-deploy on the shared lab's docker host (e2e2: its own dockerd, Debian 12's
 * docker-compose 1.29), through the engine and SSH. The stack is three busybox httpd services
 * from tsplay/busybox (loaded from the controller: no registry): web public on 8080 with a value
 * from .env, metrics on 127.0.0.1:9090, db internal (expose 3306) reading a Docker secret.
 *
 * Proves: check mode before the first run lists everything and changes nothing; the first run
 * deploys an ordinary compose project; the second run changes nothing and keeps the container
 * ids and start times; an .env change recreates only the service using it; a container removed
 * by hand is restored (the others untouched); state: restarted restarts only the given service;
 * a policy violation deploys nothing; a missing image with pull: never fails first, naming it.
 * Prints the measured times of first deploy / converged run / check run.
 */
import { expect } from 'chai';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { loadImageIntoHost } from '../../src/lab/lab.js';
import { composeContainers, failures, removeComposeProjects } from '../helpers/compose.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e2';
const SRC = '/srv/tsplay-e2e-stack';
const PROJECT = 'tsplay-e2e-stack';

const stack = (greeting: string, extra = '') => `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: project folder
      file: {path: ${SRC}, state: directory, mode: "0755"}
    - name: env file
      copy: {dest: ${SRC}/.env, content: "GREETING=${greeting}\\n", mode: "0600"}
    - name: stack
      compose-deploy:
        project_src: ${SRC}
        project_name: ${PROJECT}
        definition:
          services:
            web:
              image: ${BUSYBOX_IMAGE}
              command: httpd -f -p 8080
              environment: {GREETING: "\${GREETING}"}
              ports: ["8080:8080"]
              networks: [front, back]
            metrics:
              image: ${BUSYBOX_IMAGE}
              command: httpd -f -p 9090
              ports: ["127.0.0.1:9090:9090"]
              networks: [front]
            db:
              image: ${BUSYBOX_IMAGE}
              command: httpd -f -p 3306
              expose: ["3306"]
              networks: [back]
              secrets: [db_password]
          networks: {front: {}, back: {}}
        secrets: {db_password: "e2e-s3cret-pw"}
        exposure: {web: public, metrics: localhost, db: internal, strict: true}
        pull: never
        wait: running
${extra}`;

describe('compose-deploy on a lab host with its own Docker engine (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  const times: Record<string, number> = {};

  async function sh(cmd: string): Promise<string> {
    const r = await lab.sh(HOST, cmd);
    if (r.code !== 0) throw new Error(`${HOST}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }
  const containers = (project = PROJECT) => composeContainers(lab, HOST, project);
  const timed = async (label: string, f: () => Promise<LabRun>) => {
    const t0 = Date.now();
    const r = await f();
    times[label] = (Date.now() - t0) / 1000;
    return r;
  };
  const reset = () => removeComposeProjects(lab, HOST, [PROJECT, 'tsplay-e2e-bad', 'tsplay-e2e-noimage'], [SRC, '/srv/tsplay-e2e-bad', '/srv/tsplay-e2e-noimage']);

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    const t0 = Date.now();
    await sh('command -v docker-compose >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; }');
    await loadImageIntoHost(lab.name, HOST, BUSYBOX_IMAGE);
    console.log(`      [docker-compose and ${BUSYBOX_IMAGE} on ${HOST} in ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
    await reset();
  });
  after(async () => {
    console.log(`      [compose-deploy times on the lab: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}]`);
    if (lab) await reset();
  });

  it('check mode before the first run lists networks, services and files, and changes nothing', async () => {
    const r = await timed('check (fresh host)', () => lab.run(stack('hello'), { check: true, diff: true }));
    expect(failures(r)).to.deep.equal([]);
    expect(r.result('stack', HOST).changes).to.deep.equal([
      `create ${SRC}`,
      `write ${SRC}/docker-compose.yml`,
      `write secret db_password (${SRC}/secrets/db_password, mode 0400)`,
      'create service db',
      'create service metrics',
      'create service web',
      `create network ${PROJECT}_back`,
      `create network ${PROJECT}_front`,
    ]);
    expect(JSON.stringify(r.result('stack', HOST))).to.not.include('e2e-s3cret-pw');
    expect((await lab.sh(HOST, `test -e ${SRC}`)).code, 'project folder not created').to.not.equal(0);
    expect(await containers()).to.deep.equal({});
  });

  it('first run: an ordinary compose project, ports bound as declared, the secret readable at /run/secrets', async () => {
    const r = await timed('first deploy', () => lab.run(stack('hello')));
    expect(failures(r)).to.deep.equal([]);
    expect(r.status('stack')).to.deep.equal({ [HOST]: 'changed' });
    const c = await containers();
    expect(Object.keys(c).sort()).to.deep.equal(['db', 'metrics', 'web']);
    for (const v of Object.values(c)) expect(v).to.match(/ running$/);
    // compose itself sees the project
    expect(await sh(`cd ${SRC} && docker-compose -p ${PROJECT} ps --services | sort`)).to.equal('db\nmetrics\nweb\n');
    expect((await sh(`docker network ls --filter label=com.docker.compose.project=${PROJECT} --format '{{.Name}}' | sort`)).trim().split('\n')).to.deep.equal([
      `${PROJECT}_back`,
      `${PROJECT}_front`,
    ]);
    const ports = await sh(`docker ps --filter label=com.docker.compose.project=${PROJECT} --format '{{.Label "com.docker.compose.service"}} {{.Ports}}' | sort`);
    expect(ports).to.include('metrics 127.0.0.1:9090->9090/tcp').and.include('web 0.0.0.0:8080->8080/tcp').and.match(/db 3306\/tcp/);
    expect((await lab.sh('e2e1', `nc -z -w 3 ${lab.ip(HOST)} 8080`)).code, 'web answers from the other host').to.equal(0);
    expect((await lab.sh('e2e1', `nc -z -w 3 ${lab.ip(HOST)} 9090`)).code, 'metrics does not').to.not.equal(0);
    expect(await sh(`stat -c %a ${SRC}/secrets/db_password`)).to.equal('400\n');
    expect(await sh(`docker exec ${PROJECT}_db_1 cat /run/secrets/db_password`)).to.equal('e2e-s3cret-pw');
    expect(await sh(`docker exec ${PROJECT}_web_1 sh -c 'echo $GREETING'`)).to.equal('hello\n');
  });

  it('second run: changed=0, same container ids and start times', async () => {
    const before = await containers();
    const r = await timed('converged', () => lab.run(stack('hello')));
    expect(failures(r)).to.deep.equal([]);
    expect(r.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
    expect(await containers()).to.deep.equal(before);
  });

  it('an .env change recreates only the service using it; its value is never printed', async () => {
    const before = await containers();
    const r = await lab.run(stack('bonjour'), { diff: true });
    expect(failures(r)).to.deep.equal([]);
    expect(r.result('stack', HOST).changes).to.deep.equal(['recreate service web (configuration changed)']);
    const res = r.result('stack', HOST);
    expect(JSON.stringify(res)).to.not.include('bonjour').and.not.include('e2e-s3cret-pw');
    expect(res.diffs?.map((d) => d.path)).to.deep.equal([`${SRC} (compose config)`]);
    expect(res.diffs![0]!.after).to.match(/GREETING: <hidden [0-9a-f]{8}>/);
    const after = await containers();
    expect(after.db).to.equal(before.db);
    expect(after.metrics).to.equal(before.metrics);
    expect(after.web).to.not.equal(before.web);
    expect(await sh(`docker exec ${PROJECT}_web_1 sh -c 'echo $GREETING'`)).to.equal('bonjour\n');
  });

  it('a container removed by hand is restored; the others keep theirs', async () => {
    const before = await containers();
    await sh(`docker rm -f ${PROJECT}_db_1`);
    const r = await lab.run(stack('bonjour'));
    expect(failures(r)).to.deep.equal([]);
    expect(r.result('stack', HOST).changes).to.deep.equal(['create service db']);
    const after = await containers();
    expect(after.db).to.match(/ running$/);
    expect(after.web).to.equal(before.web);
    expect(after.metrics).to.equal(before.metrics);
  });

  it('state: restarted restarts only the given service (the handler form)', async () => {
    const before = await containers();
    const r = await lab.run(`
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: restart metrics
      compose-deploy: {project_src: ${SRC}, project_name: ${PROJECT}, files: [docker-compose.yml], services: [metrics], state: restarted}
`);
    expect(failures(r)).to.deep.equal([]);
    expect(r.result('restart metrics', HOST).changes).to.deep.equal(['restart metrics']);
    const after = await containers();
    expect(after.metrics!.split(' ')[0]).to.equal(before.metrics!.split(' ')[0]);
    expect(after.metrics).to.not.equal(before.metrics);
    expect(after.web).to.equal(before.web);
    expect(after.db).to.equal(before.db);
  });

  const single = (project: string, service: string, extra: Record<string, unknown>) => `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: single
      compose-deploy:
        project_src: /srv/${project}
        definition: {services: {${service}: ${JSON.stringify({ image: BUSYBOX_IMAGE, command: 'httpd -f -p 3306', ...extra })}}}
        exposure: {${service}: internal}
        pull: never
`;

  it('a policy violation deploys nothing and names the service, port and binding', async () => {
    const r = await lab.run(single('tsplay-e2e-bad', 'db', { ports: ['3306:3306'] }));
    expect(r.status('single')).to.deep.equal({ [HOST]: 'failed' });
    expect(r.result('single', HOST).msg).to.include('db publishes 3306 on 0.0.0.0 but its exposure is internal');
    expect((await lab.sh(HOST, 'test -e /srv/tsplay-e2e-bad')).code, 'nothing written').to.not.equal(0);
    expect(await containers('tsplay-e2e-bad')).to.deep.equal({});
  });

  it('pull: never with an image absent from the host fails before anything changes, naming it', async () => {
    const r = await lab.run(single('tsplay-e2e-noimage', 'db', { image: 'tsplay/not-here:1.0', expose: ['3306'] }));
    expect(r.status('single')).to.deep.equal({ [HOST]: 'failed' });
    expect(r.result('single', HOST).msg).to.include('image tsplay/not-here:1.0 is not on the host');
    expect((await lab.sh(HOST, 'test -e /srv/tsplay-e2e-noimage')).code, 'nothing written').to.not.equal(0);
    expect(await containers('tsplay-e2e-noimage')).to.deep.equal({});
  });
});
