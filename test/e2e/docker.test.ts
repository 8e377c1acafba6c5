/**
 * End to end on the shared lab's Docker host (e2e2, its own dockerd), through the engine and SSH:
 *
 * roles/docker: converges a host whose image already has docker.io and a daemon.json with the
 * vfs storage driver: installs docker-compose, merges the daemon settings (ip 127.0.0.1, rotated
 * json-file logs) while keeping "storage-driver", restarts dockerd once through the handler, puts
 * a user in the docker group; the running dockerd has the settings; the second run and check
 * mode change nothing.
 *
 * compose-segmentation: the reference stack (templates/segmented-stack, rendered with its
 * defaults) started by hand with `docker-compose up` proves its matrix - tracker with db and
 * metrics, metrics with dashboard, nothing else - by name and by address, in check mode too; a
 * deliberately wrong expectation fails naming the pair; a container attached to another network
 * by hand (drift) fails the declared expectation.
 *
 * The suite puts back what it changed (daemon.json, the stack, the user), restarting dockerd.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadImageIntoHost } from '../../src/lab/lab.js';
import { renderTemplate } from '../../src/playbook/templates.js';
import { LAB_UP_TIMEOUT_MS, roleFiles, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e2';
const PROJECT = 'segstack';
const TEMPLATE = join(import.meta.dirname, '../../templates/segmented-stack/docker-compose.yml.ejs');
const STACK_DEFAULTS = {
  segmented_stack_images: { tracker: 'tsplay/busybox:latest', dashboard: 'tsplay/busybox:latest', metrics: 'tsplay/busybox:latest', db: 'tsplay/busybox:latest' },
  segmented_stack_commands: {},
  segmented_stack_ports: { tracker_http: 7070, tracker_api: 1212, dashboard: 3000, dashboard_published: 3100, metrics: 9090, db: 3306 },
};
/** The intended flows of seeds 000/001, both ways (a shared network has no direction). */
const EXPECT = { tracker: ['db', 'metrics'], db: ['tracker'], metrics: ['tracker', 'dashboard'], dashboard: ['metrics'] };

