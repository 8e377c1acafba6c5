/**
 * End to end: the core modules on a real Debian 12 lab host (systemd, sshd, apt, shadow-utils),
 * through the real engine and SSH. For each module: check mode on a fresh state reports the
 * change and leaves the host untouched (compared with dpkg, getent, stat and hashes), the first
 * run changes, the second run changes nothing. Each test resets what it touches itself.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/lab/exec.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type LabRunOptions, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';

describe('core modules on a lab host (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let t0 = 0;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
  });

  after(() => console.log(`      [core-modules: ${((Date.now() - t0) / 1000).toFixed(1)} s]`));

  /** Runs a shell command on the host; fails the test when it fails. */
  async function sh(cmd: string): Promise<string> {
    const r = await lab.sh(HOST, cmd);
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  /** Status of every task of a run on HOST, in order: `[[name, status], ...]`. */
  function statuses(r: LabRun): Array<[string, string]> {
    const names = new Map<number, string>();
    const out: Array<[string, string]> = [];
    for (const e of r.events) {
      if (e.type === 'task:start') names.set(e.id, e.name);
      if (e.type === 'task:host' && e.result.host === HOST && e.result.item === undefined) out.push([names.get(e.id)!, e.result.status]);
    }
    return out;
  }

  const failures = (r: LabRun) =>
    r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.msg ?? ''} ${JSON.stringify(e.result.failure ?? {})}`] : []));

  /**
   * The contract of every state module, from a fresh state: check mode reports every task as a
   * change and `inspect()` reads the same before and after; the first real run changes every
   * task; the second changes nothing.
   */
  async function converges(playbook: string, inspect: () => Promise<string>, opts: LabRunOptions = {}) {
    const before = await inspect();
    const check = await lab.run(playbook, { ...opts, check: true, diff: true });
    expect(failures(check), 'check mode failures').to.deep.equal([]);
    const tasks = statuses(check).map(([n]) => n);
    expect(statuses(check), 'check mode').to.deep.equal(tasks.map((n) => [n, 'changed']));
    expect(await inspect(), 'check mode left the host untouched').to.equal(before);

    const first = await lab.run(playbook, opts);
    expect(failures(first), 'first run failures').to.deep.equal([]);
    expect(statuses(first), 'first run').to.deep.equal(tasks.map((n) => [n, 'changed']));

    const second = await lab.run(playbook, opts);
    expect(failures(second), 'second run failures').to.deep.equal([]);
    expect(statuses(second), 'second run').to.deep.equal(tasks.map((n) => [n, 'ok']));
    expect(second.summary.changed).to.equal(false);
    expect(second.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
    return { check, first, second };
  }

  // ---- facts ---------------------------------------------------------------------------------

  it('gather_facts: a sensible fact set (Debian 12, systemd, apt) in one exec', async () => {
    const r = await lab.run(`
- hosts: ${HOST}
  gather_facts: true
  tasks:
    - name: show facts
      debug: {var: facts}
