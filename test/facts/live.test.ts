/**
 * Runs every fact's real command on this machine (Debian, like the targets) under `dash`,
 * with an empty environment and cwd=/, to prove the commands are valid POSIX sh that depends
 * on neither, and that the parsers read real output. Also runs them all as one batch.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, release, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ExecResult, Fact } from '../../src/core/module.js';
import * as F from '../../src/facts/index.js';
import { composeProject } from '../../src/facts/docker.js';
import { swarmNode } from '../../src/facts/swarm.js';
import { httpClient, urlDigest } from '../../src/facts/http-client.js';
import { aptSourceLists } from '../../src/facts/apt-sources.js';
import { pipState } from '../../src/facts/pip.js';
import { quote } from '../../src/core/quote.js';
import { fileDigests, pathsState, tarDiff, zipDiff } from '../../src/facts/archive.js';
import { zipEntries } from '../../src/modules/files/lib/zip-listing.js';
import { gitCheckout } from '../../src/facts/git.js';
import { mountState } from '../../src/facts/mount.js';

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

function run(script: string): ExecResult {
  const r = spawnSync('dash', ['-c', script], { encoding: 'utf8', cwd: '/', env: ENV });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

function read<T>(fact: Fact<T>): T {
  return fact.parse(run(fact.command));
}

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

describe('facts on this machine (dash)', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tsplay facts it's-"));
    writeFileSync(join(dir, 'text.txt'), 'héllo\nworld\n');
    chmodSync(join(dir, 'text.txt'), 0o640);
    writeFileSync(join(dir, 'bin'), Buffer.from([0, 0xff, 0xfe, 0x80]));
    writeFileSync(join(dir, 'big'), Buffer.alloc(F.CONTENT_LIMIT + 10, 'a'));
    symlinkSync('text.txt', join(dir, 'link'));
    mkdirSync(join(dir, 'tree/sub'), { recursive: true });
    writeFileSync(join(dir, 'tree/sub/f'), 'x');
    chmodSync(join(dir, 'tree/sub/f'), 0o644);
    chmodSync(join(dir, 'tree/sub'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('dash is the shell under test', () => {
    expect(execFileSync('dash', ['-c', 'echo ok'], { encoding: 'utf8' })).to.equal('ok\n');
  });

  it('stat: file, link, directory, absent (paths with spaces and quotes)', () => {
    expect(read(F.stat(join(dir, 'text.txt')))).to.deep.include({ exists: true, type: 'file', mode: '0640', size: 13 });
    expect(read(F.stat(join(dir, 'link')))).to.deep.include({ exists: true, type: 'link', target: 'text.txt' });
    expect(read(F.stat(dir))).to.deep.include({ exists: true, type: 'directory', mode: '0700' });
    expect(read(F.stat(join(dir, 'missing')))).to.deep.equal({ exists: false });
  });

  it('fileContent: text, binary, too large, directory, absent', () => {
    expect(read(F.fileContent(join(dir, 'text.txt')))).to.deep.equal({ exists: true, type: 'file', size: 13, sha256: sha('héllo\nworld\n'), content: 'héllo\nworld\n' });
    expect(read(F.fileContent(join(dir, 'link')))).to.deep.include({ content: 'héllo\nworld\n' });
    expect(read(F.fileContent(join(dir, 'bin')))).to.deep.include({ binary: true, size: 4 });
    const big = read(F.fileContent(join(dir, 'big')));
    expect(big).to.deep.equal({ exists: true, type: 'file', size: F.CONTENT_LIMIT + 10, sha256: sha(Buffer.alloc(F.CONTENT_LIMIT + 10, 'a')) });
    expect(read(F.fileContent(dir))).to.deep.equal({ exists: true, type: 'directory' });
    expect(read(F.fileContent(join(dir, 'missing')))).to.deep.equal({ exists: false });
  });

  it('debPackage and aptCandidate: dash is installed, a made-up package is not', () => {
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dash'], { encoding: 'utf8' });
    expect(read(F.debPackage('dash'))).to.deep.equal({ name: 'dash', installed: true, status: 'install ok installed', version });
    expect(read(F.debPackage('tsplay-no-such-package'))).to.deep.equal({ name: 'tsplay-no-such-package', installed: false });
    expect(read(F.aptCandidate('tsplay-no-such-package'))).to.deep.equal({ name: 'tsplay-no-such-package', candidate: null });
    const cand = read(F.aptCandidate('dash'));
    expect(cand.name).to.equal('dash');
    // With package lists the candidate is the installed version (nothing newer is assumed here); without lists it is unknown.
    if (cand.candidate !== null) expect(cand.candidate).to.match(/^\d/);
  });

  it('aptCacheAge: a number of seconds, or null when the lists were never downloaded', () => {
    const age = read(F.aptCacheAge()).ageSeconds;
    const hasLists = spawnSync('sh', ['-c', 'ls /var/lib/apt/lists | grep -q _Packages']).status === 0;
    if (hasLists) expect(age).to.be.a('number').and.at.least(0);
    else expect(age).to.equal(null);
  });

  it('systemdUnit and sysvService agree with /run/systemd/system and /etc/init.d', () => {
    const systemd = existsSync('/run/systemd/system');
    const unit = read(F.systemdUnit('tsplay-nothing'));
    expect(unit.systemd).to.equal(systemd);
    if (unit.systemd) expect(unit.exists).to.equal(false);
    const sysv = read(F.sysvService('tsplay-nothing'));
    expect(sysv).to.deep.equal(systemd ? { systemd: true } : { systemd: false, exists: false });
  });

  it('user, group and authorizedKeys: root exists, a made-up account does not', () => {
    expect(read(F.user('root'))).to.deep.include({ exists: true, uid: 0, gid: 0, home: '/root', group: 'root' });
    expect(read(F.user('tsplay-ghost'))).to.deep.equal({ exists: false });
    expect(read(F.group('root'))).to.deep.include({ exists: true, gid: 0 });
    expect(read(F.group('tsplay-ghost'))).to.deep.equal({ exists: false });
    expect(read(F.authorizedKeys('root'))).to.deep.include({ userExists: true, home: '/root' });
    expect(read(F.authorizedKeys('tsplay-ghost'))).to.deep.equal({ userExists: false });
  });

  it('treeMismatch finds the first path that differs', () => {
    const tree = join(dir, 'tree');
    expect(read(F.treeMismatch(tree, { owner: 'root', modes: { dir: '0755', file: '0644', fileExec: '0755' } }))).to.deep.equal({ first: null });
    expect(read(F.treeMismatch(tree, { modes: { dir: '0700', file: '0644', fileExec: '0755' } }))).to.deep.equal({ first: join(tree, 'sub') });
    expect(read(F.treeMismatch(tree, { owner: 'tsplay-ghost' }))).to.deep.include({ unknown: true });
  });

  it('hostFacts matches what Node sees', () => {
    const h = read(F.hostFacts());
    expect(h.hostname).to.equal(hostname());
    expect(h.kernel).to.equal(release());
    expect(h.os_id).to.equal('debian');
    expect(h.os_family).to.equal('debian');
    expect(h.debian_version).to.equal(readFileSync('/etc/debian_version', 'utf8').trim());
    expect(h.pkg_mgr).to.equal('apt');
    expect(h.cpus).to.be.at.least(1);
    expect(h.memtotal_mb).to.be.greaterThan(0);
    expect(h.memtotal_kb).to.be.greaterThan(0);
    expect(h.user_id).to.equal(userInfo().username);
    expect(h.init).to.equal(existsSync('/run/systemd/system') ? 'systemd' : readFileSync('/proc/1/comm', 'utf8').trim());
  });

  it('all facts in one script give the same results as one by one', () => {
    const facts: Fact[] = [
      F.stat(join(dir, 'text.txt')),
      F.fileContent(join(dir, 'text.txt')),
      F.debPackage('dash'),
      F.user('root'),
      F.group('root'),
      F.authorizedKeys('root'),
      F.systemdUnit('ssh'),
      F.sysvService('ssh'),
      F.aptCacheAge(),
      F.hostFacts(),
    ];
    const marker = '@@tsplay-test-marker@@';
    const script = facts.map((f) => `( ${f.command}\n) </dev/null; printf '\\n${marker} %d\\n' $?`).join('\n');
    const out = run(script);
    const parts = out.stdout.split(new RegExp(`\\n${marker} (\\d+)\\n`));
    facts.forEach((f, i) => {
      const alone = f.parse(run(f.command));
      const batched = f.parse({ stdout: parts[i * 2]!, stderr: '', code: Number(parts[i * 2 + 1]) });
      if (f.key === F.keys.aptCache()) return; // the clock may tick between the two runs
      expect(batched, f.key).to.deep.equal(alone);
    });
  });

  it('composeProject: runs under dash; finds what is installed; an absent project_src and a project with no containers', () => {
    const has = (cmd: string) => run(`command -v ${cmd} >/dev/null 2>&1`).code === 0;
    const absent = read(composeProject({ src: join(dir, 'no such project'), project: 'tsplay-live-none', files: [], secretFiles: ['s'] }));
    expect(absent).to.deep.include({ docker: has('docker'), src: false, hashes: {}, missingImages: [], secretFiles: { s: null } });
    expect(absent.containers).to.deep.equal([]);
    if (!has('docker')) expect(absent.compose).to.deep.equal({ kind: 'none' });
    mkdirSync(join(dir, 'proj'));
    writeFileSync(join(dir, 'proj/.env'), 'PASSWORD=s3cret\n');
    writeFileSync(join(dir, 'proj/s'), 'x');
    const there = read(composeProject({ src: join(dir, 'proj'), project: 'tsplay-live-none', files: [], secretFiles: ['s'] }));
    expect(there).to.deep.include({ src: true, envValues: ['s3cret'], secretFiles: { s: sha('x') } });
  });
  it('swarmNode: runs under dash and reads this machine\'s swarm state (read-only)', () => {
    const has = run('command -v docker >/dev/null 2>&1').code === 0;
    const f = read(swarmNode());
    expect(f.docker).to.equal(has);
    if (f.daemon) expect(['inactive', 'active', 'pending', 'error', 'locked']).to.include(f.state);
  });
  it('httpClient and urlDigest: curl or wget as this machine has them; the digest of what a local server serves, an HTTP error, onlyIf', async () => {
    const has = (c: string) => run(`command -v ${c} >/dev/null 2>&1`).code === 0;
    expect(read(httpClient())).to.deep.equal({ curl: has('curl'), wget: has('wget') });
    const server: Server = createServer((req, res) => {
      if (req.url === '/hello' && req.headers['x-token'] === 't') res.end('hello\n');
      else res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // Async: the server answers from this process.
    const readAsync = async <T>(f: Fact<T>): Promise<T> => {
      const r = await promisify(execFile)('dash', ['-c', f.command], { cwd: '/', env: ENV }).catch((e: { stdout: string; stderr: string; code: number }) => e);
      return f.parse({ stdout: r.stdout, stderr: r.stderr, code: 'code' in r && typeof r.code === 'number' ? r.code : 0 });
    };
    try {
      const o = { timeout: 5, validateCerts: true, headers: { 'X-Token': 't' } };
      expect(await readAsync(urlDigest(`http://127.0.0.1:${port}/hello`, 'sha256', o))).to.deep.equal({ fetched: true, digest: sha('hello\n') });
      const missing = await readAsync(urlDigest(`http://127.0.0.1:${port}/nope`, 'sha1', o));
      expect(missing).to.have.property('error').that.matches(/404/);
      expect(await readAsync(urlDigest(`http://127.0.0.1:${port}/hello`, 'sha256', o, '[ -f /nonexistent ]'))).to.deep.equal({ fetched: false });
    } finally {
      server.close();
    }
  });
  it('tarDiff and pathsState: an extracted archive is in state, a changed file differs, a missing dest or src is said', () => {
    const d = mkdtempSync(join(tmpdir(), 'tsplay tar '));
    mkdirSync(join(d, 'src/app'), { recursive: true });
    writeFileSync(join(d, 'src/app/run sh'), 'echo hi\n');
    mkdirSync(join(d, 'out'));
    execFileSync('tar', ['-czf', join(d, 'a.tgz'), '-C', join(d, 'src'), 'app']);
    execFileSync('tar', ['-xzf', join(d, 'a.tgz'), '-C', join(d, 'out')]);
    try {
      const same = read(tarDiff(join(d, 'a.tgz'), join(d, 'out')));
      expect(same).to.deep.equal({ src: true, dest: true, files: ['app/', 'app/run sh'], differences: [], ownedOtherwise: [] });
      const me = userInfo().username;
      expect(read(tarDiff(join(d, 'a.tgz'), join(d, 'out'), { owner: me }))).to.have.property('ownedOtherwise').that.to.deep.equal([]);
      expect(read(tarDiff(join(d, 'a.tgz'), join(d, 'out'), { owner: 'root', group: '0' }))).to.have.property('ownedOtherwise').that.has.length(me === 'root' ? 0 : 2);
      writeFileSync(join(d, 'out/app/run sh'), 'echo ho\n');
      const changed = read(tarDiff(join(d, 'a.tgz'), join(d, 'out')));
      expect(changed).to.have.property('differences').that.satisfies((l: string[]) => l.some((x) => x.startsWith('app/run sh: ')));
      expect(read(tarDiff(join(d, 'nope.tgz'), join(d, 'out')))).to.deep.equal({ src: false });
      expect(read(tarDiff(join(d, 'a.tgz'), join(d, 'nope')))).to.deep.equal({ src: true, dest: false });
      const st = read(pathsState(join(d, 'out'), ['app', 'app/run sh', 'app/none']));
      expect(st.dest).to.equal(true);
      if (!st.dest) return;
      expect(st.entries['app']).to.include({ exists: true, kind: 'directory' });
      expect(st.entries['app/run sh']).to.include({ exists: true, kind: 'file', size: 8, owner: me });
      expect(st.entries['app/none']).to.deep.equal({ exists: false });
      expect(read(pathsState(join(d, 'nope'), ['x']))).to.deep.equal({ dest: false });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('aptSourceLists: every one-line source file of this machine, with its sha256 and exact content', () => {
    const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').filter((f) => f.endsWith('.list')).sort().map((f) => `/etc/apt/sources.list.d/${f}`) : [])].filter((f) => existsSync(f));
    const want = files.map((path) => ({ path, sha256: sha(readFileSync(path)), content: readFileSync(path, 'utf8') }));
    expect(read(aptSourceLists())).to.deep.equal({ files: want });
  });
  it('pipState: no virtualenv; in a real one, pip list and a dry run (in state, and one that cannot be resolved offline)', function () {
    this.timeout(120_000);
    expect(read(pipState({ pip: `${dir}/none/bin/pip`, venv: `${dir}/none` }))).to.deep.equal({ venv: false });
    if (spawnSync('python3', ['-m', 'venv', `${dir}/venv`], { encoding: 'utf8' }).status !== 0) return this.skip();
    const pip = quote(`${dir}/venv/bin/pip`);
    const ok = read(pipState({ pip, venv: `${dir}/venv`, install: ['--no-index', '--', 'pip'] }));
    if (!ok.venv || !ok.pip) throw new Error(`pip did not run: ${JSON.stringify(ok)}`);
    expect(ok.installed.map((x) => x.name)).to.include('pip');
    expect(ok.wouldInstall).to.deep.equal([]);
    const missing = read(pipState({ pip, venv: `${dir}/venv`, install: ['--no-index', '--', 'tsplay-no-such-package'] }));
    expect(missing).to.have.property('wouldInstall', null);
    expect((missing as { error?: string }).error).to.include('tsplay-no-such-package');
  });

  it('gitCheckout: a clone, its remote\'s refs (branch, annotated tag), changed files; absent and non-repository folders; an unreadable remote', () => {
    const d = mkdtempSync(join(tmpdir(), "tsplay git '"));
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    try {
      git(d, 'init', '-q', '--bare', '-b', 'main', 'r.git');
      git(d, 'clone', '-q', 'r.git', 'w');
      writeFileSync(join(d, 'w/f'), 'one\n');
      git(join(d, 'w'), 'add', 'f');
      git(join(d, 'w'), 'commit', '-q', '-m', 'one');
      git(join(d, 'w'), 'tag', '-a', 'v1', '-m', 'v1');
      git(join(d, 'w'), 'push', '-q', 'origin', 'main', 'v1');
      const head = git(join(d, 'w'), 'rev-parse', 'HEAD');
      const o = { repo: join(d, 'r.git'), version: 'v1', remote: 'origin', update: true, clone: true };
      const got = read(gitCheckout(join(d, 'w'), o));
      expect(got).to.deep.include({ installed: true, local: { kind: 'repo', head, branch: 'main', url: join(d, 'r.git'), shallow: false, modified: [] } });
      expect(got).to.have.nested.property('remote.refs').that.includes({ HEAD: head, 'refs/tags/v1^{}': head });
      expect(got).to.have.nested.property('remote.headBranch', 'main');
      writeFileSync(join(d, 'w/f'), 'two\n');
      writeFileSync(join(d, 'w/untracked'), 'x\n');
      expect(read(gitCheckout(join(d, 'w'), { ...o, update: false }))).to.deep.equal({ installed: true, local: { kind: 'repo', head, branch: 'main', url: join(d, 'r.git'), shallow: false, modified: [' M f'] }, remote: { read: false } });
      expect(read(gitCheckout(join(d, 'none'), { ...o, clone: false }))).to.deep.equal({ installed: true, local: { kind: 'absent' }, remote: { read: false } });
      expect(read(gitCheckout(d, o))).to.have.nested.property('local.kind', 'notrepo');
      expect(read(gitCheckout(join(d, 'none'), { ...o, repo: join(d, 'nope.git') }))).to.have.nested.property('remote.ok', false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('mountState: / and /proc are mounted, a plain folder is not', () => {
    expect(read(mountState('/proc'))).to.deep.include({ mounted: true, fstype: 'proc' });
    expect(read(mountState('/'))).to.have.property('mounted', true);
    expect(read(mountState(dir))).to.deep.equal({ mounted: false });
  });
  it('zip archives: read on the controller (zipEntries), compared on the host (zipDiff, fileDigests), a tar reader told it is a zip', () => {
    const d = mkdtempSync(join(tmpdir(), 'tsplay zip '));
    try {
      mkdirSync(join(d, 'src/app/sub'), { recursive: true });
      writeFileSync(join(d, 'src/app/run sh'), 'echo hi\n'.repeat(50));
      writeFileSync(join(d, 'src/app/b[1].txt'), 'x\n');
      symlinkSync('run sh', join(d, 'src/app/ln'));
      execFileSync('zip', ['-qry', join(d, 'a.zip'), 'app'], { cwd: join(d, 'src') });
      execFileSync('zip', ['-q0', join(d, 'stored.zip'), 'app/b[1].txt'], { cwd: join(d, 'src') });
      const entries = zipEntries(readFileSync(join(d, 'a.zip')));
      expect(entries.map((e) => [e.path, e.kind]).sort()).to.deep.equal([['app', 'directory'], ['app/b[1].txt', 'file'], ['app/ln', 'link'], ['app/run sh', 'file'], ['app/sub', 'directory']]);
      expect(entries.find((e) => e.path === 'app/run sh')).to.include({ size: 400, sha256: sha('echo hi\n'.repeat(50)) });
      expect(entries.find((e) => e.path === 'app/ln')).to.include({ target: 'run sh' });
      expect(zipEntries(readFileSync(join(d, 'stored.zip')))).to.deep.equal([{ path: 'app/b[1].txt', kind: 'file', size: 2, mode: '0644', sha256: sha('x\n') }]);
      mkdirSync(join(d, 'out'));
      expect(read(zipDiff(join(d, 'a.zip'), join(d, 'out')))).to.have.property('differences').with.length(5);
      execFileSync('unzip', ['-q', join(d, 'a.zip'), '-d', join(d, 'out')]);
      const same = read(zipDiff(join(d, 'a.zip'), join(d, 'out')));
      expect(same).to.deep.include({ zip: true, unzip: true, dest: true, differences: [], ownedOtherwise: [] });
      writeFileSync(join(d, 'out/app/b[1].txt'), 'y\n');
      expect(read(zipDiff(join(d, 'a.zip'), join(d, 'out')))).to.have.property('differences').that.deep.equals(['app/b[1].txt: contents differ']);
      expect(read(zipDiff(join(d, 'nope.zip'), join(d, 'out')))).to.deep.equal({ zip: false });
      expect(read(tarDiff(join(d, 'a.zip'), join(d, 'out')))).to.deep.equal({ src: true, zip: true });
      expect(read(fileDigests(join(d, 'out'), ['app/run sh', 'app/ln', 'app/none']))).to.deep.equal({ dest: true, unzip: true, sha256: { 'app/run sh': sha('echo hi\n'.repeat(50)) } });
      expect(read(fileDigests(join(d, 'nope'), ['x']))).to.deep.equal({ dest: false });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
