/**
 * End to end, the second part of the everyday modules (get_url, uri, unarchive) on real Debian
 * lab hosts: e2e2 serves files and a CGI API with busybox httpd (installed from the lab's apt
 * mirror: never the internet), e2e1 downloads and calls it through the real engine and SSH.
 * Each state module: check mode reports the change and leaves the host as it was, the first run
 * changes, the second changes nothing. Each test puts back what it changed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { converges as convergesOn, debugged as debuggedOn, outcome as outcomeOn, playOn } from '../helpers/converge.js';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';
const SERVER = 'e2e2';
const PORT = 8099;

/** The CGI script of the API: answers with the method, the query, a header and the body, as JSON. */
const API_CGI = `#!/bin/sh
body=$(head -c "\${CONTENT_LENGTH:-0}")
if [ "$QUERY_STRING" = "missing" ]; then printf 'Status: 404 Not Found\\r\\nContent-Type: text/plain\\r\\n\\r\\nnot here\\n'; exit 0; fi
printf 'Content-Type: application/json\\r\\nX-Api: yes\\r\\n\\r\\n'
printf '{"method": "%s", "query": "%s", "token": "%s", "type": "%s", "body": %s}\\n' "$REQUEST_METHOD" "$QUERY_STRING" "$HTTP_X_TOKEN" "$CONTENT_TYPE" "\${body:-null}"
`;

