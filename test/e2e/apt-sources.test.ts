/**
 * End to end, the APT source modules on real Debian lab hosts against a local signed repository:
 * the test builds a tiny package (dpkg-deb) and a flat repository (Packages and Release written
 * here), signs it with a throwaway gpg key made for the run, and e2e2 serves it with busybox
 * httpd (busybox from the lab's apt mirror: never the internet). On e2e1, through the real engine:
 * deb822_repository with a signed_by URL, then apt installs the package from it; apt_key +
 * apt_repository do the same with a one-line source; each converges (check mode changes nothing,
 * the second run changes nothing) and state: absent takes it away. A repository signed with
 * another key is refused before its file goes live, and apt on the host keeps working.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { converges as convergesOn, outcome as outcomeOn, playOn } from '../helpers/converge.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';
const SERVER = 'e2e2';
const PORT = 8097;
const ROOT = '/srv/tsplay-apt';

/** A throwaway signing key in a gpg home of its own: its armored public key, and a signer. */
function makeKey(home: string, name: string) {
  mkdirSync(home, { mode: 0o700, recursive: true });
  const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  gpg('--quick-gen-key', `${name} <e2e@tsplay.invalid>`, 'ed25519', 'sign', 'never');
  return {
    armored: gpg('--armor', '--export').toString('utf8'),
    clearsign: (file: string, out: string) => gpg('--yes', '--clearsign', '-o', out, file),
    stop: () => execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' }),
  };
}

/** A flat repository (Suites: ./) with tsplay-hello 1.0, signed by `key`: its files by name. */
function buildRepo(dir: string, key: ReturnType<typeof makeKey>): void {
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(join(pkg, 'usr/share/tsplay-hello'), { recursive: true });
  writeFileSync(join(pkg, 'usr/share/tsplay-hello/hello.txt'), 'hello from the local repository\n');
  const control = 'Package: tsplay-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: tsplay tests <e2e@tsplay.invalid>\nDescription: tsplay end-to-end test package\n';
  writeFileSync(join(pkg, 'DEBIAN/control'), control);
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', pkg, join(repo, 'tsplay-hello_1.0_all.deb')], { stdio: 'ignore' });
  const deb = readFileSync(join(repo, 'tsplay-hello_1.0_all.deb'));
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const packages = `${control}Installed-Size: 1\nFilename: ./tsplay-hello_1.0_all.deb\nSize: ${deb.length}\nSHA256: ${sha(deb)}\n\n`;
  writeFileSync(join(repo, 'Packages'), packages);
  const date = new Date().toUTCString().replace('GMT', 'UTC');
  writeFileSync(join(repo, 'Release'), `Origin: tsplay-e2e\nLabel: tsplay-e2e\nDate: ${date}\nSHA256:\n ${sha(packages)} ${Buffer.byteLength(packages)} Packages\n`);
  key.clearsign(join(repo, 'Release'), join(repo, 'InRelease'));
  writeFileSync(join(repo, 'key.asc'), key.armored);
}

