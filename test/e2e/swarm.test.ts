/**
 * End to end: docker-swarm-init on a lab of its own, three hosts with their own dockerd (sw1 the
 * manager, sw2 and sw3 workers), driven by the built CLI (dist/cli/main.js) over SSH:
 *
 * - check mode on the fresh hosts plans the gwbridge, the init, the overlay and the joins
 *   ("would join once the manager is initialized"), changes nothing, and exits 3 with
 *   --fail-on-change;
 * - the converge builds the swarm with the join token handed over in the same run: three nodes
 *   Ready with the right roles, docker_gwbridge on every node with the declared subnet and
 *   enable_icc=false, the encrypted overlay with its subnet;
 * - the second run changes nothing, and check mode after it finds nothing;
 * - the join token is in no output: plain, verbose and JSON, including a `debug: var` of the
 *   registered result;
 * - compose-deploy mode: stack on the manager: 3 replicas of tsplay/busybox httpd published with
 *   mode: host (no IPVS here: no ingress mesh) answer on every node's address from another lab
 *   host; the second run changes nothing and check mode finds nothing; a change to one service's
 *   definition updates that service only (the other keeps its tasks);
 * - a node that joined another swarm (by hand) is refused with a clear message, the rest is ok.
 *
 * roles/swarm passes `tsplay test swarm` (converge, idempotence, check mode, verify) on a lab of
 * its own (tests/lab.yml: one manager, two workers), with no join token in its output.
 * roles/stack passes `tsplay test stack` (a one-node swarm, then the stack with its exposure
 * policy, verified by its replicas and its published port).
 *
 * The labs are named per process (swarm-<pid>, swarm-role-<pid>) and taken down in `after`.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tryRun, type RunResult } from '../../src/lab/exec.js';
import { labDown, labUp, type LabUpResult } from '../../src/lab/lab.js';
import { validateLabSpec } from '../../src/lab/spec.js';
import { LAB_UP_TIMEOUT_MS } from '../helpers/lab.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const SPEC = validateLabSpec({
  name: `swarm-${process.pid}`,
  hosts: [
    // Every node runs stack tasks: the image is on every engine (no registry).
    { name: 'sw1', groups: ['managers'], docker: true, images: ['tsplay/busybox'] },
    { name: 'sw2', groups: ['workers'], docker: true, images: ['tsplay/busybox'] },
    { name: 'sw3', groups: ['workers'], docker: true, images: ['tsplay/busybox'] },
  ],
});

const GWBRIDGE = '{subnet: 10.81.10.0/24, gateway: 10.81.10.1, enable_icc: false, enable_ip_masquerade: false}';
const PLAYBOOK = `
- name: Swarm manager
  hosts: managers
  gather_facts: false
  tasks:
    - name: Initialize the swarm
      docker-swarm-init:
        advertise_addr: "{{ ansible_host }}"
        default_addr_pool: [10.90.0.0/16]
        subnet_size: 26
        gwbridge: ${GWBRIDGE}
        networks:
          - {name: backend, encrypted: true, subnet: 10.81.30.0/24, gateway: 10.81.30.2, attachable: true, labels: {tier: backend}}
      register: swarm
    - name: Show the registered result
      debug: {var: swarm}

- name: Swarm workers
  hosts: workers
  gather_facts: false
  tasks:
    - name: Join the swarm
      docker-swarm-init:
        state: join
        advertise_addr: "{{ ansible_host }}"
        join_token: "{{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}"
        remote_addrs: ["{{ hostvars[groups.managers[0]].ansible_host }}"]
        gwbridge: ${GWBRIDGE}
`;

/** A stack on the manager: httpd on every node (mode: host), and a second service to change. */
const stackPlaybook = (idleSeconds: number) => `
- name: Stack
  hosts: managers
  gather_facts: false
  tasks:
    - name: Deploy the web stack
      compose-deploy:
        mode: stack
        project_src: /srv/web
        project_name: web
        definition:
          version: "3.8"
          services:
            httpd:
              image: tsplay/busybox:latest
              command: [httpd, -f, -p, "8080", -h, /etc]
              ports: [{target: 8080, published: 8080, mode: host}]
              deploy: {replicas: 3, endpoint_mode: dnsrr, placement: {max_replicas_per_node: 1}}
            idle:
              image: tsplay/busybox:latest
              command: [sleep, "${idleSeconds}"]
        exposure: {httpd: public, idle: internal, hardening: off}
        prune: true
        wait: running
        wait_timeout: 120
`;

