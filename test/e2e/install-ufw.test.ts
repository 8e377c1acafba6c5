/**
 * End to end: install-ufw and docker-firewall on the shared lab (real Debian hosts, real sshd,
 * real ufw and dockerd), through the engine and SSH.
 *
 * install-ufw on e2e1: check mode changes nothing; the first run installs and enables ufw, after
 * which a NEW SSH connection still works, a declared port answers from e2e2 and an undeclared
 * one does not; the second run changes nothing; dropping a rule (exclusive) closes its port; a
 * plan that would block SSH is refused and leaves the firewall as it was; when an undeclared deny
 * rule blocks SSH, the refusal's advice (exclusive: true), followed, enables ufw with SSH open.
 *
 * docker-firewall on e2e2 (its own dockerd): a published port answers from e2e1 only when
 * declared, also after `systemctl restart docker`; the second run changes nothing; state: absent
 * hands the chain back to Docker.
 *
 * Each suite resets what it touched (ufw purged, containers and unit removed), so the shared
 * lab's other suites are not firewalled.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { loadImageIntoHost } from '../../src/lab/lab.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type LabRunOptions, type SharedLab } from '../helpers/lab.js';

const SRC = join(import.meta.dirname, '../../src/modules');

/**
 * Until the modules are registered in src/modules/index.ts, the playbook's project loads them
 * from its modules/ folder (re-exports of the same files).
 */
const MODULE_FILES: Record<string, string> = Object.fromEntries(
  [
    ['install-ufw', 'ufw/install-ufw.ts'],
    ['docker-firewall', 'docker/docker-firewall.ts'],
  ]
    .filter(([name]) => !BUNDLED_MODULES.some((m) => m.name === name))
    .map(([name, file]) => [`modules/${name}.ts`, `export { default } from ${JSON.stringify(join(SRC, file!))};\n`]),
);

const failures = (r: LabRun) =>
  r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.host}: ${e.result.msg ?? ''}`] : []));

describe('install-ufw and docker-firewall on lab hosts (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
  });

  const run = (yaml: string, opts: LabRunOptions = {}) => lab.run(yaml, { ...opts, files: { ...MODULE_FILES, ...(opts.files ?? {}) } });

  async function sh(host: string, cmd: string): Promise<string> {
    const r = await lab.sh(host, cmd);
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  /** Whether a TCP port of `host` accepts a connection from `from` (3 s timeout). */
  async function reachable(from: string, host: string, port: number): Promise<boolean> {
    return (await lab.sh(from, `nc -z -w 3 ${lab.ip(host)} ${port}`)).code === 0;
  }

  describe('install-ufw', () => {
    const HOST = 'e2e1';
    const playbook = (rules: string, extra = '') => `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: firewall
      install-ufw:
        exclusive: true
        rules: ${rules}
${extra}`;
    const WANTED = '[{action: allow, port: 22/tcp, comment: ssh}, {action: allow, port: 8080/tcp}]';

    const reset = () =>
      lab.sh(
        HOST,
        'if command -v ufw >/dev/null; then ufw --force disable; fi; ' +
          'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ufw >/dev/null 2>&1; rm -rf /etc/ufw; ' +
          'systemctl stop tsplay-e2e-listen-8080 tsplay-e2e-listen-8081 2>/dev/null; true',
      );
    /** A TCP service on the port (a transient systemd unit), waited for until it accepts. */
    const listen = (port: number) =>
      sh(
        HOST,
        `systemd-run --unit tsplay-e2e-listen-${port} perl -MIO::Socket::INET -e ` +
          `'my $s = IO::Socket::INET->new(LocalPort => ${port}, Listen => 5, ReuseAddr => 1) or die; while (my $c = $s->accept) { print $c "${port}\\n"; close $c }' && ` +
          `for i in $(seq 50); do nc -z 127.0.0.1 ${port} && exit 0; sleep 0.1; done; exit 1`,
      );

    before(async () => {
      await reset();
      await listen(8080);
      await listen(8081);
      expect(await reachable('e2e2', HOST, 8081), 'without a firewall, 8081 answers').to.equal(true);
    });
    after(reset);

    it('check mode lists the install and the rules, and changes nothing', async () => {
      const r = await run(playbook(WANTED), { check: true, diff: true });
      expect(failures(r)).to.deep.equal([]);
      // apt (composed) updates the package lists first when they were never downloaded, as on a fresh lab host.
      const changes = r.result('firewall', HOST).changes?.filter((c) => c !== 'update the apt cache');
      expect(changes).to.deep.equal(['install ufw', 'add allow 22/tcp  # ssh', 'add allow 8080/tcp', 'enable ufw']);
      expect((await lab.sh(HOST, 'command -v ufw')).code, 'ufw still absent').to.not.equal(0);
    });

    it('installs and enables ufw; new SSH connections still work; only declared ports answer', async () => {
      const r = await run(playbook(WANTED));
      expect(failures(r)).to.deep.equal([]);
      expect(r.status('firewall')).to.deep.equal({ [HOST]: 'changed' });
      expect(await sh(HOST, 'ufw status')).to.match(/^Status: active/);
      const login = await lab.ssh(HOST, 'echo still-in');
      expect(login.stdout.trim(), `a new SSH connection after enable: ${login.stderr}`).to.equal('still-in');
      expect(await reachable('e2e2', HOST, 8080), 'declared port 8080').to.equal(true);
      expect(await reachable('e2e2', HOST, 8081), 'undeclared port 8081').to.equal(false);
    });

    it('changes nothing on the second run', async () => {
      const r = await run(playbook(WANTED));
      expect(failures(r)).to.deep.equal([]);
      expect(r.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
    });

    it('closes a port whose rule is removed from the playbook (exclusive)', async () => {
      const r = await run(playbook('[{action: allow, port: 22/tcp, comment: ssh}]'));
      expect(r.result('firewall', HOST).changes).to.deep.equal(['remove allow 8080/tcp']);
      expect(await reachable('e2e2', HOST, 8080), 'removed port 8080').to.equal(false);
      expect((await lab.ssh(HOST, 'true')).code).to.equal(0);
    });

    it('refuses a plan that would block SSH, and leaves the firewall as it was', async () => {
      const before = await sh(HOST, 'cat /etc/ufw/user.rules /etc/ufw/user6.rules');
      const r = await run(playbook('[{action: allow, port: 8080/tcp}]'));
      expect(r.status('firewall')).to.deep.equal({ [HOST]: 'failed' });
      expect(r.result('firewall', HOST).msg).to.include('install-ufw would lock tsplay out of e2e1');
      expect(await sh(HOST, 'cat /etc/ufw/user.rules /etc/ufw/user6.rules')).to.equal(before);
      expect((await lab.ssh(HOST, 'true')).code).to.equal(0);
    });

    it('an undeclared deny rule ahead of SSH: the refusal advises exclusive: true, and following it succeeds', async () => {
      // Someone stopped the firewall and put a rule of their own first.
      await sh(HOST, 'ufw --force disable && ufw insert 1 deny 22');
      const refused = await run(playbook(WANTED).replace('exclusive: true', 'exclusive: false'));
      expect(refused.status('firewall')).to.deep.equal({ [HOST]: 'failed' });
      const advice = refused.result('firewall', HOST).msg ?? '';
      expect(advice).to.include('would be blocked by rule "deny 22"');
      expect(advice).to.include('set exclusive: true');
      expect(await sh(HOST, 'ufw status')).to.match(/^Status: inactive/);

      const followed = await run(playbook(WANTED));
      expect(failures(followed)).to.deep.equal([]);
      expect(followed.result('firewall', HOST).changes).to.include('remove deny 22');
      const status = await sh(HOST, 'ufw status');
      expect(status).to.match(/^Status: active/);
      expect(status).to.not.match(/DENY/);
      const login = await lab.ssh(HOST, 'echo still-in');
      expect(login.stdout.trim(), `a new SSH connection after following the advice: ${login.stderr}`).to.equal('still-in');
      const again = await run(playbook(WANTED));
      expect(again.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
    });
  });

  describe('docker-firewall', () => {
    const HOST = 'e2e2';
    const playbook = (args: string) => `