describe('APT sources: deb822_repository, apt_repository, apt_key with a local signed repository (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  let work = '';
  let url = '';
  let key: ReturnType<typeof makeKey>;
  let other: ReturnType<typeof makeKey>;
  let t0 = 0;

  const play = playOn(HOST);
  const outcome = (r: Awaited<ReturnType<SharedLab['run']>>) => outcomeOn(r, HOST);
  const converges = (playbook: string, inspect: () => Promise<string>) => convergesOn(lab, HOST, playbook, inspect);

  async function sh(host: string, cmd: string, input?: string): Promise<string> {
    const r = await lab.sh(host, cmd, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }
  /** What the tasks may change on the host: the source files, the keys, the package. */
  const state = () =>
    lab
      .sh(HOST, 'cd /etc/apt && ls sources.list.d keyrings trusted.gpg.d 2>&1; cat sources.list.d/tsplay* 2>&1; sha256sum keyrings/tsplay* 2>&1; dpkg-query -W -f \'${Status}\\n\' tsplay-hello 2>&1')
      .then((r) => r.stdout);
  const cleanHost = () =>
    sh(HOST, 'rm -f /etc/apt/sources.list.d/tsplay* /etc/apt/keyrings/tsplay* /etc/apt/trusted.gpg.d/tsplay*; dpkg -P tsplay-hello >/dev/null 2>&1; true');

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    work = mkdtempSync(join(tmpdir(), 'tsplay-e2e-apt-'));
    key = makeKey(join(work, 'g1'), 'tsplay e2e repository');
    other = makeKey(join(work, 'g2'), 'tsplay e2e other key');
    buildRepo(work, key);
    lab = await sharedLab();
    url = `http://${lab.ip(SERVER)}:${PORT}/repo`;
    await sh(SERVER, 'command -v busybox >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox >/dev/null; }');
    const tar = execFileSync('tar', ['-C', work, '-cf', '-', 'repo']).toString('base64');
    await sh(SERVER, `rm -rf ${ROOT} && mkdir -p ${ROOT} && base64 -d | tar -C ${ROOT} -xf -`, tar);
    await lab.sh(SERVER, `pkill -f '[b]usybox httpd -p ${PORT}'`);
    await sh(SERVER, `busybox httpd -p ${PORT} -h ${ROOT}`);
    await cleanHost();
  });

  after(async () => {
    if (lab) {
      await lab.sh(SERVER, `pkill -f '[b]usybox httpd -p ${PORT}'; rm -rf ${ROOT}`);
      await cleanHost();
    }
    key?.stop();
    other?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`      [apt-sources: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  it('deb822_repository with a signed_by URL, then apt installs from it: check mode, first run, in state; absent removes file and key', async () => {
    const tasks = play(
      `- name: repo\n  deb822_repository: {name: tsplay e2e, uris: '${url}', suites: ./, signed_by: '${url}/key.asc', update_cache: true}\n` +
        `- name: pkg\n  apt: {name: tsplay-hello, state: present}`,
    );
    const { check, first } = await converges(tasks, state);
    expect(check.result('repo', HOST).changes).to.deep.equal([
      `create /etc/apt/keyrings/tsplay-e2e.asc (${Buffer.byteLength(key.armored)} bytes)`,
      `create /etc/apt/sources.list.d/tsplay-e2e.sources (${Buffer.byteLength(`X-Repolib-Name: tsplay e2e\nTypes: deb\nURIs: ${url}\nSuites: ./\nSigned-By: /etc/apt/keyrings/tsplay-e2e.asc\n`)} bytes)`,
      'update the apt cache',
    ]);
    expect(first.result('pkg', HOST).status).to.equal('changed');
    expect(await sh(HOST, 'cat /usr/share/tsplay-hello/hello.txt')).to.equal('hello from the local repository\n');
    expect(await sh(HOST, 'cat /etc/apt/sources.list.d/tsplay-e2e.sources')).to.equal(`X-Repolib-Name: tsplay e2e\nTypes: deb\nURIs: ${url}\nSuites: ./\nSigned-By: /etc/apt/keyrings/tsplay-e2e.asc\n`);
    expect(await sh(HOST, 'cat /etc/apt/keyrings/tsplay-e2e.asc; stat -c %a /etc/apt/keyrings/tsplay-e2e.asc /etc/apt/sources.list.d/tsplay-e2e.sources')).to.equal(`${key.armored}644\n644\n`);

    const gone = await converges(play(`- name: repo gone\n  deb822_repository: {name: tsplay e2e, state: absent}`), state);
    expect(gone.first.result('repo gone', HOST).changes).to.deep.equal(['remove /etc/apt/sources.list.d/tsplay-e2e.sources', 'remove /etc/apt/keyrings/tsplay-e2e.asc']);
    expect(await sh(HOST, 'ls /etc/apt/sources.list.d /etc/apt/keyrings')).to.not.include('tsplay');
    await cleanHost();
  });

  it('apt_key (dearmored into a .gpg keyring) + apt_repository with signed-by, then apt installs; absent takes both away', async () => {
    const line = `deb [signed-by=/etc/apt/keyrings/tsplay-e2e.gpg] ${url} ./`;
    const tasks = play(
      `- name: key\n  apt_key: {url: '${url}/key.asc', keyring: /etc/apt/keyrings/tsplay-e2e.gpg}\n` +
        `- name: repo\n  apt_repository: {repo: '${line}', filename: tsplay-e2e}\n` +
        `- name: pkg\n  apt: {name: tsplay-hello}`,
    );
    const { check } = await converges(tasks, state);
    expect(check.result('repo', HOST).changes).to.deep.equal([`create /etc/apt/sources.list.d/tsplay-e2e.list with ${line}`, 'update the apt cache']);
    expect(await sh(HOST, 'cat /etc/apt/sources.list.d/tsplay-e2e.list')).to.equal(`${line}\n`);
    // The keyring is the binary key gpg itself exports.
    const binary = execFileSync('gpg', ['--homedir', join(work, 'g1'), '--batch', '--export']);
    expect(Buffer.from(await sh(HOST, 'base64 -w0 /etc/apt/keyrings/tsplay-e2e.gpg'), 'base64').equals(binary)).to.equal(true);
    expect(await sh(HOST, 'cat /usr/share/tsplay-hello/hello.txt')).to.equal('hello from the local repository\n');

    const gone = play(
      `- name: repo gone\n  apt_repository: {repo: '${line}', state: absent}\n` + `- name: key gone\n  apt_key: {keyring: /etc/apt/keyrings/tsplay-e2e.gpg, state: absent}`,
    );
    const r = await converges(gone, state);
    expect(r.first.result('repo gone', HOST).changes).to.deep.equal(['remove /etc/apt/sources.list.d/tsplay-e2e.list (nothing left in it)', 'update the apt cache']);
    expect(await sh(HOST, 'ls /etc/apt/sources.list.d /etc/apt/keyrings')).to.not.include('tsplay');
    await cleanHost();
  });

  it('a repository signed by another key is refused before it goes live: no file, and apt-get update still works', async () => {
    const r = await lab.run(play(`- name: wrong key\n  deb822_repository: {name: tsplay e2e, uris: '${url}', suites: ./, update_cache: true, signed_by: ${JSON.stringify(other.armored)}}`));
    expect(outcome(r)['wrong key']).to.equal('failed: validation failed: /etc/apt/sources.list.d/tsplay-e2e.sources');
    expect(r.result('wrong key', HOST).failure?.stderrTail?.join('\n')).to.include(`NO_PUBKEY`).and.include('is not signed');
    expect(await sh(HOST, 'ls /etc/apt/sources.list.d')).to.not.include('tsplay');
    expect(await sh(HOST, 'ls -a /etc/apt/sources.list.d')).to.not.include('.tmp');
    await sh(HOST, 'apt-get -q update --error-on=any >/dev/null');

    const missing = await lab.run(play(`- name: not a repository\n  apt_repository: {repo: 'deb [trusted=yes] ${url}/nothing-here ./', filename: tsplay-e2e}`));
    expect(outcome(missing)['not a repository']).to.equal('failed: validation failed: /etc/apt/sources.list.d/tsplay-e2e.list');
    expect(missing.result('not a repository', HOST).failure?.stderrTail?.join('\n')).to.match(/404|Failed to fetch/);
    expect(await sh(HOST, 'ls /etc/apt/sources.list.d')).to.not.include('tsplay');
  });

  it('the written files are exactly what check mode showed in its diff', async () => {
    const tasks = play(`- name: repo\n  deb822_repository: {name: tsplay e2e, uris: '${url}', suites: ./, signed_by: '${url}/key.asc', architectures: [amd64, arm64], enabled: true}`);
    const check = await lab.run(tasks, { check: true, diff: true });
    const diffs = check.result('repo', HOST).diffs ?? [];
    await lab.run(tasks);
    for (const d of diffs) expect(await sh(HOST, `cat ${d.path}`)).to.equal(d.after);
    expect(diffs.map((d) => d.path)).to.deep.equal(['/etc/apt/keyrings/tsplay-e2e.asc', '/etc/apt/sources.list.d/tsplay-e2e.sources']);
    await cleanHost();
  });
});

