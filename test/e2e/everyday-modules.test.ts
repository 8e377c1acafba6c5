/**
 * End to end: the everyday modules Ansible roles use (package, stat, systemd, replace, sysctl,
 * hostname, timezone, file touch times) on a real Debian 12 lab host (systemd as PID 1, in a
 * container), through the real engine and SSH. Each state module: check mode reports the change
 * and leaves the host as it was, the first run changes, the second changes nothing. Each test
 * puts back what it changed.
 */
import { expect } from 'chai';
import { converges as convergesOn, debugged as debuggedOn, every as everyOn, outcome as outcomeOn, playOn } from '../helpers/converge.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';

describe('everyday modules on a lab host (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let t0 = 0;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
  });

  after(() => console.log(`      [everyday-modules: ${((Date.now() - t0) / 1000).toFixed(1)} s]`));

  async function sh(cmd: string): Promise<string> {
    const r = await lab.sh(HOST, cmd);
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  const play = playOn(HOST);
  const outcome = (r: LabRun) => outcomeOn(r, HOST);
  const every = (r: LabRun, status: string) => everyOn(r, HOST, status);
  const converges = (playbook: string, inspect: () => Promise<string>) => convergesOn(lab, HOST, playbook, inspect);
  const debugged = (r: LabRun, task: string) => debuggedOn(r, task, HOST);

  // ---- package -------------------------------------------------------------------------------

  describe('package', () => {
    const purge = () => sh('DEBIAN_FRONTEND=noninteractive apt-get purge -y -q hello >/dev/null 2>&1 || true');
    before(async () => {
      await purge();
      const r = await lab.run(play('- name: lists\n  apt: {update_cache: true, cache_valid_time: 86400}'));
      expect(outcome(r).lists).to.not.match(/^failed/);
    });
    after(purge);

    it('installs through apt on Debian: check mode, install, then in state', async () => {
      const packages = () => sh(`dpkg-query -W -f '\${Package} \${Status}\\n' | sort`);
      const { check } = await converges(play('- name: hello\n  package: {name: hello}'), packages);
      expect(check.result('hello', HOST).changes).to.deep.equal(['install hello']);
      expect(await sh('hello')).to.equal('Hello, world!\n');
    });
  });

  // ---- stat ----------------------------------------------------------------------------------

  describe('stat', () => {
    after(() => sh('rm -rf /tmp/e2e-stat'));

    it('registers an Ansible-shaped result (mode, owner, sha1 checksum, link source), also in check mode, never changed', async () => {
      await sh("mkdir -p /tmp/e2e-stat && printf 'hello\\n' > /tmp/e2e-stat/f && chmod 0640 /tmp/e2e-stat/f && ln -sfn f /tmp/e2e-stat/l");
      const pb = play(`- name: file
  stat: {path: /tmp/e2e-stat/f}
  register: f
- name: link
  stat: {path: /tmp/e2e-stat/l, get_checksum: false}
  register: l
- name: missing
  stat: {path: /tmp/e2e-stat/nope}
  register: m
- name: show f
  debug: {var: f}
- name: show l
  debug: {var: l}
- name: use it
  assert:
    that: [f.stat.exists, f.stat.isreg, "!l.stat.isreg", l.stat.islnk, "!m.stat.exists", "f.stat.mode == '0640'"]`);
      for (const check of [true, false]) {
        const r = await lab.run(pb, { check });
        expect(outcome(r), `check: ${check}`).to.deep.equal(every(r, 'ok'));
        const f = debugged(r, 'show f').stat as Record<string, unknown>;
        expect(f).to.include({ exists: true, isreg: true, isdir: false, islnk: false, mode: '0640', uid: 0, pw_name: 'root', gr_name: 'root', size: 6 });
        expect(f.checksum).to.equal((await sh('sha1sum /tmp/e2e-stat/f')).split(' ')[0]);
        expect(f.mtime).to.equal(Number(await sh('stat -c %Y /tmp/e2e-stat/f')));
        expect(debugged(r, 'show l').stat).to.include({ islnk: true, lnk_target: 'f', lnk_source: '/tmp/e2e-stat/f' }).and.not.have.property('checksum');
      }
    });
  });

  // ---- find --------------------------------------------------------------------------------

  describe('find', () => {
    after(() => sh('rm -rf /tmp/e2e-find'));

    it('registers the files that match names, age and content, like Ansible (also in check mode)', async () => {
      await sh("mkdir -p /tmp/e2e-find/sub && printf 'ERROR x\\n' > /tmp/e2e-find/old.log && printf 'ok\\n' > /tmp/e2e-find/new.log && printf 'ERROR y\\n' > /tmp/e2e-find/sub/deep.log && touch -d '40 days ago' /tmp/e2e-find/old.log /tmp/e2e-find/sub/deep.log");
      const pb = play(`- name: old errors
  find: {paths: /tmp/e2e-find, patterns: '*.log', recurse: true, age: 4w, contains: ERROR}
  register: found
- name: show
  debug: {var: found}`);
      for (const check of [true, false]) {
        const r = await lab.run(pb, { check });
        expect(outcome(r)).to.deep.equal({ 'old errors': 'ok', show: 'ok' });
        const found = debugged(r, 'show') as { files: Array<{ path: string; isreg: boolean; size: number }>; matched: number; examined: number };
        expect(found.files.map((f) => f.path)).to.deep.equal(['/tmp/e2e-find/old.log', '/tmp/e2e-find/sub/deep.log']);
        expect(found).to.include({ matched: 2, examined: 4 });
        expect(found.files[0]).to.include({ isreg: true, size: 8 });
      }
    });
  });

  // ---- systemd -------------------------------------------------------------------------------

  describe('systemd', () => {
    // Under /usr/lib: systemd refuses to mask a unit whose file is in /etc.
    const UNIT = '/usr/lib/systemd/system/e2e-everyday.service';
    const unitState = () => sh('systemctl show e2e-everyday.service -p LoadState,ActiveState,UnitFileState');
    const reset = () => sh(`systemctl unmask e2e-everyday.service >/dev/null 2>&1; systemctl disable --now e2e-everyday.service >/dev/null 2>&1; rm -f ${UNIT}; systemctl daemon-reload`);
    before(reset);
    after(reset);

    it('daemon_reload + started + enabled, then masked and stopped, then unmasked', async () => {
      await sh(`printf '[Unit]\\nDescription=tsplay e2e\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' > ${UNIT}`);
      await converges(play('- name: runs\n  systemd: {name: e2e-everyday, state: started, enabled: true, daemon_reload: true}'), unitState);
      expect(await unitState()).to.equal('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n');

      await converges(play('- name: masked\n  systemd: {name: e2e-everyday, state: stopped, masked: true}'), unitState);
      expect(await unitState()).to.equal('LoadState=masked\nActiveState=inactive\nUnitFileState=masked\n');

      const { check } = await converges(play('- name: unmasked\n  systemd: {name: e2e-everyday, masked: false, state: started}'), unitState);
      expect(check.result('unmasked', HOST).changes).to.deep.equal(['unmask e2e-everyday.service', 'start e2e-everyday.service']);
      expect(await unitState()).to.match(/^LoadState=loaded\nActiveState=active\n/);
    });

    it('a bare daemon_reload runs and reports ok', async () => {
      const r = await lab.run(play('- name: reload\n  systemd: {daemon_reload: true}'));
      expect(outcome(r)).to.deep.equal({ reload: 'ok' });
    });
  });

  // ---- replace -------------------------------------------------------------------------------

  describe('replace', () => {
    const FILE = '/tmp/e2e-replace.ini';
    after(() => sh(`rm -f ${FILE} ${FILE}.*~`));

    it('backrefs between after and before, with a backup; check mode shows the diff', async () => {
      await sh(`printf '[main]\\nmirror = http://a\\nport=80\\n[extra]\\nmirror = http://b\\n' > ${FILE}`);
      const content = () => sh(`cat ${FILE}; ls ${FILE}* | wc -l`);
      const { check } = await converges(
        play(`- name: mirror
  replace: {path: ${FILE}, after: '\\[main\\]', before: '\\[extra\\]', regexp: '^(?P<key>mirror) = http://(\\w+)$', replace: '\\g<key> = https://\\2.lan', backup: true}`),
        content,
      );
      expect(check.result('mirror', HOST).diffs?.[0]?.after).to.equal('[main]\nmirror = https://a.lan\nport=80\n[extra]\nmirror = http://b\n');
      expect(await sh(`cat ${FILE}`)).to.equal('[main]\nmirror = https://a.lan\nport=80\n[extra]\nmirror = http://b\n');
      expect(await sh(`ls ${FILE}* | wc -l`)).to.equal('2\n');
    });
  });

  // ---- sysctl --------------------------------------------------------------------------------

  describe('sysctl', () => {
    const FILE = '/etc/sysctl.d/99-tsplay-e2e.conf';
    after(() => sh(`rm -f ${FILE}`));

    it('writes the file; the running kernel is changed where /proc/sys is writable, and the plan says so where it is not', async () => {
      const writable = (await lab.sh(HOST, '[ -w /proc/sys/net/ipv4/ip_forward ]')).code === 0;
      const running = (await sh('cat /proc/sys/net/ipv4/ip_forward')).trim();
      const want = running === '1' ? '0' : '1';
      const { first } = await converges(
        play(`- name: forward\n  sysctl: {name: net.ipv4.ip_forward, value: '${want}', sysctl_file: ${FILE}}`),
        () => sh(`cat ${FILE} 2>/dev/null || echo absent`),
      );
      expect(await sh(`cat ${FILE}`)).to.equal(`net.ipv4.ip_forward=${want}\n`);
      const changes = first.result('forward', HOST).changes ?? [];
      if (writable) {
        expect(changes[1]).to.match(/^load .* into the running kernel/);
        expect((await sh('cat /proc/sys/net/ipv4/ip_forward')).trim()).to.equal(want);
        await sh(`sysctl -w net.ipv4.ip_forward=${running} >/dev/null`);
      } else {
        expect(changes[1]).to.match(/^not applied: \/proc\/sys\/net\/ipv4\/ip_forward is read-only here \(a container\?\)/);
        expect((await sh('cat /proc/sys/net/ipv4/ip_forward')).trim()).to.equal(running);
      }
      console.log(`      [sysctl: /proc/sys is ${writable ? 'writable' : 'read-only'} on the lab host]`);
    });
  });

  // ---- hostname ------------------------------------------------------------------------------

  describe('hostname', () => {
    after(() => sh(`hostname ${HOST}; printf '%s\\n' ${HOST} > /etc/hostname`));

    it('renames the host in /etc/hostname and in the kernel', async () => {
      const names = () => sh('hostname; cat /etc/hostname');
      await converges(play('- name: rename\n  hostname: {name: e2e1-renamed.lab}'), names);
      expect(await names()).to.equal('e2e1-renamed.lab\ne2e1-renamed.lab\n');
    });
  });

  // ---- timezone ------------------------------------------------------------------------------

  describe('timezone', () => {
    let before = '';
    after(() => sh(`ln -sfn ${before} /etc/localtime; echo Etc/UTC > /etc/timezone`));

    it('links /etc/localtime and writes /etc/timezone (tzdata installed with package first)', async () => {
      const r = await lab.run(play('- name: tzdata\n  package: {name: tzdata}'));
      expect(outcome(r).tzdata).to.be.oneOf(['ok', 'changed']);
      before = (await sh('readlink /etc/localtime || echo /usr/share/zoneinfo/Etc/UTC')).trim();
      const zone = () => sh('readlink /etc/localtime; cat /etc/timezone 2>/dev/null; date +%Z');
      await converges(play('- name: paris\n  timezone: {name: Europe/Paris}'), zone);
      expect(await zone()).to.match(/^\/usr\/share\/zoneinfo\/Europe\/Paris\nEurope\/Paris\nCES?T\n$/);
    });
  });

  // ---- cron --------------------------------------------------------------------------------

  describe('cron', () => {
    const reset = () => sh('crontab -r -u root 2>/dev/null; rm -f /etc/cron.d/tsplay-e2e; true');
    after(reset);

    it('a job in root\'s crontab and one in /etc/cron.d, with Ansible\'s markers; an Ansible-made entry converges', async () => {
      const r = await lab.run(play('- name: cron\n  package: {name: cron}'));
      expect(outcome(r).cron).to.be.oneOf(['ok', 'changed']);
      await reset();
      // What Ansible left on a migrated host: the job under its marker, with an old schedule.
      await sh("printf 'MAILTO=ops\\n#Ansible: backup\\n0 1 * * * /bin/true\\n' | crontab -u root -");
      const state = () => sh('crontab -l -u root 2>&1; cat /etc/cron.d/tsplay-e2e 2>&1; true');
      const { check } = await converges(
        play(`- name: backup
  cron: {name: backup, user: root, minute: '30', hour: '2', job: /bin/true}
- name: cleanup
  cron: {name: cleanup, cron_file: tsplay-e2e, user: root, special_time: daily, job: 'find /tmp -mtime +7 -delete'}`),
        state,
      );
      expect(check.result('backup', HOST).changes).to.deep.equal(['job updated: "backup" in the crontab of root']);
      expect(await sh('crontab -l -u root')).to.equal('MAILTO=ops\n#Ansible: backup\n30 2 * * * /bin/true\n');
      expect(await sh('cat /etc/cron.d/tsplay-e2e; stat -c %a /etc/cron.d/tsplay-e2e')).to.equal('#Ansible: cleanup\n@daily root find /tmp -mtime +7 -delete\n644\n');

      await converges(play('- name: gone\n  cron: {name: cleanup, cron_file: tsplay-e2e, user: root, state: absent}'), state);
      expect((await lab.sh(HOST, 'test -e /etc/cron.d/tsplay-e2e')).code).to.equal(1);
    });
  });

  // ---- file: touch times ---------------------------------------------------------------------

  describe('file touch times', () => {
    after(() => sh('rm -f /tmp/e2e-touch /tmp/e2e-stamp'));

    it('touch with preserve creates once and then leaves the times alone; a timestamp is set once', async () => {
      await sh('rm -f /tmp/e2e-touch /tmp/e2e-stamp');
      const times = () => sh('stat -c "%n %X %Y" /tmp/e2e-touch /tmp/e2e-stamp 2>&1 || true');
      const pb = play(`- name: touched once
  file: {path: /tmp/e2e-touch, state: touch, mode: '0600', modification_time: preserve, access_time: preserve}
- name: stamped
  file: {path: /tmp/e2e-stamp, state: touch, modification_time: '202401021530.00', access_time: '2024-01-03', access_time_format: '%Y-%m-%d'}`);
      const before = await lab.run(pb);
      expect(outcome(before)).to.deep.equal({ 'touched once': 'changed', stamped: 'changed' });
      const t1 = await times();
      const again = await lab.run(pb);
      expect(outcome(again)).to.deep.equal({ 'touched once': 'ok', stamped: 'ok' });
      expect(await times()).to.equal(t1);
      expect(await sh("date -d @$(stat -c %Y /tmp/e2e-stamp) '+%Y-%m-%d %H:%M:%S'; date -d @$(stat -c %X /tmp/e2e-stamp) '+%Y-%m-%d %H:%M:%S'")).to.equal(
        '2024-01-02 15:30:00\n2024-01-03 00:00:00\n',
      );
      // Touched by hand: a preserve touch still changes nothing; the stamp is put back.
      await sh('touch /tmp/e2e-touch /tmp/e2e-stamp');
      const check = await lab.run(pb, { check: true });
      expect(outcome(check)).to.deep.equal({ 'touched once': 'ok', stamped: 'changed' });
      expect(check.result('stamped', HOST).changes).to.deep.equal([
        'set the modification time of /tmp/e2e-stamp to 2024-01-02 15:30:00',
        'set the access time of /tmp/e2e-stamp to 2024-01-03 00:00:00',
      ]);
    });
  });
});
