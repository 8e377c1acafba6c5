/**
 * End to end: the roles firewall, fail2ban and ssh-hardening (roles/) on the shared lab, through
 * the engine and real SSH. The roles are copied into the temp project's roles/ folder.
 *
 * firewall on e2e1 and e2e2 (Docker): SSH still works after, a declared port answers from the
 * other host and an undeclared one does not, also for ports Docker publishes on e2e2; the second
 * run changes nothing and check mode reports nothing pending.
 *
 * fail2ban on e2e1: the sshd jail runs with the configured maxretry; e2e2 failing to log in
 * maxretry times gets banned (SSH refused), the controller does not.
 *
 * ssh-hardening on e2e1: a password login is refused (sshd offers publickey only), key login
 * works; moving sshd to port 2222 opens 2222 in ufw first, and `ssh -p 2222` with the lab key
 * works while 22 is closed; the next run, connecting on 2222, changes nothing.
 *
 * Each suite resets what it touched (ufw, fail2ban, the sshd drop-in, the Docker filter), so
 * the shared lab's other suites find the hosts as they were.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { tryRun, type RunResult } from '../../src/lab/exec.js';
import { loadImageIntoHost } from '../../src/lab/lab.js';
import { LAB_UP_TIMEOUT_MS, roleFiles, sharedLab, type LabRun, type LabRunOptions, type SharedLab } from '../helpers/lab.js';

const FILES = roleFiles('firewall', 'fail2ban', 'ssh-hardening');

const failures = (r: LabRun) =>
  r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.host}: ${e.result.msg ?? ''}`] : []));

/** Tasks that reported a change, as `host: task`. */
const changedTasks = (r: LabRun) => {
  const names = new Map<number, string>();
  const out: string[] = [];
  for (const e of r.events) {
    if (e.type === 'task:start') names.set(e.id, e.name);
    if (e.type === 'task:host' && e.result.status === 'changed') out.push(`${e.result.host}: ${names.get(e.id)}`);
  }
  return out;
};

