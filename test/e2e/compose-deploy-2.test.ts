/**
 * End to end, second part: compose-deploy on the shared lab's docker host (e2e2, Debian 12's
 * docker-compose 1.29), through the engine and SSH, with tsplay/busybox (no registry).
 *
 * The stack: web publishes `${WEB_PORT}:8080` (WEB_PORT from .env) and reads a `!secret`
 * variable from its environment; metrics publishes `${METRICS_BIND:-127.0.0.1}:9190:9090` and
 * bind-mounts metrics.conf, written by a copy task that notifies the handler
 * `compose-deploy: {services: [metrics], state: restarted}`; worker is internal.
 *
 * Proves: check mode with --diff on a fresh host (project_src created by an earlier task) lists
 * the work, changes nothing and prints no secret; ports written with variables are deployed and
 * classified as compose renders them; a changed bind-mounted config restarts only metrics through
 * the handler while compose-deploy itself reports ok; an .env that makes metrics public is
 * refused before anything is deployed, on a running project and on a fresh one; a service
 * removed from the definition is an orphan (warning) until remove_orphans removes it; a failed
 * `wait` names the service and shows its last health-check output.
 */
import { expect } from 'chai';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { loadImageIntoHost } from '../../src/lab/lab.js';
import { composeContainers, failures, removeComposeProjects } from '../helpers/compose.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e2';
const SRC = '/srv/tsplay-e2e-stack2';
const PROJECT = 'tsplay-e2e-stack2';
const FRESH = 'tsplay-e2e-fresh';
const WAIT = 'tsplay-e2e-wait';
const TOKEN = 'tok-e2e-s3cret-9f3a';

interface StackOptions {
  metricsConf?: string;
  env?: string;
  worker?: boolean;
  removeOrphans?: boolean;
  src?: string;
  project?: string;
}

const stack = (o: StackOptions = {}) => {
  const src = o.src ?? SRC;
  return `
- hosts: ${HOST}
  gather_facts: false
  vars:
    api_token: !secret ${TOKEN}
  tasks:
    - name: project folder
      file: {path: ${src}, state: directory, mode: "0755"}
    - name: env file
      copy: {dest: ${src}/.env, content: ${JSON.stringify(o.env ?? 'WEB_PORT=8180\n')}, mode: "0600"}
    - name: metrics config
      copy: {dest: ${src}/metrics.conf, content: ${JSON.stringify(o.metricsConf ?? 'scrape_interval=15s\n')}, mode: "0644"}
      notify: restart metrics
    - name: stack
      compose-deploy:
        project_src: ${src}
        project_name: ${o.project ?? PROJECT}
        definition:
          services:
            web:
              image: ${BUSYBOX_IMAGE}
              command: httpd -f -p 8080
              environment: {API_TOKEN: "{{ api_token }}"}
              ports: ["\${WEB_PORT}:8080"]
            metrics:
              image: ${BUSYBOX_IMAGE}
              command: httpd -f -p 9090
              ports: ["\${METRICS_BIND:-127.0.0.1}:9190:9090"]
              volumes: ["./metrics.conf:/etc/metrics.conf:ro"]
${o.worker === false ? '' : `            worker:\n              image: ${BUSYBOX_IMAGE}\n              command: httpd -f -p 7000\n              expose: ["7000"]\n`}        exposure: {web: public, metrics: localhost, worker: internal, hardening: off}
        remove_orphans: ${o.removeOrphans ?? false}
        pull: never
        wait: running
  handlers:
    - name: restart metrics
      compose-deploy: {project_name: ${o.project ?? PROJECT}, project_src: ${src}, services: [metrics], state: restarted}
`;
};