const failures = (r: LabRun) => r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.host}: ${e.result.msg ?? ''}`] : []));
const changedTasks = (r: LabRun) => {
  const names = new Map<number, string>();
  const out: string[] = [];
  for (const e of r.events) {
    if (e.type === 'task:start') names.set(e.id, e.name);
    if (e.type === 'task:host' && e.result.status === 'changed') out.push(names.get(e.id)!);
  }
  return out;
};
const secs = (r: LabRun) => (r.summary.durationMs / 1000).toFixed(1);

describe('Docker on a host: roles/docker and compose-segmentation (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  let originalDaemonJson: string | undefined;
  const times: string[] = [];

  async function sh(cmd: string): Promise<string> {
    const r = await lab.sh(HOST, cmd);
    if (r.code !== 0) throw new Error(`${HOST}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    await loadImageIntoHost(lab.name, HOST);
    const r = await lab.sh(HOST, 'cat /etc/docker/daemon.json');
    originalDaemonJson = r.code === 0 ? r.stdout : undefined;
  });

  after(async function () {
    this.timeout(3 * 60_000);
    if (!lab) return;
    await lab.sh(HOST, `cd /root/${PROJECT} 2>/dev/null && docker-compose -p ${PROJECT} down -t 1 >/dev/null 2>&1; rm -rf /root/${PROJECT}; userdel -r dockertest 2>/dev/null; true`);
    if (originalDaemonJson !== undefined) {
      await lab.sh(HOST, 'cat > /etc/docker/daemon.json && systemctl restart docker', { input: originalDaemonJson });
    }
    console.log(`      [docker: ${times.join('; ')}]`);
  });

  describe('roles/docker', () => {
    const PLAY = `
- name: docker role
  hosts: ${HOST}
  become: true
  pre_tasks:
    - name: A user for the docker group
      user: {name: dockertest}
  roles:
    - role: docker
      docker_users: [dockertest]
      docker_default_bind_ip: 127.0.0.1
      docker_log_driver: json-file
      docker_log_max_size: 10m
      docker_log_max_file: 3
`;
    const files = roleFiles('docker');

    it('converges: compose installed, daemon settings merged (storage driver kept), dockerd restarted once, user in the group', async () => {
      const startedBefore = (await sh('systemctl show -p ActiveEnterTimestampMonotonic --value docker')).trim();
      const r = await lab.run(PLAY, { files });
      times.push(`role first run ${secs(r)} s`);
      expect(failures(r)).to.deep.equal([]);
      const changed = changedTasks(r);
      expect(changed).to.include.members(['daemon.json settings', 'restart docker', 'Users in the docker group']);
      expect(changed.filter((t) => t === 'restart docker')).to.have.length(1);

      const daemon = JSON.parse(await sh('cat /etc/docker/daemon.json')) as Record<string, unknown>;
      expect(daemon).to.deep.equal({ 'storage-driver': 'vfs', ip: '127.0.0.1', 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } });
      expect((await sh("docker info --format '{{.Driver}} {{.LoggingDriver}}'")).trim()).to.equal('vfs json-file');
      expect((await sh('docker network inspect bridge --format \'{{index .Options "com.docker.network.bridge.host_binding_ipv4"}}\'')).trim()).to.equal('127.0.0.1');
      expect((await sh('systemctl show -p ActiveEnterTimestampMonotonic --value docker')).trim()).to.not.equal(startedBefore);
      expect(await sh('docker-compose version --short')).to.match(/^\d+\.\d+/);
      expect((await sh('id -nG dockertest')).split(/\s+/)).to.include('docker');
    });

    it('second run changes nothing, and neither does check mode', async () => {
      const again = await lab.run(PLAY, { files });
      times.push(`role converged ${secs(again)} s`);
      expect(failures(again)).to.deep.equal([]);
      expect(changedTasks(again)).to.deep.equal([]);
      const check = await lab.run(PLAY, { files, check: true });
      times.push(`role check ${secs(check)} s`);
      expect(failures(check)).to.deep.equal([]);
      expect(changedTasks(check)).to.deep.equal([]);
    });
  });

  describe('compose-segmentation on the reference stack, started by hand with docker-compose', () => {
    before(async function () {
      this.timeout(5 * 60_000);
      const compose = await renderTemplate(TEMPLATE, STACK_DEFAULTS);
      await lab.sh(HOST, `mkdir -p /root/${PROJECT} && cat > /root/${PROJECT}/docker-compose.yml`, { input: compose });
      // docker-compose comes with roles/docker (above); installed here too when this block runs alone.
      await sh('command -v docker-compose >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q docker-compose >/dev/null; }');
      await sh(`cd /root/${PROJECT} && docker-compose -p ${PROJECT} up -d 2>&1`);
    });

    const prove = (params: Record<string, unknown>, check = false) =>
      lab.run(
        `
- name: segmentation
  hosts: ${HOST}
  become: true
  gather_facts: false
  tasks:
    - name: Prove the segmentation
      compose-segmentation: ${JSON.stringify({ project_name: PROJECT, ...params })}
      register: seg
    - name: The registered matrix
      assert:
        that:
          - "seg.deviations.length === 0"
          - "seg.services.map((s) => s.service).join(',') === 'dashboard,db,metrics,tracker'"
          - "seg.services.find((s) => s.service === 'tracker').ports.join(',') === '1212,7070'"
          - "seg.services.find((s) => s.service === 'tracker').networks.join(',') === '${PROJECT}_database,${PROJECT}_metrics'"
          - "seg.matrix.length === 12"
          - "seg.matrix.filter((m) => m.reachable).map((m) => m.from + '>' + m.to).sort().join(' ') === 'dashboard>metrics db>tracker metrics>dashboard metrics>tracker tracker>db tracker>metrics'"
          - "seg.matrix.every((m) => m.probes.some((p) => p.via === 'name') && m.probes.some((p) => p.via === 'ip'))"
`,
        { check },
      );

    it('proves the matrix the networks define: by name and by address, shared pairs connect, the others do not', async () => {
      const r = await prove({});
      times.push(`segmentation proof ${(r.result('Prove the segmentation', HOST).durationMs / 1000).toFixed(1)} s`);
      expect(failures(r)).to.deep.equal([]);
      const msg = r.result('Prove the segmentation', HOST).msg ?? '';
      expect(msg).to.include(`compose project ${PROJECT}: 12 service pairs`);
      expect(msg).to.include('0 deviations');
      expect(msg).to.match(/^dashboard\s+-\s+blocked\s+connects\s+blocked$/m);
      expect(r.status('Prove the segmentation')).to.deep.equal({ [HOST]: 'ok' });
    });

    it('proves the declared flows of seed 001, in check mode too', async () => {
      const r = await prove({ expect: EXPECT }, true);
      expect(failures(r)).to.deep.equal([]);
      expect(r.status('Prove the segmentation')).to.deep.equal({ [HOST]: 'ok' });
    });

    it('fails on a deliberately wrong expectation, naming the pair, port and why', async () => {
      const r = await prove({ expect: { ...EXPECT, dashboard: ['metrics', 'db'] } });
      expect(r.status('Prove the segmentation')).to.deep.equal({ [HOST]: 'failed' });
      const msg = r.result('Prove the segmentation', HOST).msg ?? '';
      expect(msg).to.include('DEVIATION: dashboard -> db:3306 by name: unresolved, expected to connect (declared reachable)');
      // Its address on the database network stays blocked as expected: dashboard is not on it.
      expect(msg).to.include('1 deviation\n');
    });

    it('catches drift: db attached to the visualization network by hand fails the declared flows', async () => {
      const db = (await sh(`docker ps -q --filter label=com.docker.compose.project=${PROJECT} --filter label=com.docker.compose.service=db`)).trim();
      await sh(`docker network connect --alias db ${PROJECT}_visualization ${db}`);
      try {
        const r = await prove({ expect: EXPECT });
        expect(r.status('Prove the segmentation')).to.deep.equal({ [HOST]: 'failed' });
        const msg = r.result('Prove the segmentation', HOST).msg ?? '';
        expect(msg).to.match(/DEVIATION: dashboard -> db:3306 by name \([\d.]+\): open, expected blocked \(not declared reachable \(although they share segstack_visualization\)\)/);
        expect(msg).to.match(/DEVIATION: metrics -> db:3306/);
      } finally {
        await sh(`docker network disconnect ${PROJECT}_visualization ${db}`);
      }
    });
  });
});