describe('roles firewall, fail2ban and ssh-hardening on lab hosts (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let t0 = 0;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
  });

  after(() => console.log(`      [roles-security: ${((Date.now() - t0) / 1000).toFixed(1)} s]`));

  const run = (yaml: string, opts: LabRunOptions = {}) => lab.run(yaml, { ...opts, files: { ...FILES, ...(opts.files ?? {}) } });

  async function sh(host: string, cmd: string): Promise<string> {
    const r = await lab.sh(host, cmd);
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  /** Whether a TCP port of `host` accepts a connection from `from` (3 s timeout). */
  async function reachable(from: string, host: string, port: number): Promise<boolean> {
    return (await lab.sh(from, `nc -z -w 3 ${lab.ip(host)} ${port}`)).code === 0;
  }

  /** Converged: a second run changes nothing, and check mode reports nothing pending. */
  async function converged(playbook: string, opts: LabRunOptions = {}) {
    const again = await run(playbook, opts);
    expect(failures(again), 'second run failures').to.deep.equal([]);
    expect(changedTasks(again), 'second run changes').to.deep.equal([]);
    expect(again.summary.changed).to.equal(false);
    const check = await run(playbook, { ...opts, check: true });
    expect(failures(check), 'check mode failures').to.deep.equal([]);
    expect(changedTasks(check), 'check mode: pending changes').to.deep.equal([]);
  }

  /** ufw off and gone (rules included). */
  const purgeUfw = (host: string) =>
    lab.sh(host, 'if command -v ufw >/dev/null; then ufw --force disable; fi; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ufw >/dev/null 2>&1; rm -rf /etc/ufw; true');

  // ---- firewall ------------------------------------------------------------------------------

  describe('firewall', () => {
    const playbook = `
- hosts: e2e1:e2e2
  become: true
  roles:
    - role: firewall
      firewall_exclusive: true
      firewall_rules:
        - {action: allow, port: 8080/tcp, comment: web}
      firewall_docker_ports:
        - {port: 8080/tcp, comment: web}
`;
    /** A TCP service on the port of e2e1 (a transient systemd unit), waited for until it accepts. */
    const listen = (port: number) =>
      sh(
        'e2e1',
        `systemd-run --unit tsplay-e2e-roles-listen-${port} perl -MIO::Socket::INET -e ` +
          `'my $s = IO::Socket::INET->new(LocalPort => ${port}, Listen => 5, ReuseAddr => 1) or die; while (my $c = $s->accept) { print $c "${port}\\n"; close $c }' && ` +
          `for i in $(seq 50); do nc -z 127.0.0.1 ${port} && exit 0; sleep 0.1; done; exit 1`,
      );
    const http = async (port: number) =>
      (await lab.sh('e2e1', `curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://${lab.ip('e2e2')}:${port}/`)).stdout.trim();

    const reset = async () => {
      await lab.sh('e2e1', 'systemctl stop tsplay-e2e-roles-listen-8080 tsplay-e2e-roles-listen-8081 2>/dev/null; true');
      await purgeUfw('e2e1');
      await purgeUfw('e2e2');
    };

    before(async () => {
      await reset();
      await listen(8080);
      await listen(8081);
      await loadImageIntoHost(lab.name, 'e2e2', BUSYBOX_IMAGE);
      // One container, two published ports: 8080 is declared, 9090 not.
      await sh('e2e2', `docker rm -f roles-fw-web >/dev/null 2>&1; docker run -d --name roles-fw-web -p 8080:8080 -p 9090:8080 ${BUSYBOX_IMAGE} httpd -f -p 8080 -h /var/www`);
      await sh('e2e2', 'for i in $(seq 50); do curl -s -o /dev/null --max-time 1 http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1');
      expect(await reachable('e2e2', 'e2e1', 8081), 'without a firewall, 8081 answers').to.equal(true);
      expect(await http(9090), 'without a filter, a published port answers').to.equal('404');
    });

    after(async () => {
      await run('- hosts: e2e2\n  gather_facts: false\n  tasks:\n    - docker-firewall: {state: absent}\n');
      await lab.sh('e2e2', 'docker rm -f roles-fw-web');
      await reset();
    });

    it('SSH first, default deny, declared ports open; Docker ports filtered only where Docker runs', async () => {
      const r = await run(playbook);
      expect(failures(r)).to.deep.equal([]);
      expect(r.status('ufw - SSH first, default deny incoming')).to.deep.equal({ e2e1: 'changed', e2e2: 'changed' });
      expect(r.status("Docker's published ports - only the declared ones from outside")).to.deep.equal({ e2e1: 'skipped', e2e2: 'changed' });

      for (const host of ['e2e1', 'e2e2']) {
        const login = await lab.ssh(host, 'echo still-in');
        expect(login.stdout.trim(), `a new SSH connection to ${host}: ${login.stderr}`).to.equal('still-in');
        const status = await sh(host, 'ufw status verbose');
        expect(status).to.match(/^Status: active$/m);
        expect(status).to.match(/^Default: deny \(incoming\)/m);
        expect(status).to.match(/^22\/tcp +ALLOW IN +Anywhere +# ssh$/m);
        expect(status).to.match(/^8080\/tcp +ALLOW IN +Anywhere +# web$/m);
      }
      expect(await reachable('e2e2', 'e2e1', 8080), 'declared port 8080').to.equal(true);
      expect(await reachable('e2e2', 'e2e1', 8081), 'undeclared port 8081').to.equal(false);
      expect(await http(8080), 'declared published port').to.equal('404');
      expect(await http(9090), 'undeclared published port').to.equal('000');
    });

    it('changes nothing on the second run; check mode has nothing pending', async () => {
      await converged(playbook);
      expect((await lab.ssh('e2e1', 'true')).code).to.equal(0);
    });
  });

  // ---- fail2ban ------------------------------------------------------------------------------

  describe('fail2ban', () => {
    const HOST = 'e2e1';
    const playbook = `
- hosts: ${HOST}
  become: true
  roles:
    - role: fail2ban
      fail2ban_maxretry: 3
      fail2ban_findtime: 600
      fail2ban_bantime: 600
`;
    const reset = () =>
      lab.sh(HOST, 'systemctl stop fail2ban 2>/dev/null; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q fail2ban >/dev/null 2>&1; rm -rf /etc/fail2ban /var/lib/fail2ban; true');

    before(reset);
    after(reset);

    it('runs the sshd jail from the journal with the configured maxretry', async () => {
      const r = await run(playbook);
      expect(failures(r)).to.deep.equal([]);
      expect(r.status('sshd jail')).to.deep.equal({ [HOST]: 'changed' });
      expect((await sh(HOST, 'systemctl is-active fail2ban')).trim()).to.equal('active');
      expect((await sh(HOST, 'systemctl is-enabled fail2ban')).trim()).to.equal('enabled');
      const status = await sh(HOST, 'fail2ban-client status sshd');
      expect(status).to.include('Status for the jail: sshd');
      expect(status).to.match(/Journal matches:.*_COMM=sshd/);
      expect((await sh(HOST, 'fail2ban-client get sshd maxretry')).trim()).to.equal('3');
      expect((await sh(HOST, 'fail2ban-client get sshd bantime')).trim()).to.equal('600');
    });

    it('changes nothing on the second run; check mode has nothing pending', async () => {
      await converged(playbook);
    });

    it('bans a host that fails to log in maxretry times, and only that host', async () => {
      const attacker = lab.ip('e2e2');
      for (let i = 0; i < 3; i++) {
        await lab.sh('e2e2', `ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 nosuchuser@${lab.ip(HOST)} true`);
      }
      let status = '';
      for (let i = 0; i < 40 && !status.includes(attacker); i++) {
        await new Promise((res) => setTimeout(res, 500));
        status = (await lab.sh(HOST, 'fail2ban-client status sshd')).stdout;
      }
      expect(status, 'e2e2 is in the banned list').to.match(new RegExp(`Banned IP list:.*\\b${attacker.replace(/\./g, '\\.')}\\b`));
      expect(await reachable('e2e2', HOST, 22), 'SSH from the banned host').to.equal(false);
      expect((await lab.ssh(HOST, 'true')).code, 'SSH from the controller').to.equal(0);
      await sh(HOST, `fail2ban-client set sshd unbanip ${attacker}`);
      expect(await reachable('e2e2', HOST, 22), 'SSH after the unban').to.equal(true);
    });
  });

  // ---- ssh-hardening -------------------------------------------------------------------------

  describe('ssh-hardening', () => {
    const HOST = 'e2e1';
    const NEW_PORT = 2222;
    const playbook = (port: number) => `
- hosts: ${HOST}
  become: true
  roles:
    - role: ssh-hardening
      ssh_hardening_port: ${port}
`;

    /** OpenSSH from the controller with the lab key (or no key at all), on a given port. */
    const ssh = (port: number, cmd: string, extra: string[] = []): Promise<RunResult> =>
      tryRun(
        'ssh',
        [
          '-p', String(port),
          '-i', lab.keyPath,
          '-o', 'IdentitiesOnly=yes',
          '-o', 'BatchMode=yes',
          '-o', 'ConnectTimeout=10',
          '-o', `UserKnownHostsFile=${lab.knownHostsPath}`,
          // The lab's known_hosts lists the host key under the address; on another port OpenSSH
          // would look for [address]:port.
          '-o', `HostKeyAlias=${lab.ip(HOST)}`,
          '-o', 'StrictHostKeyChecking=yes',
          ...extra,
          `root@${lab.ip(HOST)}`,
          cmd,
        ],
        { timeoutMs: 60_000 },
      );
    /** A login that offers no key: the server lists the methods it would accept. */
    const passwordLogin = (port: number) => ssh(port, 'true', ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive']);

    const reset = async () => {
      await lab.sh(
        HOST,
        'rm -f /etc/ssh/sshd_config.d/50-tsplay-hardening.conf /usr/local/sbin/tsplay-sshd-check; systemctl reload ssh; ' +
          'for i in $(seq 50); do nc -z 127.0.0.1 22 && exit 0; sleep 0.1; done; exit 1',
      );
      await purgeUfw(HOST);
    };

    before(reset);
    after(reset);

    it('refuses password logins (sshd offers publickey only); key login works', async () => {
      const before = await passwordLogin(22);
      expect(before.stderr, 'before: Debian allows passwords').to.include('Permission denied (publickey,password)');

      const r = await run(playbook(22));
      expect(failures(r)).to.deep.equal([]);
      expect(r.status('sshd hardening drop-in')).to.deep.equal({ [HOST]: 'changed' });
      // The reload handler re-execs sshd: new connections are refused for a moment.
      await sh(HOST, 'for i in $(seq 50); do nc -z 127.0.0.1 22 && exit 0; sleep 0.1; done; exit 1');

      const t = Date.now();
      const refused = await passwordLogin(22);
      expect(refused.code).to.equal(255);
      expect(refused.stderr).to.include('Permission denied (publickey).');
      expect(Date.now() - t, 'refused quickly').to.be.below(10_000);
      const key = await ssh(22, 'echo key-ok');
      expect(key.stdout.trim(), key.stderr).to.equal('key-ok');
      const effective = await sh(HOST, 'sshd -T');
      expect(effective).to.match(/^permitrootlogin (prohibit-password|without-password)$/m);
      expect(effective).to.match(/^passwordauthentication no$/m);
    });

    it('changes nothing on the second run; check mode has nothing pending', async () => {
      await converged(playbook(22));
    });

    it('moves sshd to another port: ufw opens it first, ssh -p works, the next run connects there and changes nothing', async () => {
      const r = await run(playbook(NEW_PORT));
      expect(failures(r)).to.deep.equal([]);
      expect(r.result('ufw allows the SSH port before sshd moves to it', HOST).changes).to.deep.equal([`add allow ${NEW_PORT}/tcp  # ssh`]);
      expect(changedTasks(r)).to.deep.equal([
        `${HOST}: ufw allows the SSH port before sshd moves to it`,
        `${HOST}: sshd hardening drop-in`,
        `${HOST}: reload sshd`,
      ]);

      const status = await sh(HOST, 'ufw status');
      expect(status).to.match(new RegExp(`^${NEW_PORT}/tcp +ALLOW +Anywhere +# ssh$`, 'm'));
      expect(status, 'the old port stays allowed').to.match(/^22\/tcp +ALLOW +Anywhere +# ssh$/m);
      const key = await ssh(NEW_PORT, 'echo new-port-ok');
      expect(key.stdout.trim(), key.stderr).to.equal('new-port-ok');
      expect((await passwordLogin(NEW_PORT)).stderr).to.include('Permission denied (publickey).');
      expect(await reachable('e2e2', HOST, NEW_PORT), 'the new port from another host').to.equal(true);
      expect(await reachable('e2e2', HOST, 22), 'sshd left port 22').to.equal(false);

      // Later runs connect on the new port, with the host key known as [address]:port.
      const knownHosts = join(r.dir, 'known_hosts');
      writeFileSync(knownHosts, readFileSync(lab.knownHostsPath, 'utf8').replace(/^(\S+) /gm, `[$1]:${NEW_PORT} `));
      await converged(playbook(NEW_PORT), { extraVars: { ansible_port: NEW_PORT, known_hosts_file: knownHosts } });
    });
  });
});
