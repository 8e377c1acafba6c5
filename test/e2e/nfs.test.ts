/**
 * End to end: nfs-shares on the shared lab. e2e1 is the server (users alice and bob, a common
 * group, alice's folder and the shared folder exported to e2e2), e2e2 the client (same accounts
 * and ids, an /etc/fstab entry). The lab's kernel has neither an NFS server nor an NFS client,
 * so nothing is ever mounted or served: exports are checked with the export table
 * (`exportfs -s`, which works without nfsd), the client's entry with findmnt --fstab, and the
 * permission promises by acting as the users on the server (`su -s /bin/sh USER -c ...`).
 */
import { expect } from 'chai';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const SERVER = 'e2e1';
const CLIENT = 'e2e2';
const ROOT = '/srv/e2e-nfs';
const SHARED = `${ROOT}/shared`;
const MOUNT = '/mnt/e2e-nfs/shared';
const GROUP = { name: 'e2e_nfs', gid: 3200 };
const USERS = [
  { name: 'alice', uid: 3201 },
  { name: 'bob', uid: 3202 },
];
const NO_NFS = 'the kernel has no NFS support (no nfs in /proc/filesystems and no nfs module to load)';

describe('nfs-shares on the lab (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let t0 = 0;
  let serverIp = '';
  let clientIp = '';
  let fstabBefore = '';

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
    serverIp = lab.ip(SERVER);
    clientIp = lab.ip(CLIENT);
    // With kernel NFS the client would mount, and a lab container cannot run nfsd to answer.
    const kernel = await lab.sh(CLIENT, 'grep -qwE "nfs4?" /proc/filesystems || modprobe -n -q nfs 2>/dev/null');
    if (kernel.code === 0) {
      console.log('      [nfs: skipped: this kernel can mount NFS, and the lab cannot serve it; this suite is for kernels without NFS]');
      this.skip();
    }
    await reset();
    fstabBefore = await sh(CLIENT, 'cat /etc/fstab');
  });

  after(async () => {
    if (lab && fstabBefore !== '') await reset();
    console.log(`      [nfs: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  /** The packages, accounts, folders, exports and fstab entries of this suite gone from both hosts. */
  async function reset(): Promise<void> {
    const accounts = 'for u in alice bob; do userdel $u >/dev/null 2>&1; groupdel $u >/dev/null 2>&1; done; groupdel e2e_nfs >/dev/null 2>&1; ';
    const purge =
      'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nfs-kernel-server nfs-common >/dev/null 2>&1; ' +
      'DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -q >/dev/null 2>&1; ';
    await lab.sh(SERVER, `exportfs -ua >/dev/null 2>&1; ${purge}${accounts}rm -rf ${ROOT} /etc/exports.d /var/lib/nfs`);
    await lab.sh(CLIENT, `${purge}${accounts}rm -rf /mnt/e2e-nfs; grep -v ' /mnt/e2e-nfs/' /etc/fstab > /tmp/fstab.e2e; cat /tmp/fstab.e2e > /etc/fstab; rm -f /tmp/fstab.e2e /etc/fstab.*~`);
  }

  /** Runs a shell command on a host; fails the test when it fails. */
  async function sh(host: string, cmd: string): Promise<string> {
    const r = await lab.sh(host, cmd);
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  /** `cmd` as USER on the server: exit code, stdout and stderr. */
  const as = (user: string, cmd: string) => lab.sh(SERVER, `su -s /bin/sh ${user} -c '${cmd}'`);

  function playbook(exports: Array<{ path: string; clients: string[] }> = [
    { path: 'shared', clients: [clientIp] },
    { path: 'alice', clients: [clientIp] },
  ]): string {
    const accounts = { group: GROUP, users: USERS };
    const server = { ...accounts, root: ROOT, exports };
    const client = { role: 'client', ...accounts, mounts: [{ src: `${serverIp}:${SHARED}`, path: MOUNT, options: 'rw,hard,_netdev' }] };
    return `
- hosts: ${SERVER}
  gather_facts: false
  tasks:
    - name: nfs server
      nfs-shares: ${JSON.stringify(server)}

- hosts: ${CLIENT}
  gather_facts: false
  tasks:
    - name: nfs client
      nfs-shares: ${JSON.stringify(client)}
      register: client
    - name: client result
      debug: {var: client}
`;
  }

  const failures = (r: LabRun) =>
    r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.host}: ${e.result.msg ?? ''} ${JSON.stringify(e.result.failure ?? {})}`] : []));
  const statuses = (r: LabRun) => ({ server: r.status('nfs server')[SERVER], client: r.status('nfs client')[CLIENT] });
  /** The registered result of the client task, as the debug task printed it. */
  function clientOutput(r: LabRun): Record<string, unknown> {
    const msg = r.result('client result', CLIENT).msg ?? '';
    return JSON.parse(msg.slice(msg.indexOf('{'))) as Record<string, unknown>;
  }

  const common = "dpkg-query -W -f '${Package} ${Status}\\n' nfs-kernel-server nfs-common 2>&1 || true; getent passwd alice bob || true; getent group e2e_nfs alice bob || true; ";
  const serverState = () => sh(SERVER, `${common}ls -laR ${ROOT} 2>&1 || true; ls -la /etc/exports.d 2>&1 || true; exportfs -s 2>&1 || true`);
  const clientState = () => sh(CLIENT, `${common}cat /etc/fstab; ls -la /etc/fstab* /mnt/e2e-nfs 2>&1 || true`);

  it('check mode on fresh hosts reports every change and leaves both untouched', async () => {
    const before = `${await serverState()}\n---\n${await clientState()}`;
    const check = await lab.run(playbook(), { check: true, diff: true });
    expect(failures(check)).to.deep.equal([]);
    expect(statuses(check)).to.deep.equal({ server: 'changed', client: 'changed' });
    const server = check.result('nfs server', SERVER).changes ?? [];
    expect(server).to.include.members([
      'install nfs-kernel-server',
      'create group e2e_nfs (gid 3200)',
      'create user alice (uid 3201)',
      'create user bob (uid 3202)',
      `create ${SHARED} (root:e2e_nfs 3770)`,
      'exportfs -ra (the exports changed)',
    ]);
    const client = check.result('nfs client', CLIENT).changes ?? [];
    expect(client).to.include.members(['install nfs-common', `create mount point ${MOUNT}`, 'update /etc/fstab', `not mounted: ${MOUNT}: ${NO_NFS}`]);
    const fstab = check.result('nfs client', CLIENT).diffs?.find((d) => d.path === '/etc/fstab');
    expect(fstab?.after).to.equal(`${fstabBefore}${serverIp}:${SHARED}\t${MOUNT}\tnfs\trw,hard,_netdev\t0\t0\n`);
    expect(`${await serverState()}\n---\n${await clientState()}`, 'check mode left both hosts untouched').to.equal(before);
  });

  it('the first run sets up both sides, says why nothing is mounted; the second changes nothing', async () => {
    const first = await lab.run(playbook());
    expect(failures(first)).to.deep.equal([]);
    expect(statuses(first)).to.deep.equal({ server: 'changed', client: 'changed' });
    expect(first.result('nfs client', CLIENT).changes).to.include(`not mounted: ${MOUNT}: ${NO_NFS}`);
    expect(clientOutput(first)).to.include({ role: 'client', not_mounted_reason: NO_NFS });
    expect(clientOutput(first).not_mounted).to.deep.equal([MOUNT]);

    const second = await lab.run(playbook());
    expect(failures(second)).to.deep.equal([]);
    expect(statuses(second)).to.deep.equal({ server: 'ok', client: 'ok' });
    expect(second.summary.changed).to.equal(false);
    expect(second.summary.hosts[SERVER]).to.include({ changed: 0, failed: 0 });
    expect(second.summary.hosts[CLIENT]).to.include({ changed: 0, failed: 0 });
    expect(second.result('nfs client', CLIENT).msg).to.include(`not mounted: ${MOUNT}: ${NO_NFS}`);
  });

  it('server: the accounts, folders and the export table are as promised', async () => {
    expect(await sh(SERVER, 'id alice; id bob')).to.equal(
      'uid=3201(alice) gid=3201(alice) groups=3201(alice),3200(e2e_nfs)\nuid=3202(bob) gid=3202(bob) groups=3202(bob),3200(e2e_nfs)\n',
    );
    expect(await sh(SERVER, `stat -c '%n %a %U:%G' ${ROOT} ${ROOT}/alice ${ROOT}/bob ${SHARED}`)).to.equal(
      `${ROOT} 755 root:root\n${ROOT}/alice 700 alice:alice\n${ROOT}/bob 700 bob:bob\n${SHARED} 3770 root:e2e_nfs\n`,
    );
    const table = await sh(SERVER, 'exportfs -s');
    for (const path of [SHARED, `${ROOT}/alice`]) {
      const line = table.split('\n').find((l) => l.startsWith(`${path} `));
      expect(line, `${path} in exportfs -s`).to.match(new RegExp(`^${path} +${clientIp.replace(/\./g, '\\.')}\\((.*,)?rw,`));
      expect(line).to.match(/[(,]sync[,)]/).and.match(/[(,]no_subtree_check[,)]/).and.match(/[(,]root_squash[,)]/);
    }
    expect(table, 'bob is not exported').to.not.include(`${ROOT}/bob `);
    expect(await sh(SERVER, 'cat /etc/exports.d/tsplay.exports')).to.include(`${SHARED} ${clientIp}(rw,sync,no_subtree_check,root_squash)`);
  });

  it('server, acting as the users: members share files in the shared folder but delete only their own', async () => {
    const file = `${SHARED}/from-alice.txt`;
    try {
      expect((await as('alice', `echo hello from alice > ${file}; mkdir ${SHARED}/alice-dir; touch ${SHARED}/alice-dir/inner`)).code).to.equal(0);
      expect(await sh(SERVER, `stat -c '%U:%G' ${file} ${SHARED}/alice-dir ${SHARED}/alice-dir/inner`), 'setgid: new files get the common group').to.equal(
        'alice:e2e_nfs\nalice:e2e_nfs\nalice:e2e_nfs\n',
      );
      expect((await as('bob', `cat ${file}`)).stdout, 'bob reads it').to.equal('hello from alice\n');

      const del = await as('bob', `rm -f ${file}`);
      expect(del.code, 'bob cannot delete it').to.not.equal(0);
      expect(del.stderr).to.include('Operation not permitted');
      const mv = await as('bob', `mv ${file} ${SHARED}/mine.txt`);
      expect(mv.code, 'nor rename it').to.not.equal(0);
      expect(mv.stderr).to.include('Operation not permitted');
      expect(await sh(SERVER, `cat ${file}`)).to.equal('hello from alice\n');

      expect((await as('bob', `echo bob > ${SHARED}/bob.txt && rm ${SHARED}/bob.txt`)).code, 'bob creates and deletes his own').to.equal(0);
      expect((await as('alice', `rm ${file}`)).code, 'alice deletes hers').to.equal(0);
    } finally {
      await sh(SERVER, `rm -rf ${SHARED}/from-alice.txt ${SHARED}/alice-dir ${SHARED}/bob.txt ${SHARED}/mine.txt`);
    }
  });

  it('server, acting as the users: private folders are closed to others, the shared one to non-members', async () => {
    expect((await as('alice', `touch ${ROOT}/alice/diary && ls ${ROOT}/alice`)).stdout).to.equal('diary\n');
    const list = await as('bob', `ls ${ROOT}/alice`);
    expect(list.code).to.not.equal(0);
    expect(list.stderr).to.include('Permission denied');
    const write = await as('bob', `touch ${ROOT}/alice/from-bob`);
    expect(write.code).to.not.equal(0);
    expect(write.stderr).to.include('Permission denied');
    const nobody = await as('nobody', `ls ${SHARED}`);
    expect(nobody.code, 'nobody (a squashed client root) cannot list the shared folder').to.not.equal(0);
    expect(nobody.stderr).to.include('Permission denied');
    await sh(SERVER, `rm -f ${ROOT}/alice/diary`);
  });

  it('client: the same ids, the mount point, and one fstab entry (not mounted)', async () => {
    expect(await sh(CLIENT, 'id alice; id bob')).to.equal(await sh(SERVER, 'id alice; id bob'));
    expect(await sh(CLIENT, `stat -c '%F' ${MOUNT}`)).to.equal('directory\n');
    const fstab = await sh(CLIENT, 'cat /etc/fstab');
    expect(fstab, 'the other lines kept, the entry appended').to.equal(`${fstabBefore}${serverIp}:${SHARED}\t${MOUNT}\tnfs\trw,hard,_netdev\t0\t0\n`);
    expect(await sh(CLIENT, `findmnt --fstab --noheadings --output SOURCE,FSTYPE,OPTIONS --mountpoint ${MOUNT}`)).to.match(
      new RegExp(`^${serverIp.replace(/\./g, '\\.')}:${SHARED} +nfs +rw,hard,_netdev\\n$`),
    );
    expect((await lab.sh(CLIENT, `findmnt --kernel --mountpoint ${MOUNT}`)).code, 'not mounted').to.not.equal(0);
    expect(await sh(CLIENT, 'ls /etc/fstab.*~ | wc -l'), 'the old fstab was backed up').to.equal('1\n');
  });

  it('a new export rewrites the file and runs exportfs -ra; an export dropped from the table is put back', async () => {
    const withBob = playbook([
      { path: 'shared', clients: [clientIp] },
      { path: 'alice', clients: [clientIp] },
      { path: 'bob', clients: [clientIp] },
    ]);
    const added = await lab.run(withBob);
    expect(failures(added)).to.deep.equal([]);
    expect(statuses(added)).to.deep.equal({ server: 'changed', client: 'ok' });
    expect(added.result('nfs server', SERVER).changes).to.deep.equal(['update /etc/exports.d/tsplay.exports', 'exportfs -ra (the exports changed)']);
    expect(await sh(SERVER, 'exportfs -s')).to.include(`${ROOT}/bob `);

    const back = await lab.run(playbook());
    expect(statuses(back)).to.deep.equal({ server: 'changed', client: 'ok' });
    expect(await sh(SERVER, 'exportfs -s')).to.not.include(`${ROOT}/bob `);

    await sh(SERVER, `exportfs -u ${clientIp}:${ROOT}/alice`);
    expect(await sh(SERVER, 'exportfs -s')).to.not.include(`${ROOT}/alice `);
    const repaired = await lab.run(playbook());
    expect(repaired.result('nfs server', SERVER).changes).to.deep.equal([`exportfs -ra (not in the export table: ${ROOT}/alice)`]);
    expect(await sh(SERVER, 'exportfs -s')).to.include(`${ROOT}/alice `);
    expect(statuses(await lab.run(playbook()))).to.deep.equal({ server: 'ok', client: 'ok' });
  });
});
