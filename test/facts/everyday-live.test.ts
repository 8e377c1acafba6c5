/**
 * The facts of the everyday modules (package, stat, sysctl, hostname, timezone, file times) run
 * for real on this machine under `dash`, with an empty environment and cwd=/: valid POSIX sh,
 * and parsers that read real output.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ExecResult, Fact } from '../../src/core/module.js';
import { packageManager } from '../../src/facts/package-manager.js';
import { pathInfo } from '../../src/facts/path-info.js';
import { fileTimes } from '../../src/facts/file-times.js';
import { findEntries } from '../../src/facts/find.js';
import { userCrontab } from '../../src/facts/crontab.js';
import { userUnit } from '../../src/facts/systemd-user.js';
import { hostnameState, pong, sysctlValue, timezoneState } from '../../src/facts/system-settings.js';
import { hostname } from 'node:os';

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

function run(script: string): ExecResult {
  const r = spawnSync('dash', ['-c', script], { encoding: 'utf8', cwd: '/', env: ENV });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}
const read = <T>(f: Fact<T>): T => f.parse(run(f.command));

describe('everyday facts on this machine (dash)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tsplay everyday it's-"));
    writeFileSync(join(dir, 'f.txt'), 'héllo\n');
    chmodSync(join(dir, 'f.txt'), 0o640);
    symlinkSync('f.txt', join(dir, 'link'));
    symlinkSync('nowhere', join(dir, 'broken'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('packageManager: apt on this Debian machine', () => {
    expect(read(packageManager())).to.deep.equal({ name: 'apt' });
  });

  it('pathInfo: a file with its sha1 and sha256, a link followed or not, a broken link, absent', () => {
    const sha = (alg: string) => createHash(alg).update(readFileSync(join(dir, 'f.txt'))).digest('hex');
    const f = read(pathInfo(join(dir, 'f.txt'), { checksum: 'sha1' }));
    expect(f).to.deep.include({ exists: true, kind: 'file', mode: '0640', size: 7, owner: 'root', readable: true, checksum: sha('sha1') });
    const l = read(pathInfo(join(dir, 'link'), { checksum: 'sha1' }));
    expect(l).to.deep.include({ exists: true, kind: 'link', linkTarget: 'f.txt', linkSource: join(dir, 'f.txt') });
    expect(l).to.not.have.property('checksum');
    expect(read(pathInfo(join(dir, 'link'), { follow: true, checksum: 'sha256' }))).to.deep.include({ kind: 'file', checksum: sha('sha256') });
    expect(read(pathInfo(join(dir, 'broken'), { follow: true }))).to.deep.equal({ exists: false });
    expect(read(pathInfo(join(dir, 'broken')))).to.deep.include({ exists: true, kind: 'link', linkTarget: 'nowhere' });
    expect(read(pathInfo(join(dir, 'missing')))).to.deep.equal({ exists: false });
    expect(read(pathInfo(dir))).to.deep.include({ kind: 'directory', mode: '0700', executable: true });
  });

  it('userUnit: says whether systemd is init here, like the system fact', () => {
    if (!existsSync('/run/systemd/system')) expect(read(userUnit('tsplay-nothing'))).to.deep.equal({ systemd: false });
    else {
      const r = run(userUnit('tsplay-nothing').command);
      // Without a user manager for this exec systemctl says so; with one the unit is not found.
      if (r.code === 0) expect(userUnit('tsplay-nothing').parse(r)).to.deep.include({ exists: false });
      else expect(r.stderr).to.match(/bus|connect/i);
    }
  });

  it('sysctlValue: a real setting (tabs normalized), an unknown one', () => {
    const rmem = read(sysctlValue('net.ipv4.tcp_rmem'));
    expect(rmem.value).to.equal(readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().split(/\s+/).join(' '));
    expect(rmem.writable).to.be.a('boolean');
    expect(read(sysctlValue('net.ipv4.tsplay_no_such'))).to.deep.equal({ value: null, writable: false });
  });

  it('pong: the shell answers', () => {
    expect(read(pong())).to.equal('pong');
  });

  it('hostnameState: the kernel name Node sees, /etc/hostname when there is one', () => {
    const h = read(hostnameState());
    expect(h.running).to.equal(hostname());
    expect(h.file).to.equal(existsSync('/etc/hostname') ? readFileSync('/etc/hostname', 'utf8').replace(/\n+$/, '') : null);
  });

  it('timezoneState: a zone that exists, one that does not, and /etc/localtime as it is', () => {
    const utc = read(timezoneState('Etc/UTC'));
    expect(utc.known).to.equal(existsSync('/usr/share/zoneinfo/Etc/UTC'));
    expect(read(timezoneState('Mars/Olympus')).known).to.equal(false);
    expect(utc.timezone).to.equal(existsSync('/etc/timezone') ? readFileSync('/etc/timezone', 'utf8').trim() : null);
  });

  it('fileTimes: the times Node sets, a timestamp read in local time, an absent file', () => {
    utimesSync(join(dir, 'f.txt'), 1700000000, 1700000100);
    const t = read(fileTimes(join(dir, 'f.txt'), ['2024-01-02 15:30:00']));
    expect(t).to.deep.equal({ exists: true, atime: 1700000000, mtime: 1700000100, stamps: [Math.floor(new Date(2024, 0, 2, 15, 30, 0).getTime() / 1000)] });
    expect(statSync(join(dir, 'f.txt')).mtimeMs).to.equal(1700000100_000);
    expect(read(fileTimes(join(dir, 'missing'), []))).to.deep.equal({ exists: false, stamps: [] });
  });

  it('findEntries: entries with types and sizes, content and checksums of regular files, a missing folder skipped', () => {
    const f = read(findEntries([dir, join(dir, 'missing')], { recurse: true, contains: 'h.llo', checksum: true }));
    expect(f.now).to.be.closeTo(Date.now() / 1000, 5);
    expect(f.entries.map((e) => `${e.path.slice(dir.length + 1)}:${e.type}`).sort()).to.deep.equal(['broken:l', 'f.txt:f', 'link:l']);
    expect(f.entries.find((e) => e.path.endsWith('f.txt'))).to.include({ mode: '0640', size: 7, owner: 'root' });
    expect(f.containing).to.deep.equal([join(dir, 'f.txt')]);
    expect(f.checksums).to.deep.equal({ [join(dir, 'f.txt')]: createHash('sha1').update(readFileSync(join(dir, 'f.txt'))).digest('hex') });
    expect(Object.keys(f.skipped)).to.deep.equal([join(dir, 'missing')]);
  });

  it('userCrontab: not installed, or root\'s crontab with the sha256 of what crontab -l prints', () => {
    const hasCrontab = spawnSync('dash', ['-c', 'command -v crontab'], { env: ENV }).status === 0;
    const c = read(userCrontab('root'));
    if (!hasCrontab) expect(c).to.deep.equal({ installed: false });
    else {
      const listed = spawnSync('crontab', ['-u', 'root', '-l'], { encoding: 'utf8' }).stdout;
      expect(c).to.deep.equal({ installed: true, sha256: createHash('sha256').update(listed).digest('hex'), content: listed });
    }
  });
});
