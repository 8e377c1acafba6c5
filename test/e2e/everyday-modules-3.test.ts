/**
 * End to end, the third part of the everyday modules (mount, git, unarchive with zip) on a real
 * Debian lab host (e2e1: CAP_SYS_ADMIN, so tmpfs and bind mounts work; git and unzip installed
 * from the lab's apt mirror, never the internet). Each state module: check mode reports the
 * change and leaves the host as it was, the first run changes, the second changes nothing.
 * Each test puts back what it changed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { converges as convergesOn, debugged as debuggedOn, outcome as outcomeOn, playOn } from '../helpers/converge.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';

describe('everyday modules, part 3: mount, git, unarchive zip (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;

  const play = playOn(HOST);
  const outcome = (r: LabRun) => outcomeOn(r, HOST);
  const converges = (playbook: string, inspect: () => Promise<string>, files?: Record<string, string | Buffer>) => convergesOn(lab, HOST, playbook, inspect, { files });
  const debugged = (r: LabRun, task: string) => debuggedOn(r, task, HOST);

  async function sh(cmd: string, input?: string): Promise<string> {
    const r = await lab.sh(HOST, cmd, input === undefined ? undefined : { input });
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    // In the background and polled: under load the install outlasts one docker exec's timeout.
    const install = 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git unzip; echo "rc:$?" > /tmp/e2e-install.rc';
    await sh(`command -v git >/dev/null && command -v unzip >/dev/null && echo rc:0 > /tmp/e2e-install.rc || { rm -f /tmp/e2e-install.rc; nohup sh -c '${install}' > /tmp/e2e-install.log 2>&1 & }`);
    for (;;) {
      const rc = await sh('cat /tmp/e2e-install.rc 2>/dev/null || true');
      if (rc === 'rc:0\n') break;
      if (rc) throw new Error(`installing git and unzip failed:\n${await sh('tail -n 20 /tmp/e2e-install.log')}`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  });

  // ---- mount -------------------------------------------------------------------------------

  describe('mount', () => {
    const mounts = () => sh("awk '$2 ~ /^\\/mnt\\/e2e/ {print $1, $2, $3}' /proc/self/mounts");
    const state = async () => `${await sh('cat /etc/fstab 2>/dev/null || true')}--\n${await mounts()}--\n${await sh('ls -d /mnt/e2e* 2>/dev/null || true')}`;
    let fstab = '';
    before(async () => {
      fstab = await sh('cat /etc/fstab 2>/dev/null || true');
    });
    after(async () => {
      await sh('for m in $(awk \'$2 ~ /^\\/mnt\\/e2e/ {print $2}\' /proc/self/mounts | sort -r); do umount "$m"; done; rm -rf /mnt/e2e-tmp /mnt/e2e-bind /srv/e2e-bind-src; rm -f /etc/fstab.*~');
      await sh('cat > /etc/fstab', fstab);
    });

    it('a tmpfs: mounted (entry and mount), new options remount, unmounted, then absent', async () => {
      const mounted = (size: string) => play(`- name: tmpfs\n  mount: {path: /mnt/e2e-tmp, src: tmpfs, fstype: tmpfs, opts: "size=${size}", state: mounted}`);
      await converges(mounted('1m'), state);
      expect(await sh('tail -n 1 /etc/fstab')).to.equal('tmpfs /mnt/e2e-tmp tmpfs size=1m 0 0\n');
      expect(await sh("awk '$2 == \"/mnt/e2e-tmp\" {print $3, $4}' /proc/self/mounts")).to.match(/^tmpfs rw,.*size=1024k/);
      // Changed options: the entry is updated and the mounted tmpfs remounted with them.
      await converges(mounted('2m'), state);
      expect(await sh('grep -c e2e-tmp /etc/fstab')).to.equal('1\n');
      expect(await sh("awk '$2 == \"/mnt/e2e-tmp\" {print $4}' /proc/self/mounts")).to.match(/size=2048k/);
      await sh('echo data > /mnt/e2e-tmp/f');
      await converges(play('- name: off\n  mount: {path: /mnt/e2e-tmp, state: unmounted}'), state);
      expect(await mounts()).to.equal('');
      expect(await sh('grep -c e2e-tmp /etc/fstab')).to.equal('1\n');
      // Mounted again from its entry, then absent: unmounted, no entry, no mount point.
      await lab.run(mounted('2m'));
      expect(await mounts()).to.equal('tmpfs /mnt/e2e-tmp tmpfs\n');
      await converges(play('- name: gone\n  mount: {path: /mnt/e2e-tmp, state: absent}'), state);
      expect(await mounts()).to.equal('');
      expect(await sh('cat /etc/fstab 2>/dev/null || true')).to.equal(fstab);
      expect(await sh('ls -d /mnt/e2e-tmp 2>/dev/null || echo none')).to.equal('none\n');
    });

    it('a bind mount: present writes only the entry (with a diff), mounted mounts it, backup keeps the old fstab', async () => {
      await sh('mkdir -p /srv/e2e-bind-src && echo bound > /srv/e2e-bind-src/file && rm -f /etc/fstab.*~');
      const present = play('- name: entry\n  mount: {path: /mnt/e2e-bind, src: /srv/e2e-bind-src, fstype: none, opts: bind, state: present, backup: true}');
      const { check } = await converges(present, state);
      const diff = check.result('entry', HOST).diffs ?? [];
      expect(JSON.stringify(diff)).to.include('/srv/e2e-bind-src /mnt/e2e-bind none bind 0 0');
      expect(await mounts()).to.equal('');
      // The one write of the entry kept the fstab it replaced (when there was one).
      expect(await sh('ls /etc/fstab.*~ 2>/dev/null | wc -l')).to.equal(fstab ? '1\n' : '0\n');
      await converges(play('- name: bind\n  mount: {path: /mnt/e2e-bind, src: /srv/e2e-bind-src, fstype: none, opts: bind, state: mounted}'), state);
      expect(await sh('cat /mnt/e2e-bind/file')).to.equal('bound\n');
      await converges(play('- name: gone\n  mount: {path: /mnt/e2e-bind, state: absent}'), state);
      expect(await sh('cat /srv/e2e-bind-src/file')).to.equal('bound\n');
      expect(await sh('cat /etc/fstab 2>/dev/null || true')).to.equal(fstab);
    });
  });

  // ---- git ---------------------------------------------------------------------------------

  describe('git', () => {
    const commit = async (file: string, text: string) => {
      await sh(`cd /tmp/e2e-git-work && printf '%s\\n' '${text}' > ${file} && git add ${file} && git -c user.email=e2e@lab -c user.name=e2e commit -q -m '${text}' && git push -q origin main`);
      return (await sh('git -C /tmp/e2e-git-work rev-parse HEAD')).trim();
    };
    const head = async () => (await sh('git -C /tmp/e2e-git-co rev-parse HEAD 2>/dev/null || echo none')).trim();
    beforeEach(() => sh('rm -rf /srv/e2e-git /tmp/e2e-git-work /tmp/e2e-git-co && git init -q --bare -b main /srv/e2e-git/app.git && git clone -q /srv/e2e-git/app.git /tmp/e2e-git-work 2>/dev/null'));
    after(() => sh('rm -rf /srv/e2e-git /tmp/e2e-git-work /tmp/e2e-git-co'));

    const pb = (extra = '') => play(`- name: checkout\n  git: {repo: "file:///srv/e2e-git/app.git", dest: /tmp/e2e-git-co${extra}}\n  register: co\n- name: show\n  debug: {var: co}`);

    it('clones a bare repository, takes a new commit with before/after, and keeps converged runs at changed=0', async () => {
      const c1 = await commit('README', 'one');
      const clone = async () => {
        const check = await lab.run(pb(), { check: true });
        expect(outcome(check)).to.deep.equal({ checkout: 'changed', show: 'ok' });
        expect(await head()).to.equal('none');
        const first = await lab.run(pb());
        expect(outcome(first)).to.deep.equal({ checkout: 'changed', show: 'ok' });
        return first;
      };
      const first = await clone();
      expect(debugged(first, 'show')).to.include({ before: null, after: c1, remote_url_changed: false, changed: true });
      expect(await head()).to.equal(c1);
      const again = await lab.run(pb());
      expect(outcome(again)).to.deep.equal({ checkout: 'ok', show: 'ok' });
      expect(again.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });

      const c2 = await commit('README', 'two');
      const check = await lab.run(pb(), { check: true });
      expect(outcome(check)).to.deep.equal({ checkout: 'changed', show: 'ok' });
      expect(debugged(check, 'show')).to.include({ before: c1, after: c2 });
      expect(await head()).to.equal(c1);
      const update = await lab.run(pb());
      expect(outcome(update)).to.deep.equal({ checkout: 'changed', show: 'ok' });
      expect(debugged(update, 'show')).to.include({ before: c1, after: c2, changed: true });
      expect(await sh('cat /tmp/e2e-git-co/README')).to.equal('two\n');
      const converged = await lab.run(pb());
      expect(converged.summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
      expect(debugged(converged, 'show')).to.include({ before: c2, after: c2, changed: false });
    });

    it('a tag, then local changes: fails without force and keeps them, force discards them', async () => {
      const c1 = await commit('README', 'one');
      await sh('cd /tmp/e2e-git-work && git -c user.email=e2e@lab -c user.name=e2e tag -a v1 -m v1 && git push -q origin v1');
      await commit('README', 'two');
      await converges(play('- name: checkout\n  git: {repo: "file:///srv/e2e-git/app.git", dest: /tmp/e2e-git-co, version: v1}'), head);
      expect(await head()).to.equal(c1);
      await sh('echo mine > /tmp/e2e-git-co/README');
      const refused = await lab.run(pb());
      expect(outcome(refused).checkout).to.match(/^failed: local modifications exist in \/tmp\/e2e-git-co \(force is false\): M README/);
      expect(await sh('cat /tmp/e2e-git-co/README')).to.equal('mine\n');
      const forced = await lab.run(pb(', force: true'));
      expect(outcome(forced)).to.deep.equal({ checkout: 'changed', show: 'ok' });
      expect(await sh('cat /tmp/e2e-git-co/README')).to.equal('two\n');
      expect((await lab.run(pb(', force: true'))).summary.hosts[HOST]).to.include({ changed: 0, failed: 0 });
    });

    it('a local commit the update would drop fails without force', async () => {
      await commit('README', 'one');
      await lab.run(pb());
      await sh('cd /tmp/e2e-git-co && echo local > README && git -c user.email=e2e@lab -c user.name=e2e commit -q -am local');
      await commit('README', 'two');
      const r = await lab.run(pb());
      expect(outcome(r).checkout).to.match(/^failed: .*exit code 1/);
      expect(JSON.stringify(r.result('checkout', HOST))).to.include('the local branch main has commits that are not on origin/main');
      expect(await sh('git -C /tmp/e2e-git-co log -1 --format=%s')).to.equal('local\n');
    });
  });

  // ---- unarchive: zip ----------------------------------------------------------------------

  describe('unarchive zip', () => {
    const tree = () => lab.sh(HOST, "cd /tmp/e2e-unzip 2>/dev/null && find . -printf '%p %y %u %s\\n' | sort").then((r) => r.stdout);
    beforeEach(() => sh('rm -rf /tmp/e2e-unzip /tmp/e2e-unzip.zip && mkdir -p /tmp/e2e-unzip'));
    after(() => sh('rm -rf /tmp/e2e-unzip /tmp/e2e-unzip.zip; [ -e /usr/bin/unzip.off ] && mv /usr/bin/unzip.off /usr/bin/unzip; true'));

    /** A zip made on the controller by Info-ZIP's zip: app/bin/run, app/README, a link. */
    function archive(): Buffer {
      const d = mkdtempSync(join(tmpdir(), 'tsplay-e2e-unzip-'));
      try {
        mkdirSync(join(d, 'app/bin'), { recursive: true });
        writeFileSync(join(d, 'app/bin/run'), '#!/bin/sh\necho run\n');
        writeFileSync(join(d, 'app/README'), 'read me\n'.repeat(20));
        execFileSync('ln', ['-s', 'bin/run', join(d, 'app/start')]);
        execFileSync('zip', ['-qry', join(d, 'app.zip'), 'app'], { cwd: d });
        return readFileSync(join(d, 'app.zip'));
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    }

    it('from the controller, with an owner: converges; a changed file is put back', async () => {
      const files = { 'files/app.zip': archive() };
      const pb = play('- name: unpack\n  unarchive: {src: app.zip, dest: /tmp/e2e-unzip, owner: nobody}');
      await converges(pb, tree, files);
      const shown = await lab.run(play('- name: unpack\n  unarchive: {src: app.zip, dest: /tmp/e2e-unzip, owner: nobody}\n  register: un\n- name: show\n  debug: {var: un}'), { files });
      expect(await tree()).to.equal(['. d root 4096', './app d nobody 4096', './app/README f nobody 160', './app/bin d nobody 4096', './app/bin/run f nobody 19', './app/start l nobody 7', ''].join('\n'));
      expect(debugged(shown, 'show')).to.include({ handler: 'ZipArchive', changed: false });
      expect(await sh('ls -A /tmp | grep tsplay-unarchive || true')).to.equal('');
      // Same size, other contents: the sha256 comparison sees it.
      await sh("sed -i 's/read/READ/' /tmp/e2e-unzip/app/README");
      await converges(pb, tree, files);
      expect(await sh('head -n 1 /tmp/e2e-unzip/app/README')).to.equal('read me\n');
    });

    it('remote_src: the host\'s unzip compares contents; without unzip the task says what to install', async () => {
      await sh('base64 -d > /tmp/e2e-unzip.zip', archive().toString('base64'));
      const pb = play('- name: unpack\n  unarchive: {src: /tmp/e2e-unzip.zip, dest: /tmp/e2e-unzip, remote_src: true}');
      await converges(pb, tree);
      await sh("sed -i 's/echo run/echo RUN/' /tmp/e2e-unzip/app/bin/run");
      await converges(pb, tree);
      expect(await sh('cat /tmp/e2e-unzip/app/bin/run')).to.equal('#!/bin/sh\necho run\n');
      await sh('mv /usr/bin/unzip /usr/bin/unzip.off && rm -rf /tmp/e2e-unzip/app');
      try {
        const r = await lab.run(pb);
        expect(outcome(r).unpack).to.equal('failed: unzip is not installed on the host: install it first (package: {name: unzip}) to extract zip archives');
      } finally {
        await sh('mv /usr/bin/unzip.off /usr/bin/unzip');
      }
    });
  });
});