describe('compose-deploy, part 2: interpolated ports, bind-mounted config, orphans, wait (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  const containers = (project = PROJECT) => composeContainers(lab, HOST, project);
  const sh = async (cmd: string) => {
    const r = await lab.sh(HOST, cmd);
    if (r.code !== 0) throw new Error(`${HOST}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  };
  const reset = () => removeComposeProjects(lab, HOST, [PROJECT, FRESH, WAIT], [SRC, `/srv/${FRESH}`, `/srv/${WAIT}`]);

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    await sh('command -v docker-compose >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; }');
    await loadImageIntoHost(lab.name, HOST, BUSYBOX_IMAGE);
    await reset();
  });
  after(async () => {
    if (lab) await reset();
  });

  it('check mode with --diff on a fresh host: lists the work, changes nothing, prints no secret', async () => {
    const r = await lab.run(stack(), { check: true, diff: true });
    expect(failures(r)).to.deep.equal([]);
    const res = r.result('stack', HOST);
    expect(res.status).to.equal('changed');
    expect(res.changes).to.include.members([`create ${SRC}`, `write ${SRC}/docker-compose.yml`, 'create service metrics', 'create service web', 'create service worker']);
    expect(res.diffs?.map((d) => d.path)).to.deep.equal([`${SRC}/docker-compose.yml`]);
    expect(res.diffs![0]!.after).to.include('${WEB_PORT}:8080').and.include('API_TOKEN: ********');
    expect(JSON.stringify(r.events)).to.not.include(TOKEN);
    expect((await lab.sh(HOST, `test -e ${SRC}`)).code, 'project folder not created').to.not.equal(0);
    expect(await containers()).to.deep.equal({});
  });

  it('first run: ports written with .env variables are deployed as compose renders them', async () => {
    const r = await lab.run(stack());
    expect(failures(r)).to.deep.equal([]);
    expect(r.status('stack')).to.deep.equal({ [HOST]: 'changed' });
    expect(JSON.stringify(r.events)).to.not.include(TOKEN);
    const ports = await sh(`docker ps --filter label=com.docker.compose.project=${PROJECT} --format '{{.Label "com.docker.compose.service"}} {{.Ports}}' | sort`);
    expect(ports).to.include('metrics 127.0.0.1:9190->9090/tcp').and.include('web 0.0.0.0:8180->8080/tcp').and.match(/worker 7000\/tcp/);
    expect(await sh(`docker exec ${PROJECT}_metrics_1 cat /etc/metrics.conf`)).to.equal('scrape_interval=15s\n');
  });

  it('a changed bind-mounted config restarts only metrics, through the handler; compose-deploy reports ok', async () => {
    const before = await containers();
    const r = await lab.run(stack({ metricsConf: 'scrape_interval=5s\n' }));
    expect(failures(r)).to.deep.equal([]);
    expect(r.status('metrics config')).to.deep.equal({ [HOST]: 'changed' });
    expect(r.status('stack'), 'a bind mount content change is not a configuration change').to.deep.equal({ [HOST]: 'ok' });
    expect(r.result('restart metrics', HOST)).to.include({ status: 'changed' });
    expect(r.result('restart metrics', HOST).changes).to.deep.equal(['restart metrics']);
    const after = await containers();
    expect(after.metrics!.split(' ')[0], 'same container').to.equal(before.metrics!.split(' ')[0]);
    expect(after.metrics, 'started again').to.not.equal(before.metrics);
    expect(after.metrics).to.match(/ running$/);
    expect(after.web).to.equal(before.web);
    expect(after.worker).to.equal(before.worker);
    expect(await sh(`docker exec ${PROJECT}_metrics_1 cat /etc/metrics.conf`)).to.equal('scrape_interval=5s\n');
  });

  it('an .env that makes the localhost port public is refused before anything is deployed (running project)', async () => {
    const before = await containers();
    const r = await lab.run(stack({ metricsConf: 'scrape_interval=5s\n', env: 'WEB_PORT=8180\nMETRICS_BIND=0.0.0.0\n' }));
    expect(r.status('stack')).to.deep.equal({ [HOST]: 'failed' });
    expect(r.result('stack', HOST).msg).to.include('metrics publishes 9190 on 0.0.0.0 but its exposure is localhost');
    expect(await containers()).to.deep.equal(before);
    // back to the declared binding
    const back = await lab.run(stack({ metricsConf: 'scrape_interval=5s\n' }));
    expect(failures(back)).to.deep.equal([]);
    expect(back.status('stack')).to.deep.equal({ [HOST]: 'ok' });
  });

  it('an .env that makes the localhost port public is refused before anything is deployed (fresh project)', async () => {
    const src = `/srv/${FRESH}`;
    const r = await lab.run(stack({ src, project: FRESH, env: 'WEB_PORT=8181\nMETRICS_BIND=0.0.0.0\n' }));
    expect(r.status('stack')).to.deep.equal({ [HOST]: 'failed' });
    expect(r.result('stack', HOST).msg).to.include('metrics publishes 9190 on 0.0.0.0 but its exposure is localhost');
    expect((await lab.sh(HOST, `test -e ${src}/docker-compose.yml`)).code, 'no compose file written').to.not.equal(0);
    expect(await containers(FRESH)).to.deep.equal({});
  });

  it('a service removed from the definition is reported as an orphan, and removed with remove_orphans', async () => {
    const before = await containers();
    const conf = 'scrape_interval=5s\n';
    const removed = await lab.run(stack({ metricsConf: conf, worker: false }));
    expect(failures(removed)).to.deep.equal([]);
    expect((await containers()).worker, 'kept without remove_orphans').to.equal(before.worker);
    const again = await lab.run(stack({ metricsConf: conf, worker: false }));
    expect(failures(again)).to.deep.equal([]);
    expect(again.status('stack')).to.deep.equal({ [HOST]: 'ok' });
    // The warning: in the task's line, or as a warning event of the run.
    const warned = [again.result('stack', HOST).msg ?? '', ...again.events.flatMap((e) => (e.type === 'warning' ? [e.msg] : []))].join('\n');
    expect(warned).to.include(`orphan containers (services no longer in the configuration): ${PROJECT}_worker_1: set remove_orphans: true to remove them`);
    const r = await lab.run(stack({ metricsConf: conf, worker: false, removeOrphans: true }));
    expect(failures(r)).to.deep.equal([]);
    expect(r.result('stack', HOST).changes).to.deep.equal([`remove orphan container ${PROJECT}_worker_1 (service worker)`]);
    const after = await containers();
    expect(after).to.not.have.property('worker');
    expect(after.web).to.equal(before.web);
    expect(after.metrics).to.equal(before.metrics);
    const last = await lab.run(stack({ metricsConf: conf, worker: false, removeOrphans: true }));
    expect(last.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
  });

  it('a failed wait names the service and shows its last health-check output', async () => {
    const sick = `
            sick:
              image: ${BUSYBOX_IMAGE}
              command: httpd -f -p 8080
              healthcheck: {test: ["CMD-SHELL", "echo no answer on 8080 >&2; false"], interval: 1s, retries: 1}`;
    const r = await lab.run(`
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: wait healthy
      ignore_errors: true
      compose-deploy:
        project_src: /srv/${WAIT}
        definition:
          services:${sick}
        pull: never
        wait: healthy
        wait_timeout: 6
    - name: wait running
      compose-deploy:
        project_src: /srv/${WAIT}
        definition:
          services:${sick}
            crash:
              image: ${BUSYBOX_IMAGE}
              command: "false"
        services: [crash]
        pull: never
        wait: running
        wait_timeout: 4
`);
    const healthy = r.result('wait healthy', HOST);
    expect(healthy).to.include({ status: 'failed', ignored: true });
    expect(healthy.msg).to.include('wait until sick are healthy');
    expect(healthy.failure?.stderrTail).to.deep.equal(['service sick is not healthy after 6 s: container state running, health unhealthy', 'last health check output: "no answer on 8080\\n"']);
    const running = r.result('wait running', HOST);
    expect(running.status).to.equal('failed');
    expect(running.failure?.stderrTail).to.deep.equal(['service crash is not running after 4 s: container state exited, health none']);
  });
});
