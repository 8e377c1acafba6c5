/**
 * nfs-shares on this machine (root, Debian, nfs-kernel-server installed; skipped otherwise):
 * the module is applied for a throw-away root under /tmp and throw-away users, then the
 * permission promises are checked by acting as those users (su): the shared folder gives new
 * files the group, nobody deletes or renames another member's file, nobody enters another
 * user's folder, outsiders cannot write. exportfs -ra runs for real on the generated exports
 * (this kernel has no nfsd: exportfs still checks the file and updates /var/lib/nfs/etab, which
 * `exportfs -s` reads), and every export option the module accepts is accepted by exportfs.
 * The client side is planned against this machine's real facts (its kernel cannot mount NFS).
 * Users, groups, the exports file and the folders are removed afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import nfs from '../../../src/modules/nfs/nfs-shares.js';
import { EXPORT_FLAGS } from '../../../src/modules/nfs/lib/nfs-params.js';
import { fstabLine, updateFstab } from '../../../src/modules/nfs/lib/nfs-fstab.js';
import { applyLocal, have, planLocal } from '../../helpers/run-local.js';

const canRun = process.getuid?.() === 0 && have('exportfs') && have('useradd') && have('su');

const GROUP = 'tsplay-nfs-grp';
const [A, B, C] = ['tsplay-nfs-a', 'tsplay-nfs-b', 'tsplay-nfs-c'];

/** Runs a shell command as `user`; returns the exit code and output. */
function as(user: string, cmd: string): { code: number; out: string } {
  const r = spawnSync('su', ['-s', '/bin/sh', '-c', cmd, user], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
const statOf = (path: string) => sh(`stat -c '%U:%G %a' '${path}'`);
const exists = (kind: 'user' | 'group', name: string) => spawnSync('getent', [kind === 'user' ? 'passwd' : 'group', name]).status === 0;

function removeAccounts(): void {
  for (const u of [A, B, C]) if (exists('user', u)) execFileSync('userdel', [u]);
  for (const g of [A, B, C, GROUP]) if (exists('group', g)) execFileSync('groupdel', [g]);
}

describe('nfs-shares on this machine', function () {
  this.timeout(120_000);
  let base = '';
  let root = '';
  const exportsFile = `/etc/exports.d/tsplay-test-${process.pid}.exports`;
  const params = () => ({
    root,
    group: { name: GROUP, gid: 47100 },
    users: [{ name: A, uid: 47101 }, { name: B, uid: 47102 }],
    exports: [
      { path: 'shared', clients: ['192.168.165.0/24'] },
      { path: A, clients: ['10.0.0.5'], access: 'ro' },
    ],
    exports_file: exportsFile,
  });

  const withB = () => ({
    ...params(),
    users: [...params().users, { name: C, uid: 47103 }],
    exports: [...params().exports, { path: B, clients: ['10.0.0.6'], options: ['all_squash', 'anonuid=47102'] }],
  });

  before(function () {
    if (!canRun) this.skip();
    removeAccounts();
    base = mkdtempSync(join(tmpdir(), 'tsplay-nfs-'));
    chmodSync(base, 0o755); // the users must be able to walk into root
    root = join(base, 'share');
  });
  after(() => {
    if (!canRun) return;
    removeAccounts();
    rmSync(exportsFile, { force: true });
    spawnSync('exportfs', ['-ra']);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('creates the accounts, folders and exports, then converges (second run: noop)', async () => {
    const first = await applyLocal(nfs, params());
    expect(first.changed, JSON.stringify(first)).to.equal(true);
    const changes = first.changed ? first.changes : [];
    expect(changes).to.include.members([`create group ${GROUP} (gid 47100)`, `create user ${A} (uid 47101)`, `create ${root}/shared (root:${GROUP} 3770)`]);
    expect(changes.at(-1)).to.equal('exportfs -ra (the exports changed)');

    expect(statOf(root)).to.equal('root:root 755');
    expect(statOf(`${root}/${A}`)).to.equal(`${A}:${A} 700`);
    expect(statOf(`${root}/${B}`)).to.equal(`${B}:${B} 700`);
    expect(statOf(`${root}/shared`)).to.equal(`root:${GROUP} 3770`);
    expect(sh(`id -u ${A}`)).to.equal('47101');
    expect(sh(`id -gn ${A}`)).to.equal(A);
    expect(sh(`id -Gn ${A}`).split(' ')).to.include(GROUP);
    expect(sh(`getent group ${A} | cut -d: -f3`)).to.equal('47101');

    expect(readFileSync(exportsFile, 'utf8')).to.equal(
      '# Managed by tsplay (nfs-shares): local changes are overwritten.\n' +
        `${root}/shared 192.168.165.0/24(rw,sync,no_subtree_check,root_squash)\n` +
        `${root}/${A} 10.0.0.5(ro,sync,no_subtree_check,root_squash)\n`,
    );
    const table = sh('exportfs -s');
    expect(table).to.include(`${root}/shared  192.168.165.0/24(`);
    expect(table).to.match(new RegExp(`${root}/${A}  10\\.0\\.0\\.5\\([^)]*\\bro\\b`));

    const second = await planLocal(nfs, params());
    expect(second.changed, JSON.stringify(second)).to.equal(false);
  });

  // Permissions, acting as the users (mocha runs these in order, after the apply above).
  it("a member's new file in the shared folder gets the common group (setgid)", () => {
    expect(as(A, `echo hello > ${root}/shared/a.txt`).code).to.equal(0);
    expect(statOf(`${root}/shared/a.txt`)).to.match(new RegExp(`^${A}:${GROUP} `));
    expect(as(A, `mkdir ${root}/shared/a-dir && touch ${root}/shared/a-dir/f`).code).to.equal(0);
    expect(statOf(`${root}/shared/a-dir/f`)).to.match(new RegExp(`^${A}:${GROUP} `));
  });

  it("another member can read it but neither delete nor rename it (sticky), and can add their own", () => {
    expect(as(B, `cat ${root}/shared/a.txt`)).to.deep.include({ code: 0 });
    const rm = as(B, `rm -f ${root}/shared/a.txt`);
    expect(rm.code, rm.out).to.not.equal(0);
    expect(rm.out).to.include('Operation not permitted');
    expect(as(B, `mv ${root}/shared/a.txt ${root}/shared/stolen.txt`).code).to.not.equal(0);
    expect(existsSync(`${root}/shared/a.txt`)).to.equal(true);
    expect(as(B, `echo mine > ${root}/shared/b.txt && rm ${root}/shared/b.txt`).code).to.equal(0);
    expect(as(A, `rm ${root}/shared/a.txt`).code, 'the owner may delete it').to.equal(0);
  });

  it("a user can neither write into nor list another user's folder", () => {
    expect(as(B, `touch ${root}/${B}/own`).code).to.equal(0);
    const write = as(A, `touch ${root}/${B}/intruder`);
    expect(write.code).to.not.equal(0);
    expect(write.out).to.include('Permission denied');
    expect(as(A, `ls ${root}/${B}`).code).to.not.equal(0);
    expect(existsSync(`${root}/${B}/intruder`)).to.equal(false);
  });

  it('someone outside the group cannot write into or list the shared folder', () => {
    expect(as('nobody', `touch ${root}/shared/x`).code).to.not.equal(0);
    expect(as('nobody', `ls ${root}/shared`).code).to.not.equal(0);
  });

  it('a new user: its group, account and folder only', async () => {
    const next = { ...params(), users: [...params().users, { name: C, uid: 47103 }] };
    const plan = await planLocal(nfs, next);
    expect(plan.changed).to.equal(true);
    if (!plan.changed) return;
    expect(plan.changes).to.deep.equal([`create group ${C} (gid 47103)`, `create user ${C} (uid 47103)`, `create ${root}/${C} (${C}:${C} 0700)`]);
    await applyLocal(nfs, next);
    expect(statOf(`${root}/${C}`)).to.equal(`${C}:${C} 700`);
    expect((await planLocal(nfs, next)).changed).to.equal(false);
  });

  it('changed exports: the file is rewritten and exportfs -ra applies it', async () => {
    const plan = await applyLocal(nfs, withB());
    expect(plan.changed && plan.changes).to.deep.equal([`update ${exportsFile}`, 'exportfs -ra (the exports changed)']);
    expect(sh('exportfs -s')).to.match(new RegExp(`${root}/${B}  10\\.0\\.0\\.6\\([^)]*all_squash`));
    expect((await planLocal(nfs, withB())).changed).to.equal(false);
  });

  it('an export missing from the export table is re-applied even though the file is unchanged', async () => {
    execFileSync('exportfs', ['-u', `192.168.165.0/24:${root}/shared`]);
    const plan = await planLocal(nfs, withB());
    expect(plan.changed && plan.changes).to.deep.equal([`exportfs -ra (not in the export table: ${root}/shared)`]);
    await applyLocal(nfs, withB());
    expect(sh('exportfs -s')).to.include(`${root}/shared  192.168.165.0/24(`);
  });

  it('exportfs accepts every option the module accepts (and rejects one it does not know)', () => {
    const file = `/etc/exports.d/tsplay-opts-${process.pid}.exports`;
    const dir = join(base, 'opts');
    mkdirSync(dir, { recursive: true });
    const valued = ['anonuid=1000', 'anongid=1000', 'fsid=12', 'fsid=root', 'sec=sys:krb5p', `mp=${dir}`, `mountpoint=${dir}`, 'refer=/x@server', 'replicas=/x@server'];
    try {
      for (const opt of [...EXPORT_FLAGS, ...valued]) {
        writeFileSync(file, `${dir} 10.9.9.9(rw,sync,no_subtree_check,root_squash,${opt})\n`);
        const r = spawnSync('exportfs', ['-ra'], { encoding: 'utf8' });
        expect(r.status, `${opt}: ${r.stderr}`).to.equal(0);
      }
      writeFileSync(file, `${dir} 10.9.9.9(rw,sync,no_subtree_check,rdirplus)\n`);
      expect(spawnSync('exportfs', ['-ra']).status).to.not.equal(0);
    } finally {
      rmSync(file, { force: true });
      spawnSync('exportfs', ['-ra']);
    }
  });

  it('client: planned against the real facts, fstab line valid for findmnt, no mount without kernel NFS', async () => {
    const mountPoint = join(base, 'mnt-shared');
    const mount = { src: '192.168.165.1:/srv/nfs/shared', path: mountPoint, fstype: 'nfs' as const, options: 'rw,hard,_netdev' };
    const plan = await planLocal(nfs, { role: 'client', mounts: [mount] });
    expect(plan.changed).to.equal(true);
    if (!plan.changed) return;
    const kernelCan = /\snfs4?$/m.test(readFileSync('/proc/filesystems', 'utf8')) || spawnSync('sh', ['-c', 'modprobe -n -q nfs']).status === 0;
    expect(plan.changes).to.include(`create mount point ${mountPoint}`);
    expect(plan.changes.some((c) => c.startsWith('update /etc/fstab') || c.startsWith('create /etc/fstab'))).to.equal(true);
    expect(plan.changes.includes(`mount ${mount.src} on ${mountPoint}`)).to.equal(kernelCan);
    if (!kernelCan) expect(plan.output?.not_mounted).to.deep.equal([mountPoint]);
    mkdirSync(mountPoint, { recursive: true });
    const fstab = join(base, 'fstab');
    writeFileSync(fstab, updateFstab(readFileSync('/etc/fstab', 'utf8'), [mount]));
    expect(readFileSync(fstab, 'utf8')).to.include(`${fstabLine(mount)}\n`);
    const r = spawnSync('findmnt', ['--verify', '--tab-file', fstab], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
  });
});