interface JsonEvent {
  type: string;
  id?: number;
  name?: string;
  result?: { host: string; status: string; msg?: string; changes?: string[] };
  hosts?: Record<string, { ok: number; changed: number; failed: number }>;
}

describe('docker-swarm-init (end to end, a lab of three Docker hosts)', function () {
  this.timeout(10 * 60_000);
  let lab: LabUpResult;
  let dir: string;
  /** Everything the CLI printed in this suite, for the token check. */
  const printed: string[] = [];
  const times: string[] = [];

  const tsplay = (...args: string[]) => play('site.yml', ...args);

  async function play(file: string, ...args: string[]): Promise<RunResult & { seconds: number }> {
    const t0 = Date.now();
    const r = await tryRun(process.execPath, [CLI, 'run', join(dir, file), '-i', lab.inventoryPath, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
      timeoutMs: 5 * 60_000,
    });
    printed.push(r.stdout, r.stderr);
    return { ...r, seconds: (Date.now() - t0) / 1000 };
  }

  async function sh(host: string, cmd: string): Promise<string> {
    const h = lab.hosts.find((x) => x.name === host)!;
    const r = await tryRun('docker', ['exec', h.container, 'sh', '-c', cmd], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  }

  const events = (out: string): JsonEvent[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as JsonEvent);
  const recap = (out: string) => events(out).find((e) => e.type === 'recap')!.hosts!;
  const results = (out: string) => events(out).flatMap((e) => (e.type === 'task:host' ? [e.result!] : []));

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p .)`);
    dir = mkdtempSync(join(tmpdir(), 'tsplay-e2e-swarm-'));
    writeFileSync(join(dir, 'site.yml'), PLAYBOOK);
    const t0 = Date.now();
    lab = await labUp(SPEC, { stateDir: join(dir, 'lab') });
    times.push(`lab up ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(5 * 60_000);
    if (dir) {
      await labDown(SPEC.name, { stateDir: join(dir, 'lab') });
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`      [swarm: ${times.join(', ')}]`);
  });

  it('check mode on fresh hosts plans init, gwbridge, network and joins, changes nothing, exits 3 with --fail-on-change', async () => {
    const r = await tsplay('--check', '--fail-on-change', '--json');
    times.push(`check on fresh hosts ${r.seconds.toFixed(1)} s`);
    expect(r.code, r.stderr).to.equal(3);
    const byHost = Object.fromEntries(results(r.stdout).filter((x) => x.changes).map((x) => [x.host, x.changes!]));
    expect(byHost.sw1).to.include.members([
      'create docker_gwbridge (subnet 10.81.10.0/24, enable_icc false, enable_ip_masquerade false)',
      'initialize a swarm advertised at ' + lab.hosts[0]!.ip + ' (address pool 10.90.0.0/16, /26 subnets)',
      'create overlay network backend (encrypted) 10.81.30.0/24',
    ]);
    for (const w of ['sw2', 'sw3']) expect(byHost[w]).to.include(`join the swarm at ${lab.hosts[0]!.ip}:2377 (would join once the manager is initialized)`);
    expect(results(r.stdout).filter((x) => x.status === 'failed')).to.deep.equal([]);
    for (const h of ['sw1', 'sw2', 'sw3']) {
      expect(await sh(h, "docker info --format '{{.Swarm.LocalNodeState}}'")).to.equal('inactive');
      expect(await sh(h, 'docker network ls --format {{.Name}}')).to.not.include('docker_gwbridge');
    }
  });

  it('converges: three nodes Ready with their roles, docker_gwbridge everywhere as declared, the encrypted overlay', async () => {
    const r = await tsplay('-v');
    times.push(`full swarm build ${r.seconds.toFixed(1)} s`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout).to.match(/sw1\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0/);
    for (const w of ['sw2', 'sw3']) expect(r.stdout).to.match(new RegExp(`${w}\\s+: ok=0\\s+changed=1\\s+unreachable=0\\s+failed=0`));

    const nodes = (await sh('sw1', "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")).split('\n').map((l) => l.trim()).sort();
    expect(nodes).to.deep.equal(['sw1 Ready Leader', 'sw2 Ready', 'sw3 Ready']);
    for (const h of ['sw1', 'sw2', 'sw3']) {
      const role = await sh(h, "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'");
      expect(role, h).to.equal(h === 'sw1' ? 'active true' : 'active false');
      const gw = JSON.parse(await sh(h, 'docker network inspect docker_gwbridge')) as Array<{ IPAM: { Config: Array<{ Subnet: string; Gateway?: string }> }; Options: Record<string, string> }>;
      expect(gw[0]!.IPAM.Config[0], h).to.deep.equal({ Subnet: '10.81.10.0/24', Gateway: '10.81.10.1' });
      expect(gw[0]!.Options['com.docker.network.bridge.enable_icc'], h).to.equal('false');
      expect(gw[0]!.Options['com.docker.network.bridge.enable_ip_masquerade'], h).to.equal('false');
    }
    const net = JSON.parse(await sh('sw1', 'docker network inspect backend')) as Array<{ Driver: string; Scope: string; Attachable: boolean; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> }; Options: Record<string, string>; Labels: Record<string, string> }>;
    expect(net[0]).to.deep.include({ Driver: 'overlay', Scope: 'swarm', Attachable: true, Labels: { tier: 'backend' } });
    expect(net[0]!.IPAM.Config).to.deep.equal([{ Subnet: '10.81.30.0/24', Gateway: '10.81.30.2' }]);
    expect(net[0]!.Options).to.have.property('encrypted');
    expect(await sh('sw1', "docker info --format '{{.Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}'")).to.equal('[10.90.0.0/16] 26');
  });

  it('second run changes nothing; check mode after converge finds nothing (exit 0 with --fail-on-change)', async () => {
    const again = await tsplay('--json');
    times.push(`converged run ${again.seconds.toFixed(1)} s`);
    expect(again.code, again.stderr).to.equal(0);
    for (const [h, c] of Object.entries(recap(again.stdout))) expect(c, h).to.include({ changed: 0, failed: 0 });
    expect(results(again.stdout).find((x) => x.host === 'sw2')!.msg).to.match(/already in the swarm \(worker, managers .*:2377\); docker_gwbridge is as declared/);
    const check = await tsplay('--check', '--fail-on-change', '--json');
    times.push(`check after converge ${check.seconds.toFixed(1)} s`);
    expect(check.code, check.stdout).to.equal(0);
    for (const [h, c] of Object.entries(recap(check.stdout))) expect(c, h).to.include({ changed: 0, failed: 0 });
  });

  it('the join tokens appear in no output (plain, verbose, JSON, debug of the registered result)', async () => {
    const worker = await sh('sw1', 'docker swarm join-token -q worker');
    const manager = await sh('sw1', 'docker swarm join-token -q manager');
    expect(worker).to.match(/^SWMTKN-1-/);
    await tsplay();
    const all = printed.join('\n');
    expect(all).to.include('Show the registered result');
    expect(all).to.include('********');
    expect(all).to.not.include(worker);
    expect(all).to.not.include(manager);
    expect(all).to.not.match(/SWMTKN-1-[0-9a-z]{10}/);
    // The secret part alone, too (a renderer that cut the token would still show it).
    expect(all).to.not.include(worker.split('-').pop()!);
  });

  it('a stack: 3 httpd replicas published with mode: host answer on every node from another lab host', async () => {
    let t0 = Date.now();
    // Rendering a stack needs compose on the manager (Debian 12: docker-compose 1.29).
    await sh('sw1', 'command -v docker-compose >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null 2>&1; }');
    times.push(`docker-compose install ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    writeFileSync(join(dir, 'stack.yml'), stackPlaybook(86400));
    const r = await play('stack.yml', '--json');
    times.push(`stack deploy (3+1 replicas, wait running) ${r.seconds.toFixed(1)} s`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(results(r.stdout).find((x) => x.host === 'sw1')!.changes).to.deep.equal(['create service web_httpd', 'create service web_idle']);
    const nodes = (await sh('sw1', "docker service ps web_httpd --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'")).split('\n').map((l) => l.split(' ')[0]).sort();
    expect(nodes).to.deep.equal(['sw1', 'sw2', 'sw3']);
    // From sw2, every node's own address answers, each with the task running on that node.
    t0 = Date.now();
    const names = new Set<string>();
    for (const h of lab.hosts) names.add(await sh('sw2', `curl -sf -m 5 http://${h.ip}:8080/hostname`));
    times.push(`3 HTTP answers ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(names.size, [...names].join(' ')).to.equal(3);
    // The deployed services carry the hash of their rendered definition.
    expect(await sh('sw1', `docker service inspect --format '{{index .Spec.Labels "io.tsplay.config-hash"}}' web_httpd`)).to.match(/^[0-9a-f]{16}$/);
  });

  it('the stack: second run changes nothing, check mode after it finds nothing', async () => {
    const again = await play('stack.yml', '--json');
    times.push(`stack converged run ${again.seconds.toFixed(1)} s`);
    expect(again.code, again.stderr).to.equal(0);
    expect(recap(again.stdout).sw1).to.include({ changed: 0, failed: 0 });
    expect(results(again.stdout).find((x) => x.host === 'sw1')!.msg).to.equal('stack web is up to date (2 services with their current definition)');
    const check = await play('stack.yml', '--check', '--fail-on-change', '--json');
    times.push(`stack check after converge ${check.seconds.toFixed(1)} s`);
    expect(check.code, check.stdout).to.equal(0);
    expect(recap(check.stdout).sw1).to.include({ changed: 0, failed: 0 });
  });

  it('the stack: a change to one service updates that service only', async () => {
    const tasks = () => sh('sw1', "docker service ps web_httpd --filter desired-state=running --format '{{.ID}}'");
    const before = await tasks();
    writeFileSync(join(dir, 'stack.yml'), stackPlaybook(86401));
    const check = await play('stack.yml', '--check', '--json');
    expect(results(check.stdout).find((x) => x.host === 'sw1')!.changes).to.deep.equal(['update service web_idle (its definition changed)']);
    const r = await play('stack.yml', '--json');
    times.push(`stack update of one service ${r.seconds.toFixed(1)} s`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(results(r.stdout).find((x) => x.host === 'sw1')!.changes).to.deep.equal(['update service web_idle (its definition changed)']);
    expect(await tasks()).to.equal(before);
    const updateState = (svc: string) => sh('sw1', `docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' ${svc}`);
    expect(await updateState('web_httpd'), 'web_httpd was never updated').to.equal('');
    expect(await updateState('web_idle')).to.equal('completed');
    expect(await sh('sw1', "docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Args}}' web_idle")).to.equal('["sleep","86401"]');
  });

  it('a node in another swarm is refused with a clear message; the other nodes are ok', async () => {
    // sw3 leaves and becomes the manager of a swarm of its own (behind tsplay's back).
    await sh('sw3', 'docker swarm leave --force >/dev/null && docker swarm init --advertise-addr eth0 >/dev/null');
    const r = await tsplay('--json');
    expect(r.code).to.not.equal(0);
    const sw3 = results(r.stdout).find((x) => x.host === 'sw3' && x.status === 'failed');
    expect(sw3?.msg).to.match(/this node is already in another swarm: a manager of swarm \S+ .*the join token is for a different swarm \(its root CA differs\).*force_leave: true/);
    const rc = recap(r.stdout);
    expect(rc.sw1).to.include({ changed: 0, failed: 0 });
    expect(rc.sw2).to.include({ changed: 0, failed: 0 });
    // Nothing was done to sw3: still the manager of its own swarm.
    expect(await sh('sw3', "docker info --format '{{.Swarm.ControlAvailable}}'")).to.equal('true');
  });

  /** `tsplay test ROLE` on a lab of its own (taken down whatever happens); asserts it passed. */
  async function roleTest(role: string): Promise<RunResult> {
    const name = `${role}-role-${process.pid}`;
    const t0 = Date.now();
    const r = await tryRun(process.execPath, [CLI, 'test', role, '--name', name], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
      timeoutMs: 15 * 60_000,
    }).finally(() => labDown(name));
    times.push(`tsplay test ${role} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout).to.include('test passed: converge, idempotence, check mode, verify');
    return r;
  }

  it('roles/swarm passes tsplay test (ufw with the swarm ports and ESP from the nodes, init, same-run join, verify)', async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    const r = await roleTest('swarm');
    expect(r.stdout).to.match(/add allow 2377\/tcp from \S+  # swarm sw1/);
    expect(r.stdout).to.match(/add allow proto esp from \S+  # swarm sw1/);
    expect(r.stdout + r.stderr).to.not.match(/SWMTKN-1-[0-9a-z]{10}/);
  });

  it('roles/stack passes tsplay test (a one-node swarm, the stack with its exposure policy, verify)', async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    const r = await roleTest('stack');
    expect(r.stdout).to.include('create service web_httpd');
  });
});