- hosts: ${HOST}
  gather_facts: true
  tasks:
    - name: docker ports
      docker-firewall: ${args}
`;
    const http = async (port: number) =>
      (await lab.sh('e2e1', `curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://${lab.ip(HOST)}:${port}/`)).stdout.trim();
    /** Waits until the container answers on the port inside the host (after a Docker restart). */
    const waitLocal = (port: number) => sh(HOST, `for i in $(seq 50); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:${port}/ && exit 0; sleep 0.2; done; exit 1`);

    before(async () => {
      await loadImageIntoHost(lab.name, HOST, BUSYBOX_IMAGE);
      // One container, two published ports: 8080 will be declared, 9090 not.
      await sh(HOST, `docker rm -f fw-web >/dev/null 2>&1; docker run -d --restart unless-stopped --name fw-web -p 8080:8080 -p 9090:8080 ${BUSYBOX_IMAGE} httpd -f -p 8080 -h /var/www`);
      await waitLocal(8080);
      expect(await http(9090), 'published ports are open before docker-firewall').to.equal('404');
    });
    after(async () => {
      await run(playbook('{state: absent}'));
      await lab.sh(HOST, 'docker rm -f fw-web');
    });

    it('lets only the declared published port through', async () => {
      const r = await run(playbook('{allow: [{port: 8080, comment: web}]}'));
      expect(failures(r)).to.deep.equal([]);
      expect(r.status('docker ports')).to.deep.equal({ [HOST]: 'changed' });
      expect(await http(8080), 'declared').to.equal('404');
      expect(await http(9090), 'undeclared').to.equal('000');
    });

    it('keeps the rules when Docker restarts, and changes nothing on the second run', async () => {
      const chain = await sh(HOST, 'iptables -S DOCKER-USER');
      await sh(HOST, 'systemctl restart docker');
      await waitLocal(8080);
      expect(await sh(HOST, 'iptables -S DOCKER-USER')).to.equal(chain);
      expect(await http(9090), 'undeclared after restart').to.equal('000');
      expect(await http(8080), 'declared after restart').to.equal('404');
      const r = await run(playbook('{allow: [{port: 8080, comment: web}]}'));
      expect(failures(r)).to.deep.equal([]);
      expect(r.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
    });

    it('state: absent hands DOCKER-USER back to Docker', async () => {
      const r = await run(playbook('{state: absent}'));
      expect(failures(r)).to.deep.equal([]);
      expect((await sh(HOST, 'iptables -S DOCKER-USER')).trim().split('\n').slice(1)).to.deep.equal(['-A DOCKER-USER -j RETURN']);
      expect(await http(9090)).to.equal('404');
      expect((await lab.sh(HOST, 'test -e /etc/systemd/system/tsplay-docker-user.service')).code).to.not.equal(0);
    });
  });
});
