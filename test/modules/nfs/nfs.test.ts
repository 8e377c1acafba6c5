/**
 * nfs-shares without a host: parameter checks, the exports renderer, fstab editing, the NFS
 * fact parsers and the probe's keys. Its fixtures (test/fixtures/modules/nfs-shares) run in
 * test/modules/fixtures.test.ts; the real thing (users, permissions, exportfs) is in
 * nfs-real.test.ts.
 */
import { expect } from 'chai';
import nfs from '../../../src/modules/nfs/nfs-shares.js';
import { clientError, exportOptionError, nfsParams, settings } from '../../../src/modules/nfs/lib/nfs-params.js';
import { renderExports } from '../../../src/modules/nfs/lib/nfs-exports.js';
import { fstabLine, updateFstab } from '../../../src/modules/nfs/lib/nfs-fstab.js';
import { activeExports, mountPoints, nfsKernel } from '../../../src/facts/nfs.js';

const errors = (raw: unknown): string[] => {
  const r = nfsParams.strict().safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const out = (stdout: string, code = 0) => ({ stdout, stderr: '', code });

describe('nfs-shares parameters', () => {
  it('accepts the clients exports(5) knows', () => {
    for (const c of ['*', '192.168.165.0/24', '10.0.0.5', 'fd00::/64', 'laptop.lan', '*.lan', 'host?.example.com', '@trusted']) {
      expect(clientError(c), c).to.equal(undefined);
    }
    expect(clientError('192.168.165.5/24')).to.include('host bits set');
    expect(clientError('bad host')).to.include('is not a client');
    expect(clientError('@bad group')).to.include('netgroup');
  });

  it('checks export options against the keywords exportfs knows', () => {
    for (const o of ['all_squash', 'anonuid=1000', 'fsid=root', 'fsid=0', 'sec=krb5:krb5p', 'insecure', 'crossmnt']) expect(exportOptionError(o), o).to.equal(undefined);
    expect(exportOptionError('no_root_squash')).to.equal('"no_root_squash" has its own parameter: write root_squash: false');
    expect(exportOptionError('async')).to.equal('"async" has its own parameter: write sync: false');
    expect(exportOptionError('anonuid=nobody')).to.equal('"anonuid=nobody": bad value for anonuid');
    expect(exportOptionError('sec=ntlm')).to.include('bad value for sec');
    expect(exportOptionError('rw,sync')).to.include('not an export option');
  });

  it('reports every problem at once, each at its item', () => {
    expect(
      errors({
        group: 'staff',
        users: ['Bad', 'staff', 'shared'],
        exports: [{ path: '../etc', clients: ['10.0.0.0/8', 'a b'], options: ['bogus'] }],
      }),
    ).to.have.members([
      'users.0: an account name is lower case letters, digits, _ . - and starts with a letter or _',
      'users.1: user staff has the name of the common group: each user gets a private group of its own name',
      'users.2: user shared would get the shared folder as its own folder: rename shared_folder',
      'exports.0.path: "../etc" must be a path without blanks or "..", absolute or relative to root',
      'exports.0.clients.1: "a b" is not a client: use a network (192.168.165.0/24), an address, a host name, *.domain, @netgroup or *',
      'exports.0.options.0: "bogus" is not an export option exportfs knows (see man 5 exports)',
    ]);
  });

  it('keeps server and client parameters apart', () => {
    expect(errors({ role: 'client', root: '/srv', shared_folder: false, mounts: [] })).to.deep.equal([
      'root: root is a server parameter; this task has role: client',
      'shared_folder: shared_folder is a server parameter; this task has role: client',
    ]);
    expect(errors({ shared_folder: false, mounts: [] })).to.deep.equal(['mounts: mounts is a client parameter: add role: client']);
  });

  it('checks mounts: SERVER:/path sources, option lists, no duplicate mount points', () => {
    expect(
      errors({
        role: 'client',
        mounts: [
          { src: '[fd00::1]:/srv/nfs', path: '/mnt/a' },
          { src: 'nas.lan:/export', path: '/mnt/b', options: 'rw, hard' },
          { src: 'nas.lan', path: '/mnt/d' },
          { src: 'nas.lan:/x', path: 'mnt/c' },
        ],
      }),
    ).to.have.members([
      'mounts.1.options: mount options are a comma-separated list without blanks, e.g. rw,hard,_netdev',
      'mounts.2.src: "nas.lan" is not an NFS source: write SERVER:/path, e.g. 192.168.165.1:/srv/nfs/shared',
      'mounts.3.path: "mnt/c" is not an absolute path (it must start with /)',
    ]);
    // Checks across items run once every item is valid (zod skips refinements of invalid objects).
    expect(errors({ role: 'client', mounts: [{ src: 'a:/x', path: '/mnt/a' }, { src: 'b:/y', path: '/mnt/a/' }] })).to.deep.equal([
      'mounts.1.path: mount point /mnt/a is listed twice',
    ]);
  });

  it('applies the server defaults', () => {
    const s = settings(nfsParams.parse({ group: 'g', users: ['a', { name: 'b', uid: 2000 }] }));
    expect(s).to.deep.include({ root: '/srv/nfs', userFolderMode: '0700', sharedFolder: 'shared', exportsFile: '/etc/exports.d/tsplay.exports' });
    expect(s.users).to.deep.equal([{ name: 'a' }, { name: 'b', id: 2000 }]);
    expect(s.group).to.deep.equal({ name: 'g' });
  });

  it('documents every parameter and has valid examples', () => {
    const missing = Object.entries(nfsParams.shape).filter(([, s]) => !(s as { description?: string }).description).map(([k]) => k);
    expect(missing).to.deep.equal([]);
    for (const ex of nfs.examples) expect(errors(ex.task['nfs-shares'])).to.deep.equal([]);
  });
});

describe('exports renderer', () => {
  it('writes one line per folder with one client(options) per client, relative paths under root', () => {
    const s = settings(
      nfsParams.parse({
        root: '/usr/local/share/',
        group: 'g',
        exports: [
          { path: 'shared', clients: ['192.168.165.0/24', 'laptop.lan'] },
          { path: '/usr/local/share/shared', clients: ['10.0.0.1'], access: 'ro', sync: false, subtree_check: true, root_squash: false, options: ['all_squash', 'all_squash'] },
        ],
      }),
    );
    expect(renderExports(s)).to.equal(
      '# Managed by tsplay (nfs-shares): local changes are overwritten.\n' +
        '/usr/local/share/shared 192.168.165.0/24(rw,sync,no_subtree_check,root_squash) laptop.lan(rw,sync,no_subtree_check,root_squash) ' +
        '10.0.0.1(ro,async,subtree_check,no_root_squash,all_squash)\n',
    );
  });
});

describe('fstab editing', () => {
  const m = { src: 'nas:/srv/nfs/shared', path: '/mnt/shared', fstype: 'nfs' as const, options: 'defaults,_netdev' };
  it('appends to an empty or missing file, and to a file without a final newline', () => {
    expect(updateFstab('', [m])).to.equal(`${fstabLine(m)}\n`);
    expect(updateFstab('proc /proc proc defaults 0 0', [m])).to.equal(`proc /proc proc defaults 0 0\n${fstabLine(m)}\n`);
  });
  it('replaces the line of the mount point (also written with \\040 escapes or a trailing slash), keeps everything else', () => {
    const cur = '# comment /mnt/shared\n\nold:/x /mnt/shared/ nfs ro 0 0\nUUID=1 / ext4 defaults 0 1\nold:/y /mnt/sh\\040ared nfs ro 0 0\n';
    const other = { ...m, path: '/mnt/sh ared' };
    expect(updateFstab(cur, [m])).to.equal(`# comment /mnt/shared\n\n${fstabLine(m)}\nUUID=1 / ext4 defaults 0 1\nold:/y /mnt/sh\\040ared nfs ro 0 0\n`);
    expect(updateFstab(cur, [other]).split('\n')[4]).to.equal(fstabLine(other));
  });
  it('is stable: applying twice changes nothing', () => {
    const once = updateFstab('UUID=1 / ext4 defaults 0 1\n', [m]);
    expect(updateFstab(once, [m])).to.equal(once);
  });
});

describe('nfs facts', () => {
  it('kernel support: /proc/filesystems and modprobe -n', () => {
    expect(nfsKernel().parse(out('fs nfs\nfs nfs4\n'))).to.deep.equal({ filesystems: ['nfs', 'nfs4'], module: false });
    expect(nfsKernel().parse(out('module\n'))).to.deep.equal({ filesystems: [], module: true });
    expect(nfsKernel().parse(out(''))).to.deep.equal({ filesystems: [], module: false });
  });
  it('export table from exportfs -s, or unavailable without exportfs', () => {
    const table = 'exportfs\n/srv/nfs/shared  192.168.165.0/24(sync,wdelay,hide,no_subtree_check,sec=sys,rw,secure,root_squash,no_all_squash)\n/srv/nfs/shared  laptop(sync)\n/srv/nfs/nik  10.0.0.5(ro)\n';
    expect(activeExports().parse(out(table))).to.deep.equal({ available: true, paths: ['/srv/nfs/shared', '/srv/nfs/nik'] });
    expect(activeExports().parse(out(''))).to.deep.equal({ available: false, paths: [] });
  });
  it('mount points from /proc/self/mounts with escapes decoded', () => {
    const mounts = 'overlay / overlay rw 0 0\nnas:/x /mnt/my\\040share nfs4 rw 0 0\n';
    expect(mountPoints().parse(out(mounts))).to.deep.equal({ targets: { '/': 'overlay', '/mnt/my share': 'nfs4' } });
  });
});

describe('nfs-shares probe', () => {
  it('keys every fact by its fact key, so check-mode assumptions of other tasks apply', () => {
    const cases = [
      { group: 'g', users: ['a'], exports: [{ path: 'shared', clients: ['*'] }] },
      { role: 'client', users: ['a'], mounts: [{ src: 'nas:/x', path: '/mnt/x' }] },
    ];
    for (const raw of cases) {
      const probed = nfs.probe!(nfsParams.parse(raw)) as Record<string, { key: string }>;
      expect(Object.keys(probed).length).to.be.greaterThan(3);
      for (const [name, f] of Object.entries(probed)) expect(f.key).to.equal(name);
    }
  });
});