`);
    expect(failures(r)).to.deep.equal([]);
    expect(r.summary.stats.execs, 'execs on the host').to.equal(1);
    expect(r.summary.stats.connects).to.equal(1);
    const msg = r.result('show facts', HOST).msg ?? '';
    const facts = JSON.parse(msg.slice(msg.indexOf('{'))) as Record<string, unknown>;
    expect(facts).to.include({ os_id: 'debian', os_version: '12', os_codename: 'bookworm', os_family: 'debian', init: 'systemd', pkg_mgr: 'apt', hostname: HOST });
    expect(facts.cpus).to.be.a('number').above(0);
    expect(facts.memtotal_mb).to.be.a('number').above(0);
    expect((facts.default_ipv4 as { address: string }).address).to.equal(lab.ip(HOST));
    expect(facts.all_ipv4_addresses).to.include(lab.ip(HOST));
  });

  // ---- apt -----------------------------------------------------------------------------------

  describe('apt', () => {
    const packages = () => sh(`dpkg-query -W -f '\${Package} \${Status} \${Version}\\n' | sort`);
    const listsAge = () => sh('stat -c %Y /var/lib/apt/lists');
    const purge = () => sh('DEBIAN_FRONTEND=noninteractive apt-get purge -y -q hello >/dev/null 2>&1 || true');

    before(purge);
    after(purge);

    it('installs a package with a stale cache: check mode, install, then in state', async () => {
      await sh("touch -d '2 days ago' /var/lib/apt/lists");
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: hello is installed
      apt: {name: hello, state: present, update_cache: true, cache_valid_time: 3600}
`;
      const { check, second } = await converges(pb, async () => `${await packages()}\nlists ${await listsAge()}`);
      expect(check.result('hello is installed', HOST).changes).to.deep.equal(['update the apt cache', 'install hello']);
      expect(await sh("dpkg-query -W -f '${Status}' hello")).to.equal('install ok installed');
      expect(await sh('hello')).to.equal('Hello, world!\n');
      expect(Number(await listsAge())).to.be.closeTo(Date.now() / 1000, 600);
      expect(second.result('hello is installed', HOST).msg).to.match(/hello is installed .*apt cache is \d+s old/);
    });

    it('update_cache with cache_valid_time updates only an old cache', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: refresh
      apt: {update_cache: true, cache_valid_time: 3600}
`;
      await sh("touch -d '2 hours ago' /var/lib/apt/lists");
      const stale = await listsAge();
      const check = await lab.run(pb, { check: true });
      expect(check.status('refresh')).to.deep.equal({ [HOST]: 'changed' });
      expect(await listsAge()).to.equal(stale);
      const first = await lab.run(pb);
      expect(first.status('refresh')).to.deep.equal({ [HOST]: 'changed' });
      expect(Number(await listsAge())).to.be.above(Number(stale));
      const second = await lab.run(pb);
      expect(second.status('refresh')).to.deep.equal({ [HOST]: 'ok' });
    });

    it('state: absent removes it; check mode first leaves it installed', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: no hello
      apt: {name: hello, state: absent}
`;
      expect(await sh("dpkg-query -W -f '${Status}' hello")).to.equal('install ok installed');
      const { check } = await converges(pb, packages);
      expect(check.result('no hello', HOST).changes?.[0]).to.match(/^remove hello \(/);
      expect((await lab.sh(HOST, 'dpkg-query -W -f "${Status}" hello')).stdout).to.not.equal('install ok installed');
    });
  });

  // ---- service -------------------------------------------------------------------------------

  describe('service', () => {
    const UNIT = '/etc/systemd/system/e2e-sleep.service';
    const unitState = () => sh('systemctl show e2e-sleep.service -p LoadState,ActiveState,UnitFileState; ls -l /etc/systemd/system/multi-user.target.wants/ | grep -c e2e-sleep || true');
    const reset = () => sh(`systemctl disable --now e2e-sleep.service >/dev/null 2>&1 || true; rm -f ${UNIT}; systemctl daemon-reload`);
    const packages = () => sh(`dpkg-query -W -f '\${Package} \${Status}\\n' | sort`);
    before(reset);
    after(reset);

    it('a unit file written by copy, then started and enabled', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: unit file
      copy:
        dest: ${UNIT}
        content: |
          [Unit]
          Description=tsplay e2e test service
          [Service]
          ExecStart=/bin/sleep infinity
          [Install]
          WantedBy=multi-user.target
    - name: running and enabled
      service: {name: e2e-sleep, state: started, enabled: true, daemon_reload: true}
`;
      const { check } = await converges(pb, unitState);
      // In check mode the unit does not exist yet: a pending change, not a failure.
      expect(check.result('running and enabled', HOST).changes?.join('\n')).to.match(/pending: e2e-sleep\.service does not exist yet/);
      expect(await sh('systemctl is-active e2e-sleep.service')).to.equal('active\n');
      expect(await sh('systemctl is-enabled e2e-sleep.service')).to.equal('enabled\n');
    });

    it('stopped and disabled', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: stopped
      service: {name: e2e-sleep, state: stopped, enabled: false}
`;
      const { check } = await converges(pb, unitState);
      expect(check.result('stopped', HOST).changes).to.deep.equal(['disable e2e-sleep.service', 'stop e2e-sleep.service']);
      expect((await lab.sh(HOST, 'systemctl is-active e2e-sleep.service')).stdout).to.equal('inactive\n');
      expect((await lab.sh(HOST, 'systemctl is-enabled e2e-sleep.service')).stdout).to.equal('disabled\n');
    });

    describe('a packaged service (cron)', () => {
      const purgeCron = () => sh('systemctl stop cron >/dev/null 2>&1 || true; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cron cron-daemon-common >/dev/null 2>&1 || true');
      before(purgeCron);
      after(purgeCron);

      it('check mode: the install is pending, so the service task is a pending change, not a failure', async () => {
        const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: cron installed
      apt: {name: cron}
    - name: cron runs
      service: {name: cron, state: started, enabled: true}
`;
        const state = async () => `${await packages()}\n${await sh('systemctl list-unit-files --no-legend cron.service || true')}`;
        const before = await state();
        const check = await lab.run(pb, { check: true });
        expect(failures(check)).to.deep.equal([]);
        expect(check.status('cron installed')).to.deep.equal({ [HOST]: 'changed' });
        expect(check.status('cron runs')).to.deep.equal({ [HOST]: 'changed' });
        expect(check.result('cron installed', HOST).changes).to.deep.equal(['install cron']);
        const pending = check.result('cron runs', HOST).changes ?? [];
        expect(pending.join('\n')).to.match(/pending: cron\.service does not exist yet; earlier tasks in this run would change it, last: install cron/);
        expect(await state()).to.equal(before);

        // For real: Debian's postinst already starts and enables cron, so the service task may be ok.
        const first = await lab.run(pb);
        expect(failures(first)).to.deep.equal([]);
        expect(first.status('cron installed')).to.deep.equal({ [HOST]: 'changed' });
        expect(await sh('systemctl is-active cron; systemctl is-enabled cron')).to.equal('active\nenabled\n');
        const second = await lab.run(pb);
        expect(statuses(second)).to.deep.equal([['cron installed', 'ok'], ['cron runs', 'ok']]);
      });

      it('without an earlier pending change, a missing unit fails in check mode too', async () => {
        const r = await lab.run(`
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: no such service
      service: {name: e2e-no-such-unit, state: started}
`, { check: true });
        expect(r.status('no such service')).to.deep.equal({ [HOST]: 'failed' });
        expect(r.result('no such service', HOST).msg).to.match(/e2e-no-such-unit\.service not found on the host/);
      });
    });
  });

  // ---- group, user, authorized_key -----------------------------------------------------------

  describe('group, user and authorized_key', () => {
    const accounts = () => sh('getent group e2e_staff e2e_ops || true; getent passwd e2e_alice || true; id e2e_alice 2>/dev/null || true; ls -ld /srv/e2e-alice 2>/dev/null || true; ls -la /srv/e2e-alice/.ssh 2>/dev/null || true; cat /srv/e2e-alice/.ssh/authorized_keys 2>/dev/null || true');
    const reset = () => sh('userdel -r e2e_alice >/dev/null 2>&1 || true; userdel -r e2e_dave >/dev/null 2>&1 || true; rm -rf /srv/e2e-alice; groupdel e2e_staff >/dev/null 2>&1 || true; groupdel e2e_ops >/dev/null 2>&1 || true');
    let keyDir: string;
    before(async () => {
      await reset();
      keyDir = mkdtempSync(join(tmpdir(), 'tsplay-e2e-key-'));
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@e2e', '-f', join(keyDir, 'id')]);
    });
    after(async () => {
      await reset();
      rmSync(keyDir, { recursive: true, force: true });
    });

    it('creates groups and a user with groups, shell and home', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: staff group
      group: {name: e2e_staff, gid: 2345}
    - name: ops group
      group: {name: e2e_ops}
    - name: alice
      user: {name: e2e_alice, groups: [e2e_staff], shell: /bin/bash, home: /srv/e2e-alice, comment: Alice E2E}
`;
      await converges(pb, accounts);
      expect(await sh('getent group e2e_staff')).to.match(/^e2e_staff:x:2345:e2e_alice$/m);
      expect(await sh('getent passwd e2e_alice')).to.match(/^e2e_alice:x:\d+:\d+:Alice E2E:\/srv\/e2e-alice:\/bin\/bash$/m);
      expect(await sh('stat -c "%U %F" /srv/e2e-alice')).to.equal('e2e_alice directory\n');
    });

    it('modifies the user (shell, appended group) and the gid of a group', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: staff gid
      group: {name: e2e_staff, gid: 2390}
    - name: alice changes
      user: {name: e2e_alice, groups: [e2e_ops], append: true, shell: /bin/sh}
`;
      const { check } = await converges(pb, accounts);
      expect(check.result('alice changes', HOST).changes).to.deep.equal(['add e2e_alice to e2e_ops', 'shell of e2e_alice: /bin/bash -> /bin/sh']);
      expect((await sh('id -nG e2e_alice')).trim().split(' ').sort()).to.deep.equal(['e2e_alice', 'e2e_ops', 'e2e_staff']);
      expect(await sh('getent passwd e2e_alice')).to.match(/:\/bin\/sh$/m);
      expect(await sh('getent group e2e_staff')).to.match(/^e2e_staff:x:2390:/m);
    });

    it('authorized_key: the key then logs in as that user over SSH', async () => {
      const pub = readFileSync(join(keyDir, 'id.pub'), 'utf8').trim();
      const login = () => lab.ssh(HOST, 'id -un', { user: 'e2e_alice', key: join(keyDir, 'id') });
      const refused = await login();
      expect(refused.code).to.equal(255);
      expect(refused.stderr).to.match(/Permission denied/);

      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: alice's key
      authorized_key: {user: e2e_alice, key: "${pub}"}
`;
      await converges(pb, accounts);
      expect(await sh('stat -c "%a %U" /srv/e2e-alice/.ssh /srv/e2e-alice/.ssh/authorized_keys')).to.equal('700 e2e_alice\n600 e2e_alice\n');
      const ok = await login();
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.equal('e2e_alice\n');
    });

    it('check mode: a key for a user that an earlier task creates is a pending change', async () => {
      const pub = readFileSync(join(keyDir, 'id.pub'), 'utf8').trim();
      const r = await lab.run(`
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: dave
      user: {name: e2e_dave}
    - name: dave's key
      authorized_key: {user: e2e_dave, key: "${pub}"}
`, { check: true });
      expect(statuses(r)).to.deep.equal([['dave', 'changed'], ["dave's key", 'changed']]);
      expect(r.result("dave's key", HOST).changes?.join('\n')).to.match(/pending: the user does not exist yet/);
      expect((await lab.sh(HOST, 'getent passwd e2e_dave; ls /home/e2e_dave')).code).to.not.equal(0);
    });

    it('removes the user and the groups', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: no alice
      user: {name: e2e_alice, state: absent, remove: true}
    - name: no staff
      group: {name: e2e_staff, state: absent}
    - name: no ops
      group: {name: e2e_ops, state: absent}
`;
      await converges(pb, accounts);
      expect((await lab.sh(HOST, 'getent passwd e2e_alice')).code).to.equal(2);
      expect((await lab.sh(HOST, 'getent group e2e_staff e2e_ops')).code).to.equal(2);
      expect((await lab.sh(HOST, 'test -e /srv/e2e-alice')).code).to.equal(1);
    });
  });

  // ---- file ----------------------------------------------------------------------------------

  describe('file', () => {
    const tree = () => sh("find /srv/e2e-file -exec stat -c '%n %F %U:%G %a %N' {} + 2>/dev/null | sort || true; getent passwd e2e_carol || true");
    const reset = () => sh('rm -rf /srv/e2e-file; userdel e2e_carol >/dev/null 2>&1 || true; groupdel e2e_carol >/dev/null 2>&1 || true');
    before(reset);
    after(reset);

    it('directory, file and link with owner, group and mode; owned by a user created in the same run', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: carol
      user: {name: e2e_carol, create_home: false}
    - name: base dir
      file: {path: /srv/e2e-file, state: directory, mode: "0755"}
    - name: data dir
      file: {path: /srv/e2e-file/data, state: directory, owner: e2e_carol, group: e2e_carol, mode: "0750"}
    - name: empty file
      file: {path: /srv/e2e-file/data/empty, state: touch, owner: e2e_carol, mode: "0640"}
    - name: link
      file: {path: /srv/e2e-file/current, state: link, src: /srv/e2e-file/data}
`;
      // touch always updates the times, so run it only on the first pass; the rest converges.
      const before = await tree();
      const check = await lab.run(pb, { check: true });
      expect(failures(check)).to.deep.equal([]);
      expect(statuses(check).map(([, s]) => s)).to.deep.equal(['changed', 'changed', 'changed', 'changed', 'changed']);
      expect(await tree()).to.equal(before);
      const first = await lab.run(pb);
      expect(failures(first)).to.deep.equal([]);
      expect(await sh("stat -c '%n %F %U:%G %a' /srv/e2e-file /srv/e2e-file/data /srv/e2e-file/data/empty")).to.equal(
        '/srv/e2e-file directory root:root 755\n/srv/e2e-file/data directory e2e_carol:e2e_carol 750\n/srv/e2e-file/data/empty regular empty file e2e_carol:root 640\n',
      );
      expect(await sh('readlink /srv/e2e-file/current')).to.equal('/srv/e2e-file/data\n');

      const again = pb.replace(/state: touch/, 'state: file');
      const second = await lab.run(again);
      expect(statuses(second)).to.deep.equal([['carol', 'ok'], ['base dir', 'ok'], ['data dir', 'ok'], ['empty file', 'ok'], ['link', 'ok']]);
    });

    it('changes only attributes that differ, and check mode leaves them', async () => {
      await sh('chmod 0700 /srv/e2e-file/data && chown root /srv/e2e-file/data/empty');
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: data dir
      file: {path: /srv/e2e-file/data, state: directory, owner: e2e_carol, group: e2e_carol, mode: "0750"}
    - name: empty file
      file: {path: /srv/e2e-file/data/empty, state: file, owner: e2e_carol, mode: "0640"}
`;
      const { check } = await converges(pb, tree);
      expect(check.result('data dir', HOST).changes?.join('\n')).to.match(/0700 -> 0750/);
      expect(check.result('empty file', HOST).changes?.join('\n')).to.match(/root:root -> e2e_carol:root/);
    });

    it('state: absent removes a tree', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  tasks:
    - name: gone
      file: {path: /srv/e2e-file, state: absent}
`;
      await converges(pb, tree);
      expect((await lab.sh(HOST, 'test -e /srv/e2e-file')).code).to.equal(1);
    });
  });

  // ---- copy, template, lineinfile, blockinfile -----------------------------------------------

  describe('copy, template, lineinfile and blockinfile', () => {
    const files = () => sh("cd /srv/e2e-text 2>/dev/null && for f in *; do stat -c '%n %U:%G %a' \"$f\"; sha256sum \"$f\"; done || true; ls /srv/e2e-text 2>/dev/null || true");
    const reset = () => sh("rm -rf /srv/e2e-text && mkdir -p /srv/e2e-text && printf 'a=1\\nb=2\\n' > /srv/e2e-text/settings.conf");
    before(reset);
    after(() => sh('rm -rf /srv/e2e-text'));

    it('write and edit files; the second run changes nothing', async () => {
      const pb = `
- hosts: ${HOST}
  gather_facts: false
  vars:
    greeting: hi
  tasks:
    - name: copy
      copy: {dest: /srv/e2e-text/copied.txt, content: "copied\\n", mode: "0600"}
    - name: template
      template: {src: hello.ejs, dest: /srv/e2e-text/rendered.txt, mode: "0644"}
    - name: lineinfile
      lineinfile: {path: /srv/e2e-text/settings.conf, regexp: "^b=", line: "b=3"}
    - name: blockinfile
      blockinfile: {path: /srv/e2e-text/settings.conf, block: "c=4\\nd=5"}
`;
      const opts = { files: { 'templates/hello.ejs': '<%= greeting %> from <%= inventory_hostname %>\n' } };
      const { check } = await converges(pb, files, opts);
      expect(check.result('lineinfile', HOST).diffs?.[0]?.after).to.equal('a=1\nb=3\n');
      expect(await sh('cat /srv/e2e-text/copied.txt /srv/e2e-text/rendered.txt')).to.equal(`copied\nhi from ${HOST}\n`);
      expect(await sh('stat -c %a /srv/e2e-text/copied.txt')).to.equal('600\n');
      expect(await sh('cat /srv/e2e-text/settings.conf')).to.equal('a=1\nb=3\n# BEGIN TSPLAY MANAGED BLOCK\nc=4\nd=5\n# END TSPLAY MANAGED BLOCK\n');
    });
  });
});