describe('everyday modules, part 2: get_url, uri, unarchive (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let base = '';
  let t0 = 0;

  const play = playOn(HOST);
  const outcome = (r: LabRun) => outcomeOn(r, HOST);
  const converges = (playbook: string, inspect: () => Promise<string>, files?: Record<string, string | Buffer>) => convergesOn(lab, HOST, playbook, inspect, { files });
  const debugged = (r: LabRun, task: string) => debuggedOn(r, task, HOST);

  async function sh(host: string, cmd: string): Promise<string> {
    const r = await lab.sh(host, cmd);
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }
  /** Writes a file the server serves. */
  const serve = (path: string, content: string) => lab.sh(SERVER, `mkdir -p "$(dirname /srv/www/${path})" && cat > /srv/www/${path}`, { input: content });

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
    base = `http://${lab.ip(SERVER)}:${PORT}`;
    await sh(SERVER, 'command -v busybox >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox >/dev/null; }');
    await sh(SERVER, 'mkdir -p /srv/www/cgi-bin');
    await lab.sh(SERVER, 'cat > /srv/www/cgi-bin/api && chmod 0755 /srv/www/cgi-bin/api', { input: API_CGI });
    await lab.sh(SERVER, `pkill -f '[b]usybox httpd -p ${PORT}'`);
    await sh(SERVER, `busybox httpd -p ${PORT} -h /srv/www`);
  });

  after(async () => {
    await lab.sh(SERVER, `pkill -f '[b]usybox httpd -p ${PORT}'; rm -rf /srv/www`);
    console.log(`      [everyday-modules-2: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  // ---- get_url ---------------------------------------------------------------------------

  describe('get_url', () => {
    const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
    const file = () => lab.sh(HOST, 'cat /tmp/e2e-get/hello.txt 2>&1; stat -c %a /tmp/e2e-get/hello.txt 2>&1').then((r) => r.stdout);
    beforeEach(() => sh(HOST, 'rm -rf /tmp/e2e-get && mkdir -p /tmp/e2e-get'));
    after(() => sh(HOST, 'rm -rf /tmp/e2e-get'));

    it('downloads on the host with a checksum and a mode into a folder: check mode, download, then in state', async () => {
      await serve('hello.txt', 'hello\n');
      const { check, first } = await converges(play(`- name: get\n  get_url: {url: '${base}/hello.txt', dest: /tmp/e2e-get/, checksum: 'sha256:${sha256('hello\n')}', mode: '0600'}`), file);
      expect(check.result('get', HOST).changes).to.deep.equal([`download ${base}/hello.txt to /tmp/e2e-get/hello.txt`]);
      expect(await file()).to.equal('hello\n600\n');
      expect(first.result('get', HOST).status).to.equal('changed');
    });

    it('fails on a checksum mismatch and leaves nothing behind', async () => {
      await serve('hello.txt', 'hello\n');
      const r = await lab.run(play(`- name: get\n  get_url: {url: '${base}/hello.txt', dest: /tmp/e2e-get/hello.txt, checksum: 'sha256:${sha256('other\n')}'}`));
      expect(outcome(r).get).to.match(/^failed: /);
      expect(r.result('get', HOST).failure?.stderrTail?.join('\n')).to.include(`checksum mismatch: the download's sha256 is ${sha256('hello\n')}`);
      expect(await sh(HOST, 'ls -A /tmp/e2e-get')).to.equal('');
    });

    it('force replaces the file only when the URL serves other content (check mode knows)', async () => {
      await serve('hello.txt', 'v1\n');
      const pb = play(`- name: get\n  get_url: {url: '${base}/hello.txt', dest: /tmp/e2e-get/hello.txt, force: true}`);
      await converges(pb, file);
      await serve('hello.txt', 'v2\n');
      await converges(pb, file);
      expect(await file()).to.equal('v2\n644\n');
      // Without force an existing file is kept, whatever the URL serves.
      await serve('hello.txt', 'v3\n');
      const kept = await lab.run(play(`- name: get\n  get_url: {url: '${base}/hello.txt', dest: /tmp/e2e-get/hello.txt}`));
      expect(outcome(kept)).to.deep.equal({ get: 'ok' });
      expect(await file()).to.equal('v2\n644\n');
    });

    it('via: controller downloads on the controller and writes like copy', async () => {
      await serve('hello.txt', 'from the controller\n');
      const { check } = await converges(play(`- name: get\n  get_url: {url: '${base}/hello.txt', dest: /tmp/e2e-get/hello.txt, via: controller, mode: '0640'}`), file);
      expect(check.result('get', HOST).diffs?.[0]).to.include({ path: '/tmp/e2e-get/hello.txt', before: null, after: 'from the controller\n' });
      expect(await file()).to.equal('from the controller\n640\n');
    });

    it('an HTTP error fails the task with the status', async () => {
      const r = await lab.run(play(`- name: get\n  get_url: {url: '${base}/nope.txt', dest: /tmp/e2e-get/nope.txt}`));
      expect(outcome(r).get).to.match(/^failed: /);
      expect(r.result('get', HOST).failure?.stderrTail?.join('\n')).to.match(/404/);
    });
  });
  // ---- uri -------------------------------------------------------------------------------

  describe('uri', () => {
    it('GET with a header registers status, headers, json and content; check mode does not run it', async () => {
      const pb = play(`- name: call
  uri: {url: '${base}/cgi-bin/api?x=1', headers: {X-Token: abc}, return_content: true}
  register: r
- name: show
  debug: {var: r}`);
      const run = await lab.run(pb);
      expect(outcome(run)).to.deep.equal({ call: 'ok', show: 'ok' });
      const r = debugged(run, 'show') as Record<string, unknown>;
      expect(r).to.include({ status: 200, url: `${base}/cgi-bin/api?x=1`, redirected: false, x_api: 'yes', content_type: 'application/json', changed: false });
      expect(r.json).to.deep.equal({ method: 'GET', query: 'x=1', token: 'abc', type: '', body: null });
      expect(r.content).to.be.a('string').that.includes('"method": "GET"');
      const check = await lab.run(pb, { check: true });
      expect(outcome(check)).to.deep.equal({ call: 'ok', show: 'ok' });
      expect(debugged(check, 'show')).to.include({ msg: 'not run in check mode' }).and.not.have.property('status');
    });

    it('POST a JSON body: the server gets it; changed only through changed_when', async () => {
      const run = await lab.run(play(`- name: create
  uri: {url: '${base}/cgi-bin/api', method: POST, body_format: json, body: {name: admin, n: 2}}
  register: r
  changed_when: r.json.method == 'POST'
- name: plain
  uri: {url: '${base}/cgi-bin/api', method: POST, body: 'raw text'}
- name: show
  debug: {var: r}`));
      expect(outcome(run)).to.deep.equal({ create: 'changed', plain: 'ok', show: 'ok' });
      const r = debugged(run, 'show') as { json: Record<string, unknown>; content?: string };
      expect(r.json).to.deep.equal({ method: 'POST', query: '', token: '', type: 'application/json', body: { name: 'admin', n: 2 } });
      expect(r).to.not.have.property('content');
    });

    it('an unexpected status fails the task and still registers status and content; status_code accepts it', async () => {
      const run = await lab.run(play(`- name: missing
  uri: {url: '${base}/cgi-bin/api?missing'}
  register: r
  ignore_errors: true
- name: show
  debug: {var: r}
- name: expected
  uri: {url: '${base}/cgi-bin/api?missing', status_code: [200, 404]}`));
      const o = outcome(run);
      expect(o.missing).to.match(/^failed: /);
      expect(o.expected).to.equal('ok');
      const r = debugged(run, 'show') as Record<string, unknown>;
      expect(r).to.include({ status: 404, failed: true, content: 'not here\n' });
      expect(run.result('missing', HOST).failure?.stderrTail?.join('\n')).to.include('Status code was 404 and not [200]');
    });

    it('no server: status -1 and the reason', async () => {
      const run = await lab.run(play(`- name: down
  uri: {url: 'http://${'127.0.0.1'}:1/', timeout: 5}
  register: r
  failed_when: false
- name: show
  debug: {var: r}`));
      expect(outcome(run)).to.deep.equal({ down: 'ok', show: 'ok' });
      expect(debugged(run, 'show')).to.include({ status: -1 }).and.have.property('msg').that.matches(/^Status code was -1 and not \[200\]: Request failed: curl: \(7\)/);
    });
  });
  // ---- unarchive -------------------------------------------------------------------------

  describe('unarchive', () => {
    const tree = () => lab.sh(HOST, "cd /tmp/e2e-un 2>/dev/null && find . -printf '%p %y %u %s\\n' | sort").then((r) => r.stdout);
    beforeEach(() => sh(HOST, 'rm -rf /tmp/e2e-un /tmp/e2e-un-src /tmp/e2e-un.tgz && mkdir -p /tmp/e2e-un'));
    after(() => sh(HOST, 'rm -rf /tmp/e2e-un /tmp/e2e-un-src /tmp/e2e-un.tgz'));

    /** A tar.gz made on the controller: app/bin/run, app/README, a link. */
    function archive(): Buffer {
      const d = mkdtempSync(join(tmpdir(), 'tsplay-e2e-un-'));
      try {
        mkdirSync(join(d, 'app/bin'), { recursive: true });
        writeFileSync(join(d, 'app/bin/run'), '#!/bin/sh\necho run\n');
        writeFileSync(join(d, 'app/README'), 'read me\n');
        utimesSync(join(d, 'app/README'), 1700000000, 1700000000);
        execFileSync('ln', ['-s', 'bin/run', join(d, 'app/start')]);
        execFileSync('tar', ['-czf', join(d, 'app.tar.gz'), '-C', d, 'app']);
        return readFileSync(join(d, 'app.tar.gz'));
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    }

    it('from the controller, with an owner: check mode, extract, then in state; a changed file is put back', async () => {
      const files = { 'files/app.tar.gz': archive() };
      const pb = play(`- name: unpack\n  unarchive: {src: app.tar.gz, dest: /tmp/e2e-un, owner: nobody, list_files: true}\n  register: un\n- name: show\n  debug: {var: un}`);
      const convergesUnpack = async () => {
        const check = await lab.run(pb, { check: true, files });
        expect(outcome(check)).to.deep.equal({ unpack: 'changed', show: 'ok' });
        const first = await lab.run(pb, { files });
        expect(outcome(first)).to.deep.equal({ unpack: 'changed', show: 'ok' });
        const second = await lab.run(pb, { files });
        expect(outcome(second)).to.deep.equal({ unpack: 'ok', show: 'ok' });
        return second;
      };
      const before = await tree();
      const second = await convergesUnpack();
      expect(before).to.equal('. d root 4096\n');
      expect(await tree()).to.equal(['. d root 4096', './app d nobody 4096', './app/README f nobody 8', './app/bin d nobody 4096', './app/bin/run f nobody 19', './app/start l nobody 7', ''].join('\n'));
      expect(debugged(second, 'show')).to.include({ dest: '/tmp/e2e-un', handler: 'TgzArchive' }).and.have.property('files').that.includes('app/bin/run');
      expect(await sh(HOST, 'stat -c %Y /tmp/e2e-un/app/README')).to.equal('1700000000\n');
      expect(await sh(HOST, 'ls -A /tmp | grep tsplay-unarchive || true')).to.equal('');
      await sh(HOST, 'echo changed > /tmp/e2e-un/app/README');
      await convergesUnpack();
      expect(await sh(HOST, 'cat /tmp/e2e-un/app/README')).to.equal('read me\n');
    });

    it('remote_src: the host\'s tar compares contents; creates skips', async () => {
      await sh(HOST, "mkdir -p /tmp/e2e-un-src/app && printf 'v1\\n' > /tmp/e2e-un-src/app/conf && tar -czf /tmp/e2e-un.tgz -C /tmp/e2e-un-src app");
      await converges(play('- name: unpack\n  unarchive: {src: /tmp/e2e-un.tgz, dest: /tmp/e2e-un, remote_src: true}'), tree);
      // Same size and time, other contents: only tar --diff sees it.
      await sh(HOST, "printf 'v2\\n' > /tmp/e2e-un/app/conf && touch -r /tmp/e2e-un-src/app/conf /tmp/e2e-un/app/conf");
      const again = await lab.run(play('- name: unpack\n  unarchive: {src: /tmp/e2e-un.tgz, dest: /tmp/e2e-un, remote_src: true}'));
      expect(outcome(again)).to.deep.equal({ unpack: 'changed' });
      expect(await sh(HOST, 'cat /tmp/e2e-un/app/conf')).to.equal('v1\n');
      await sh(HOST, "printf 'v3\\n' > /tmp/e2e-un/app/conf");
      const skipped = await lab.run(play('- name: unpack\n  unarchive: {src: /tmp/e2e-un.tgz, dest: /tmp/e2e-un, remote_src: true, creates: /tmp/e2e-un/app}'));
      expect(outcome(skipped)).to.deep.equal({ unpack: 'ok' });
      expect(await sh(HOST, 'cat /tmp/e2e-un/app/conf')).to.equal('v3\n');
    });

    it('a missing dest fails with its name', async () => {
      const r = await lab.run(play('- name: unpack\n  unarchive: {src: app.tar.gz, dest: /tmp/e2e-un/nope}'), { files: { 'files/app.tar.gz': archive() } });
      expect(outcome(r).unpack).to.equal('failed: unarchive: dest /tmp/e2e-un/nope must be an existing folder');
    });
  });
});
